package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression: render mode used to set TopicManager = job on the spec after
// Build, so the spec the components saw was never validated. Render mode is
// now an input to Build; these cases show its checks run in render mode.
func TestRenderModeIsValidatedByBuild(t *testing.T) {
	s, err := BuildFor("dev", validDev(), ModeRender)
	require.NoError(t, err)
	assert.Equal(t, TopicManagerJob, s.TopicManager, "render mode manages topics with the in-cluster Job")

	applied, err := BuildFor("dev", validDev(), ModeApply)
	require.NoError(t, err)
	assert.Equal(t, TopicManagerProvider, applied.TopicManager, "apply mode keeps the default provider manager")

	// The dev stack's shape: provider manager reached through the Kubernetes
	// API. It is consistent as written, so it renders.
	r := validDev()
	r.Topics = &RawTopics{Manager: sp(TopicManagerProvider), Access: sp(AdminAccessKubernetes)}
	s, err = BuildFor("dev", r, ModeRender)
	require.NoError(t, err)
	assert.Equal(t, TopicManagerJob, s.TopicManager)
	// Every bad case is refused alike in render mode: config/table_test.go.

}
