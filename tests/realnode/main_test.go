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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
)

var (
	repoRoot   string
	kubeconfig string
	registry   string // host:port of the local registry
	nodeDir    string // scripts/node.sh state (containerd sockets)
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
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	envOut, err := exec.Command("bash", filepath.Join(repoRoot, "scripts/tools.sh"), "env").Output()
	if err != nil {
		return 1, fmt.Errorf("scripts/tools.sh env: %w", err)
	}
	applyExports(string(envOut))
	bin := filepath.Join(repoRoot, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "pulumi-resource-umbrellakafka"), "./cmd/pulumi-resource-umbrellakafka")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("building the topic provider: %v\n%s", err, out)
	}
	os.Setenv("PATH", bin+":"+os.Getenv("PATH"))

	clusterDir, err := os.MkdirTemp("", "umbrella-realnode-cluster-")
	if err != nil {
		return 1, err
	}
	nodeDir = clusterDir + "-node"
	os.Setenv("UMBRELLA_CLUSTER_DIR", clusterDir)
	os.Setenv("UMBRELLA_NODE_DIR", nodeDir)
	os.Setenv("UMBRELLA_CLUSTER_NODES", "0") // no fake node may take a pod
	os.Setenv("UMBRELLA_CLUSTER_PVS", "0")   // scripts/node.sh makes local PVs on its node
	if os.Getenv("UMBRELLA_REGISTRY_PORT") == "" {
		os.Setenv("UMBRELLA_REGISTRY_PORT", strconv.Itoa(freePort()))
	}
	defer func() {
		for _, s := range []string{"node.sh", "cluster.sh"} {
			stop := exec.Command("bash", filepath.Join(repoRoot, "scripts", s), "stop")
			stop.Stdout, stop.Stderr = os.Stderr, os.Stderr
			if err := stop.Run(); err != nil && code == 0 {
				code = 1
				fmt.Fprintf(os.Stderr, "scripts/%s stop failed: %v\n", s, err)
			}
		}
		os.RemoveAll(clusterDir)
	}()
	out, err := script("cluster.sh", "start")
	if err != nil {
		return 1, err
	}
	applyExports(out)
	kubeconfig = os.Getenv("KUBECONFIG")
	out, err = script("node.sh", "start", "1")
	if err != nil {
		return 1, err
	}
	applyExports(out)
	registry = os.Getenv("UMBRELLA_REGISTRY")
	if kubeconfig == "" || registry == "" {
		return 1, fmt.Errorf("the scripts printed no KUBECONFIG / UMBRELLA_REGISTRY")
	}
	for _, ns := range []string{"umbrella-infra", "monitoring"} {
		if _, err := kubectl("create", "namespace", ns); err != nil {
			return 1, err
		}
	}
	return m.Run(), nil
}

func script(name string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(repoRoot, "scripts", name)}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// applyExports sets the variables of `export NAME=value` lines.
func applyExports(text string) {
	for _, line := range strings.Split(text, "\n") {
		kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		os.Setenv(k, os.Expand(strings.Trim(v, `"'`), os.Getenv))
	}
}

// kubectl runs kubectl against the local cluster.
func kubectl(args ...string) (string, error) {
	return kubectlIn("", args...)
}

func kubectlIn(stdin string, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %v: %s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.String(), nil
}

// brokerExec runs a command in the broker container. Kafka's CLI tools get a small
// heap: they share the container's memory limit with the broker.
func brokerExec(t *testing.T, pod string, script string) string {
	t.Helper()
	out, err := kubectl("-n", components.Instance, "exec", pod, "-c", components.ContainerName, "--",
		"env", "KAFKA_HEAP_OPTS=-Xmx192m", "/bin/bash", "-c", script)
	require.NoError(t, err)
	return out
}

func getJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, err := kubectl(append([]string{"get", "-o", "json"}, args...)...)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &obj))
	return obj
}

// path walks nested maps/slices: path(obj, "status", "containerStatuses", 0, "ready").
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

// podReady reports the pod's Ready condition (false when the pod is absent).
func podReady(ns, pod string) bool {
	out, err := kubectl("-n", ns, "get", "pod", pod, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
	return err == nil && out == "True"
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
	require.Failf(t, "timed out", "waiting %s for %s", timeout, what)
}
