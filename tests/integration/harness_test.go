//go:build integration

// Package integration runs the program through the real Pulumi engine (Automation
// API, inline program) against a real kube-apiserver with kwok as the kubelet
// (scripts/cluster.sh). scripts/test.sh builds the tools and runs it:
//
//	go test -tags integration ./tests/integration/...
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
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
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	// Tools on PATH: the Pulumi CLI, the Kubernetes provider plugin, our provider.
	envOut, err := exec.Command("bash", filepath.Join(repoRoot, "scripts/tools.sh"), "env").Output()
	if err != nil {
		return 1, fmt.Errorf("scripts/tools.sh env: %w (build the tools with scripts/tools.sh all)", err)
	}
	applyExports(string(envOut))
	bin := filepath.Join(repoRoot, "bin")
	// UMBRELLA_PROVIDER_PREBUILT=1 uses bin/ as it is (to test a provider built elsewhere).
	if os.Getenv("UMBRELLA_PROVIDER_PREBUILT") != "1" {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, "pulumi-resource-umbrellakafka"), "./cmd/pulumi-resource-umbrellakafka")
		build.Dir = repoRoot
		if out, err := build.CombinedOutput(); err != nil {
			return 1, fmt.Errorf("building the topic provider: %v\n%s", err, out)
		}
	}
	os.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	for _, tool := range []string{"pulumi", "pulumi-resource-kubernetes", "kubectl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return 1, fmt.Errorf("%s not on PATH: run scripts/tools.sh all", tool)
		}
	}

	clusterDir, err := os.MkdirTemp("", "umbrella-cluster-")
	if err != nil {
		return 1, err
	}
	os.Setenv("UMBRELLA_CLUSTER_DIR", clusterDir)
	start := exec.Command("bash", filepath.Join(repoRoot, "scripts/cluster.sh"), "start")
	start.Stderr = os.Stderr
	out, err := start.Output()
	if err != nil {
		return 1, fmt.Errorf("scripts/cluster.sh start: %w", err)
	}
	applyExports(string(out))
	kubeconfig = os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		return 1, fmt.Errorf("scripts/cluster.sh start printed no KUBECONFIG")
	}
	defer func() {
		stop := exec.Command("bash", filepath.Join(repoRoot, "scripts/cluster.sh"), "stop")
		stop.Stdout, stop.Stderr = os.Stderr, os.Stderr
		_ = stop.Run()
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

// applyExports sets the variables of `export NAME=value` lines.
func applyExports(text string) {
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		v = os.Expand(v, os.Getenv)
		os.Setenv(k, v)
	}
}

// kubectl runs kubectl against the local cluster.
func kubectl(args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// getJSON reads one object from the API server.
func getJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, err := kubectl(append([]string{"get", "-o", "json"}, args...)...)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &obj))
	return obj
}

// exists reports whether the object exists.
func exists(args ...string) bool {
	_, err := kubectl(append([]string{"get"}, args...)...)
	return err == nil
}

// path walks nested maps/slices: path(obj, "spec", "template", 0, "name").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch key := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[key]
		case int:
			s, ok := v.([]any)
			if !ok || key >= len(s) {
				return nil
			}
			v = s[key]
		}
	}
	return v
}

// openStack opens a stack with its own state dir and the local cluster's kubeconfig.
func openStack(t *testing.T, ctx context.Context, stack, stateDir string, cfg map[string]string) *deploy.Stack {
	t.Helper()
	st, err := deploy.Open(ctx, deploy.Options{
		Stack:      stack,
		ProjectDir: repoRoot,
		StateDir:   stateDir,
		Env:        map[string]string{"KUBECONFIG": kubeconfig},
		Config:     cfg,
		Progress:   testWriter{t},
	})
	require.NoError(t, err)
	return st
}

// testWriter sends engine progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	require.Failf(t, "timed out", "waiting for %s", what)
}
