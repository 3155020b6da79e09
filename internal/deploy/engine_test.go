//go:build integration

package deploy_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// The Automation API path of the unknown-key check, with the real engine: an
// inline program cannot list its stack's keys, so Open lists them from the
// workspace and the program refuses a misspelt key at preview. Nothing is
// registered, so this needs no cluster.
func TestInlinePreviewRefusesAnUnknownKey(t *testing.T) {
	root := harness.RepoRoot()
	require.NoError(t, harness.ToolsAndProvider(root))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := deploy.Open(ctx, deploy.Options{
		Stack: "dev", ProjectDir: root, StateDir: t.TempDir(),
		Config: map[string]string{"brokrs": "3", "broker": `{"minInSyncReplicas":1}`},
	})
	require.NoError(t, err)
	_, err = st.Preview(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `brokrs = "3": is not a config key of umbrella-streaming, so nothing would read it`)
	assert.Contains(t, err.Error(), "broker.minInSyncReplicas = 1: is not a field of broker, so nothing would read it")
	assert.Contains(t, err.Error(), "rename it to minInsyncReplicas")
}
