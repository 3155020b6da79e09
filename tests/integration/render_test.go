//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/program"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// render writes the stack's manifests through the real engine and the Kubernetes
// provider's renderYamlToDirectory; nothing reaches a cluster.
func render(t *testing.T, stack string) []string {
	t.Helper()
	ctx := harness.Context(t, 5*time.Minute)
	out := filepath.Join(t.TempDir(), stack)
	// The secure prod stack is not rendered (the program refuses: its TLS key
	// would be in the files): prod renders as plaintext (plaintextProd).
	st, err := deploy.Open(ctx, deploy.Options{Stack: stack, ProjectDir: repoRoot, StateDir: t.TempDir(),
		Env: harness.EngineEnv("/nonexistent"), Program: program.Options{RenderDir: out}, Progress: testWriter{T: t},
		Config: plaintextProd(stack, nil)})
	require.NoError(t, err)
	_, err = st.Up(ctx)
	require.NoError(t, err)
	var files []string
	require.NoError(t, filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return err
	}))
	return files
}

var criticalRE = regexp.MustCompile(`(?m)^\s+\[CRITICAL\] (.*)$`)

func kubeScore(t *testing.T, files []string, extra ...string) []string {
	t.Helper()
	ks, err := exec.LookPath("kube-score")
	require.NoError(t, err, "kube-score not on PATH: scripts/tools.sh kube-score")
	args := append(append([]string{"score", "--output-format", "ci"}, extra...), files...)
	out, err := exec.Command(ks, args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err, "kube-score did not run")
	}
	var crit []string
	scored := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "[CRITICAL]") {
			crit = append(crit, line)
		}
		// "[OK] kafka/umbrella-streaming apps/v1/StatefulSet: Pod Probes": name and kind.
		if m := scoredRE.FindStringSubmatch(line); m != nil {
			scored[strings.TrimSuffix(m[1], ":")] = true
		}
	}
	// 0: nothing critical; 1: something critical (and then it must say what); any
	// other status, or silence, is kube-score failing, not a clean score.
	require.Contains(t, []int{0, 1}, code, "kube-score exited %d:\n%s", code, out)
	if code == 1 {
		require.NotEmpty(t, crit, "kube-score exited 1 without a CRITICAL finding:\n%s", out)
	}
	require.GreaterOrEqual(t, len(scored), scorable(t, files), "kube-score scored fewer objects than were rendered:\n%s", out)
	_ = criticalRE
	return crit
}

// scoredRE picks the object out of a kube-score ci line.
var scoredRE = regexp.MustCompile(`^\[(?:OK|WARNING|CRITICAL|SKIPPED)\] (\S+ \S+)`)

// scorable counts the rendered objects of kinds kube-score checks.
func scorable(t *testing.T, files []string) int {
	t.Helper()
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`(?m)^kind: (\S+)`).FindAllSubmatch(b, -1) {
			switch string(m[1]) {
			case "StatefulSet", "Service", "NetworkPolicy", "PodDisruptionBudget", "Job":
				n++
			}
		}
	}
	require.Positive(t, n, "nothing kube-score checks was rendered")
	return n
}

func TestRenderedManifestsScoreClean(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			files := render(t, stack)
			var kinds []string
			for _, f := range files {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				if m := regexp.MustCompile(`(?m)^kind: (\S+)`).FindSubmatch(b); m != nil {
					kinds = append(kinds, string(m[1]))
				}
			}
			for _, k := range []string{"Namespace", "ConfigMap", "StatefulSet", "Service", "NetworkPolicy", "PodMonitor", "PrometheusRule", "Job"} {
				assert.Contains(t, kinds, k)
			}
			crit := kubeScore(t, files)
			assert.Empty(t, crit, "kube-score default checks: CRITICAL findings")
			optional := kubeScore(t, files, "--all-default-optional")
			t.Logf("kube-score %s: %d CRITICAL with default checks, %d with --all-default-optional:\n%s",
				stack, len(crit), len(optional), strings.Join(optional, "\n"))
		})
	}
}
