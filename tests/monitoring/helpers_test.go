//go:build monitoring

package monitoring

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// projectDir is the repository root, where Pulumi.<stack>.yaml live.
const projectDir = "../.."

// stackSpec loads a stack's validated spec from its Pulumi.<stack>.yaml.
func stackSpec(t testing.TB, stack string) *config.Spec {
	t.Helper()
	spec, err := localkafka.LoadStack(projectDir, stack)
	require.NoError(t, err)
	require.True(t, spec.Monitoring.Enabled, "stack %s has monitoring off: nothing to test", stack)
	return spec
}

// tool returns the path of a binary on PATH or fails with how to install it.
func tool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not on PATH: %s", name, install)
	}
	return p
}

// writeRules writes the program's alert rules as a Prometheus rule file: the
// PrometheusRule's spec.groups under a top-level groups key. The groups are
// the Prometheus Operator's types, whose field names are their json tags, so
// the file is JSON (which YAML, and so Prometheus, reads as is).
func writeRules(t testing.TB, dir string, spec *config.Spec) string {
	t.Helper()
	b, err := json.MarshalIndent(map[string]any{"groups": components.RuleGroups(spec)}, "", "  ")
	require.NoError(t, err)
	path := filepath.Join(dir, "kafka-alerts.yaml")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}
