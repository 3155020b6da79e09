package localkafka

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadStackReadsTheStackFiles(t *testing.T) {
	for stack, want := range map[string]struct {
		clusterID string
		brokers   int
	}{
		"dev":  {"5BlkQlAaBVX6rb9uzmmt7w", 1},
		"prod": {"MjPBEhmLSH-4IwmCODRzPg", 3},
	} {
		spec, err := LoadStack(filepath.Join("..", ".."), stack)
		require.NoError(t, err, stack)
		assert.Equal(t, []any{stack, want.clusterID, want.brokers}, []any{spec.Stack, spec.ClusterID, spec.Brokers}, stack)
	}
}

// TestLoadStackNamesTheStackAndFile guards the errors cmd/localkafka prints.
func TestLoadStackNamesTheStackAndFile(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadStack(dir, "qa")
	require.Error(t, err)
	assert.Equal(t, "stack qa: open "+filepath.Join(dir, "Pulumi.qa.yaml")+": no such file or directory", err.Error())

	path := filepath.Join(dir, "Pulumi.qa.yaml")
	require.NoError(t, os.WriteFile(path, []byte("config:\n  umbrella-streaming:brokers: 1\n"), 0o644))
	_, err = LoadStack(dir, "qa")
	require.Error(t, err)
	// The rest is config.Load's own message, tested in config/.
	assert.True(t, strings.HasPrefix(err.Error(), "stack qa ("+path+"): "), err.Error())
	assert.Contains(t, err.Error(), "clusterId")
}

// Plaintext turns the prod stack's secure listeners off in a copy only.
func TestPlaintextCopiesTheSpec(t *testing.T) {
	prod, err := LoadStack(filepath.Join("..", ".."), "prod")
	require.NoError(t, err)
	require.True(t, prod.Secure())
	plain := Plaintext(prod)
	assert.False(t, plain.Secure())
	assert.True(t, prod.Secure(), "the loaded spec is unchanged")
	assert.Equal(t, prod.Brokers, plain.Brokers)
}
