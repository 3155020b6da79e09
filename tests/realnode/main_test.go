//go:build realnode

// Package realnode runs the program through the real Pulumi engine against the
// local control plane with real nodes: a kubelet, containerd, runc, the CNI bridge,
// kube-proxy and CoreDNS (scripts/node.sh), pulling the images scripts/images.sh
// built into a registry on 127.0.0.1. Nothing here is faked: the broker pods run the
// entrypoint, are probed, and serve clients. Needs root. scripts/test.sh runs it:
//
//	go test -tags realnode ./tests/realnode/
package realnode

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

var (
	repoRoot   string
	kubeconfig string
	registry   string // host:port of the local registry
	nodeDir    string // scripts/node.sh state (containerd sockets)
	nodes      = 3    // real nodes (UMBRELLA_REALNODE_NODES): prod needs three
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "realnode setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (code int, err error) {
	if os.Geteuid() != 0 {
		return 1, fmt.Errorf("the real node tier needs root (network, mounts, containerd)")
	}
	repoRoot = harness.RepoRoot()
	if err := harness.ToolsAndProvider(repoRoot); err != nil {
		return 1, err
	}
	clusterDir, err := os.MkdirTemp("", "umbrella-realnode-cluster-")
	if err != nil {
		return 1, err
	}
	nodeDir = clusterDir + "-node"
	os.Setenv("UMBRELLA_CLUSTER_DIR", clusterDir)
	os.Setenv("UMBRELLA_NODE_DIR", nodeDir)
	os.Setenv("UMBRELLA_CLUSTER_NODES", "0") // no fake node may take a pod
	os.Setenv("UMBRELLA_CLUSTER_PVS", "0")   // scripts/node.sh makes local PVs on its node
	disarm, err := harness.Watchdog(repoRoot, "node.sh", "cluster.sh")
	if err != nil {
		return 1, err
	}
	defer disarm() // after the teardown below (defers run last-in first-out)
	defer func() {
		for _, s := range []string{"monitoring.sh", "node.sh", "cluster.sh"} {
			if _, err := harness.Script(repoRoot, s, "stop"); err != nil && code == 0 {
				code = 1
				fmt.Fprintln(os.Stderr, err)
			}
		}
		os.RemoveAll(clusterDir)
	}()
	out, err := harness.Script(repoRoot, "cluster.sh", "start")
	if err != nil {
		return 1, err
	}
	harness.ApplyExports(out)
	kubeconfig = os.Getenv("KUBECONFIG")
	if n, err := strconv.Atoi(os.Getenv("UMBRELLA_REALNODE_NODES")); err == nil {
		nodes = n
	}
	out, err = startNodes(nodes)
	if err != nil {
		return 1, err
	}
	harness.ApplyExports(out)
	registry = os.Getenv("UMBRELLA_REGISTRY")
	if kubeconfig == "" || registry == "" {
		return 1, fmt.Errorf("the scripts printed no KUBECONFIG / UMBRELLA_REGISTRY")
	}
	// The platform's monitoring, as a cluster has it before our stack comes:
	// the Prometheus Operator and a Prometheus in namespace monitoring.
	if out, err = harness.Script(repoRoot, "monitoring.sh", "start"); err != nil {
		return 1, err
	}
	harness.ApplyExports(out)
	for _, ns := range []string{"umbrella-infra"} { // monitoring.sh made monitoring
		if _, err := kubectl("create", "namespace", ns); err != nil {
			return 1, err
		}
	}
	return m.Run(), nil
}

// startNodes runs scripts/node.sh start. Unless UMBRELLA_REGISTRY_PORT names
// the registry's port, it is a free one picked here; the registry binds it
// seconds later, so another process may take it meanwhile (issue 24 item 11):
// a start whose registry could not bind is retried on another port.
func startNodes(n int) (string, error) {
	if os.Getenv("UMBRELLA_REGISTRY_PORT") != "" {
		return harness.Script(repoRoot, "node.sh", "start", strconv.Itoa(n))
	}
	return onFreePort(3, freePort, func(port int) (string, error) {
		os.Setenv("UMBRELLA_REGISTRY_PORT", strconv.Itoa(port))
		return harness.Script(repoRoot, "node.sh", "start", strconv.Itoa(n))
	}, registryBindFailed)
}

// onFreePort calls start with a port from pick, and again with a new one, up
// to attempts times, while it fails and bindFailed says the port was taken.
func onFreePort(attempts int, pick func() (int, error), start func(port int) (string, error), bindFailed func(error) bool) (string, error) {
	for i := 1; ; i++ {
		port, err := pick()
		if err != nil {
			return "", err
		}
		out, err := start(port)
		if err == nil || i == attempts || !bindFailed(err) {
			return out, err
		}
		fmt.Fprintf(os.Stderr, "realnode setup: port %d was taken before the registry bound it; again on another port\n", port)
	}
}

// registryBindFailed reports whether scripts/node.sh's registry exited
// because its address was in use (its log, in the node state dir).
func registryBindFailed(error) bool {
	b, err := os.ReadFile(filepath.Join(nodeDir, "logs", "registry.log"))
	return err == nil && addressInUse(string(b))
}

// addressInUse reports whether a server's output says its listen address was
// taken.
func addressInUse(output string) bool { return strings.Contains(output, "address already in use") }

// freePort is a port free on 127.0.0.1 now; nothing holds it once returned.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// The shared harness, bound to this tier's cluster.
func kube() harness.Kube                                     { return harness.Kube{Config: kubeconfig} }
func kubectl(args ...string) (string, error)                 { return kube().Run(args...) }
func kubectlIn(stdin string, args ...string) (string, error) { return kube().RunIn(stdin, args...) }
func getJSON(t *testing.T, args ...string) map[string]any    { return kube().GetJSON(t, args...) }
func path(v any, keys ...any) any                            { return harness.Path(v, keys...) }
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	harness.WaitFor(t, timeout, what, cond)
}

// podReady reports the pod's Ready condition (false when the pod is absent).
func podReady(ns, pod string) bool {
	out, err := kubectl("-n", ns, "get", "pod", pod, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
	return err == nil && out == "True"
}

// openStack opens a stack with its own state dir and the local cluster's kubeconfig.
func openStack(t *testing.T, ctx context.Context, stack, stateDir string, cfg map[string]string) *deploy.Stack {
	t.Helper()
	return harness.OpenStack(t, ctx, repoRoot, kubeconfig, stack, stateDir, cfg)
}
