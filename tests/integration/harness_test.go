//go:build integration

// Package integration runs the program through the real Pulumi engine (Automation
// API, inline program) against a real kube-apiserver with kwok as the kubelet
// (scripts/cluster.sh). scripts/test.sh builds the tools and runs it:
//
//	go test -tags integration ./tests/integration/...
package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

var (
	repoRoot   string
	kubeconfig string
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	repoRoot = harness.RepoRoot()
	if err := harness.ToolsAndProvider(repoRoot); err != nil {
		return 1, err
	}
	clusterDir, err := os.MkdirTemp("", "umbrella-cluster-")
	if err != nil {
		return 1, err
	}
	os.Setenv("UMBRELLA_CLUSTER_DIR", clusterDir)
	disarm, err := harness.Watchdog(repoRoot, "cluster.sh")
	if err != nil {
		return 1, err
	}
	defer disarm() // after the teardown below (defers run last-in first-out)
	out, err := harness.Script(repoRoot, "cluster.sh", "start")
	if err != nil {
		return 1, err
	}
	harness.ApplyExports(out)
	kubeconfig = os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		return 1, fmt.Errorf("scripts/cluster.sh start printed no KUBECONFIG")
	}
	defer func() {
		_, _ = harness.Script(repoRoot, "cluster.sh", "stop")
		os.RemoveAll(clusterDir)
	}()
	// Namespaces a real platform cluster already has.
	for _, ns := range []string{"umbrella-infra", "monitoring"} {
		if _, err := kubectl("create", "namespace", ns); err != nil {
			return 1, err
		}
	}
	return m.Run(), nil
}

// The shared harness, bound to this tier's cluster.
func kube() harness.Kube                                  { return harness.Kube{Config: kubeconfig} }
func kubectl(args ...string) (string, error)              { return kube().Run(args...) }
func getJSON(t *testing.T, args ...string) map[string]any { return kube().GetJSON(t, args...) }
func exists(args ...string) bool                          { return kube().Exists(args...) }
func path(v any, keys ...any) any                         { return harness.Path(v, keys...) }
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	harness.WaitFor(t, timeout, what, cond)
}

// openStack opens a stack with its own state dir and the local cluster's kubeconfig.
func openStack(t *testing.T, ctx context.Context, stack, stateDir string, cfg map[string]string) *deploy.Stack {
	t.Helper()
	return harness.OpenStack(t, ctx, repoRoot, kubeconfig, stack, stateDir, plaintextProd(stack, cfg))
}

// plaintextProd runs the prod stack with security.mode none in this tier,
// unless a test sets security itself: kwok starts no broker pod, and the
// Kafka these tests reach is a loopback localkafka with its own listeners,
// so the prod stack's generated certificates could not reach it. The secure
// mode is proven where brokers run: tests/realkafka and tests/realnode.
func plaintextProd(stack string, cfg map[string]string) map[string]string {
	if stack != "prod" {
		return cfg
	}
	if _, set := cfg["security"]; set {
		return cfg
	}
	out := map[string]string{"security": `{"mode":"none"}`}
	for k, v := range cfg {
		out[k] = v
	}
	return out
}

// testWriter sends engine progress to the test log.
type testWriter = harness.TestWriter

// ownNamespace gives a test that deploys the program a cluster without the
// program's namespace, and leaves it so: destroy keeps the namespace and the
// broker volumes by design (tests/integration/lifecycle_test.go), so without
// this each test would find the claims and objects the one before it left, and
// pass or fail by the order they run in. At the test's end the namespace goes,
// and the PersistentVolumes its claims held (reclaim policy Retain, so
// Released) are made Available again for the next test, as an operator
// recycles a retained volume: by removing its claimRef.
func ownNamespace(t *testing.T) {
	t.Helper()
	require.False(t, exists("namespace", config.DefaultNamespace),
		"namespace %s is left from an earlier test", config.DefaultNamespace)
	t.Cleanup(func() {
		_, err := kubectl("delete", "namespace", config.DefaultNamespace, "--ignore-not-found", "--wait=true", "--timeout=180s")
		require.NoError(t, err, "deleting the test's namespace")
		// The PV controller marks a volume Released some time after its claim goes.
		waitFor(t, 2*time.Minute, "every PV Available again", func() bool {
			out, err := kubectl("get", "pv", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\n"}{end}`)
			if err != nil {
				return false
			}
			available := true
			for _, l := range strings.Fields(out) {
				pv, phase, _ := strings.Cut(l, "=")
				if phase == "Released" {
					_, err = kubectl("patch", "pv", pv, "--type", "json", "-p", `[{"op":"remove","path":"/spec/claimRef"}]`)
				}
				available = available && phase == "Available"
			}
			return available && err == nil
		})
	})
}
