// Package harness is what the test tiers that drive the real engine against a
// local control plane share (tests/integration on kwok, tests/realnode on a real
// kubelet): the project's scripts, kubectl against that cluster, the engine's
// stacks, and polling.
package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
)

// RepoRoot is the repository root seen from a package two folders below it
// (tests/<tier>).
func RepoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// ApplyExports sets the variables of the `export NAME=value` lines the project's
// scripts print (scripts/tools.sh env, scripts/cluster.sh start, ...). bash
// evaluates them, so quoting and "$PATH" mean what they mean to a shell (reading
// them by hand once glued a quote onto the first PATH entry). Other lines are
// ignored; a line bash refuses panics, as a harness setup error.
func ApplyExports(text string) {
	var exports []string
	for _, line := range strings.Split(text, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "export ") {
			exports = append(exports, l)
		}
	}
	if len(exports) == 0 {
		return
	}
	cmd := exec.Command("bash", "-c", strings.Join(exports, "\n")+"\nenv -0")
	out, err := cmd.Output()
	if err != nil {
		panic(fmt.Sprintf("evaluating the scripts' exports %q: %v", exports, err))
	}
	for _, kv := range strings.Split(string(out), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" && k != "_" && k != "SHLVL" && k != "PWD" && os.Getenv(k) != v {
			os.Setenv(k, v)
		}
	}
}

// Script runs scripts/<name> with bash, its stderr to ours, and returns stdout.
func Script(root, name string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", name)}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}

// ToolsAndProvider puts the cached tools (scripts/tools.sh env) and a fresh build
// of the umbrellakafka provider plugin (in <root>/bin) on PATH. UMBRELLA_PROVIDER_PREBUILT=1 keeps
// bin/ as it is (to test a provider built elsewhere).
func ToolsAndProvider(root string) error {
	env, err := exec.Command("bash", filepath.Join(root, "scripts/tools.sh"), "env").Output()
	if err != nil {
		return fmt.Errorf("scripts/tools.sh env: %w (build the tools with scripts/tools.sh all)", err)
	}
	ApplyExports(string(env))
	bin := filepath.Join(root, "bin")
	if os.Getenv("UMBRELLA_PROVIDER_PREBUILT") != "1" {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, "pulumi-resource-umbrellakafka"), "./cmd/pulumi-resource-umbrellakafka")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building the umbrellakafka provider plugin: %v\n%s", err, out)
		}
	}
	os.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	for _, tool := range []string{"pulumi", "pulumi-resource-kubernetes", "kubectl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not on PATH: run scripts/tools.sh all", tool)
		}
	}
	return nil
}

// Kube runs kubectl against one cluster.
type Kube struct{ Config string }

// Run runs kubectl; the error carries its stderr.
func (k Kube) Run(args ...string) (string, error) { return k.RunIn("", args...) }

// RunIn runs kubectl with stdin.
func (k Kube) RunIn(stdin string, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", k.Config}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// GetJSON reads one object from the API server.
func (k Kube) GetJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, err := k.Run(append([]string{"get", "-o", "json"}, args...)...)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &obj))
	return obj
}

// Exists reports whether the object exists.
func (k Kube) Exists(args ...string) bool {
	_, err := k.Run(append([]string{"get"}, args...)...)
	return err == nil
}

// Path walks nested maps/slices: Path(obj, "spec", "template", 0, "name").
func Path(v any, keys ...any) any {
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

// OpenStack opens a stack of the project at root with its own state dir, driving
// the cluster of kubeconfig.
func OpenStack(t *testing.T, ctx context.Context, root, kubeconfig, stack, stateDir string, cfg map[string]string) *deploy.Stack {
	t.Helper()
	st, err := deploy.Open(ctx, deploy.Options{
		Stack:      stack,
		ProjectDir: root,
		StateDir:   stateDir,
		Env:        EngineEnv(kubeconfig),
		Config:     cfg,
		Progress:   TestWriter{t},
	})
	require.NoError(t, err)
	return st
}

// EngineEnv is what every test adds to the environment of an engine it starts:
// the cluster's kubeconfig, and KUBERNETES_SERVICE_HOST cleared. The provider
// looks up in-cluster broker names only inside a pod, which it knows by that
// variable (provider/dial.go); a CI runner that is itself a pod has it set, the
// engine's plugins inherit it, and the tests' names of a cluster on this machine
// would then go to the runner's DNS server.
func EngineEnv(kubeconfig string) map[string]string {
	return map[string]string{"KUBECONFIG": kubeconfig, "KUBERNETES_SERVICE_HOST": ""}
}

// TestWriter sends engine progress to the test log.
type TestWriter struct{ T *testing.T }

func (w TestWriter) Write(p []byte) (int, error) {
	w.T.Helper()
	w.T.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// WaitFor polls cond every 250 ms until it holds or the timeout passes.
func WaitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
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

// Watchdog starts a process in its own session that waits for this test binary
// to exit and then runs `scripts/<name> stop` for each name, in order, with the
// environment as it is now (the tier's state dirs). A test binary that panics or
// hits `go test -timeout` skips TestMain's deferred teardown and would leave the
// control plane (and the node's network) behind; the watchdog stops them then.
// The normal teardown calls disarm first, so a later tier's cluster is never
// touched. The watchdog keeps this binary's stderr open while it works, so `go
// test` returns only after the cleanup.
func Watchdog(root string, names ...string) (disarm func(), err error) {
	var stops []string
	for _, n := range names {
		stops = append(stops, fmt.Sprintf("bash %q stop >&2 || true", filepath.Join(root, "scripts", n)))
	}
	script := fmt.Sprintf(`while kill -0 %d 2>/dev/null; do sleep 1; done
echo "[harness] the test binary exited without its teardown: stopping what it started" >&2
%s`, os.Getpid(), strings.Join(stops, "\n"))
	cmd := exec.Command("bash", "-c", script)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the cleanup watchdog: %w", err)
	}
	return func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}, nil
}

// CleanupReserve is the time a test context leaves before `go test -timeout`
// for the tier's own teardown (stopping the cluster and the node).
const CleanupReserve = 3 * time.Minute

// Context returns a context for one test of at most d that also ends
// CleanupReserve before the test binary's -timeout deadline, so a hung step
// fails its test and the teardown still runs (the budgets of a package's tests
// add up to more than one timeout). It is cancelled when the test ends.
func Context(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(d)
	if dl, ok := t.Deadline(); ok && dl.Add(-CleanupReserve).Before(deadline) {
		deadline = dl.Add(-CleanupReserve)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}
