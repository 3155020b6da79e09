package tests

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/umbrella-platform/umbrella-streaming"

// deps lists what the package pkg links, as `go list -deps` says.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
	require.NoError(t, err, "go list -deps %s: %s", pkg, out)
	lines := strings.Fields(string(out))
	require.Contains(t, lines, pkg, "go list looked at %s", pkg)
	return lines
}

// TestImportArrows guards the rooms of the README's Layout (issue #26): the
// program asks the cluster through kafkaadmin and links neither the provider
// nor pulumi-go-provider; the planner, the PKI and the admin layer link
// nothing of Pulumi; the planner and the PKI link no Kafka client either.
func TestImportArrows(t *testing.T) {
	for _, tt := range []struct {
		pkg       string
		forbidden []string
	}{
		{module, []string{module + "/provider", "github.com/pulumi/pulumi-go-provider"}},
		{module + "/program", []string{module + "/provider", "github.com/pulumi/pulumi-go-provider"}},
		{module + "/internal/kafkaadmin", []string{"github.com/pulumi/", module + "/provider"}},
		{module + "/internal/placement", []string{"github.com/pulumi/", "github.com/twmb/franz-go"}},
		{module + "/internal/pki", []string{"github.com/pulumi/", "github.com/twmb/franz-go"}},
	} {
		linked := deps(t, tt.pkg)
		for _, f := range tt.forbidden {
			for _, d := range linked {
				assert.False(t, d == f || strings.HasPrefix(d, f+"/") || strings.HasSuffix(f, "/") && strings.HasPrefix(d, f),
					"%s links %s (forbidden: %s)", tt.pkg, d, f)
			}
		}
	}
	assert.Contains(t, deps(t, module), module+"/internal/kafkaadmin", "the program's pre-flight client")
}
