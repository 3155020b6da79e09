package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The scripts print `export PATH=/dir:"$PATH"` (scripts/tools.sh env): the old
// PATH must come back unchanged after the new entry, with no quote glued on.
func TestApplyExportsEvaluatesLikeAShell(t *testing.T) {
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("UMBRELLA_HARNESS_A", "")
	t.Setenv("UMBRELLA_HARNESS_B", "")
	ApplyExports("[log] not an export\nexport PATH=/opt/tools/bin:\"$PATH\"\n  export UMBRELLA_HARNESS_A='two words'\n" +
		"export UMBRELLA_HARNESS_B=/x/$UMBRELLA_HARNESS_A\n")
	assert.Equal(t, "/opt/tools/bin:/usr/bin:/bin", os.Getenv("PATH"))
	assert.Equal(t, "two words", os.Getenv("UMBRELLA_HARNESS_A"))
	assert.Equal(t, "/x/two words", os.Getenv("UMBRELLA_HARNESS_B"))
}

// A test binary that dies (here: a panic, as on a go test -timeout) gets its
// tier stopped by the watchdog; one that tore down normally (disarm) does not.
func TestWatchdogStopsWhatACrashedBinaryLeft(t *testing.T) {
	if mode := os.Getenv("HARNESS_WATCHDOG_CHILD"); mode != "" {
		disarm, err := Watchdog(os.Getenv("HARNESS_WATCHDOG_ROOT"), "fake.sh")
		if err != nil {
			panic(err)
		}
		if mode == "clean" {
			disarm()
			return
		}
		panic("the test binary crashes")
	}
	for _, mode := range []string{"crash", "clean"} {
		t.Run(mode, func(t *testing.T) {
			root := t.TempDir()
			mark := filepath.Join(root, "stopped")
			require.NoError(t, os.MkdirAll(filepath.Join(root, "scripts"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, "scripts", "fake.sh"),
				[]byte("echo \"$1\" >> "+mark+"\n"), 0o755))
			cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdogStopsWhatACrashedBinaryLeft$")
			cmd.Env = append(os.Environ(), "HARNESS_WATCHDOG_CHILD="+mode, "HARNESS_WATCHDOG_ROOT="+root)
			out, err := cmd.CombinedOutput() // returns once the watchdog, which holds the output, is done
			if mode == "clean" {
				require.NoError(t, err, "%s", out)
				time.Sleep(1500 * time.Millisecond)
				assert.NoFileExists(t, mark, "a disarmed watchdog stops nothing")
				return
			}
			require.Error(t, err, "the child panicked")
			b, err := os.ReadFile(mark)
			require.NoError(t, err, "the watchdog ran the stop: %s", out)
			assert.Equal(t, "stop\n", string(b))
			assert.Contains(t, string(out), "exited without its teardown")
		})
	}
}

// A runner that is itself a pod has KUBERNETES_SERVICE_HOST set; the engine the
// tests start must not pass it on, or the provider takes itself for a pod and
// sends the cluster's names to the runner's resolver (provider/dial.go). The
// Automation API's own command runner starts a stand-in pulumi that prints the
// environment it got.
func TestEngineEnvClearsTheInPodMarker(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "198.18.128.1")
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	fake := "#!/bin/sh\nif [ \"$1\" = version ]; then echo v3.274.1; else env; fi\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "pulumi"), []byte(fake), 0o755))
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root, SkipVersionCheck: true})
	require.NoError(t, err)
	var env []string
	for k, v := range EngineEnv("/cluster/kubeconfig") { // as auto.EnvVars hands them to the command
		env = append(env, k+"="+v)
	}
	out, _, code, err := cmd.Run(context.Background(), root, nil, nil, nil, env, "preview")
	require.NoError(t, err)
	require.Zero(t, code)
	seen := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			seen[k] = v
		}
	}
	assert.Equal(t, "/cluster/kubeconfig", seen["KUBECONFIG"])
	assert.Empty(t, seen["KUBERNETES_SERVICE_HOST"], "the engine would take itself for a pod")
}
