package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/program"
)

// renderRun runs the program in render mode under mocks; nothing is written,
// since the mocked Kubernetes provider renders nothing.
func renderRun(t *testing.T, stack string, cfg map[string]string) (*recorder, error) {
	t.Helper()
	setConfig(t, cfg)
	rec := &recorder{}
	err := pulumi.RunErr(program.RunWith(program.Options{RenderDir: t.TempDir()}), pulumi.WithMocks("umbrella-streaming", stack, rec))
	return rec, err
}

// Regression: render mode switched the spec to the Job topic manager after
// validation. The spec is now validated in render mode and used as built.
func TestRenderModeUsesTheJobManagerFromValidation(t *testing.T) {
	// prod runs secure, which rendering refuses (TestRenderRefusesTheSecureProdStack).
	for _, stack := range []string{"dev"} {
		t.Run(stack, func(t *testing.T) {
			rec, err := renderRun(t, stack, stackConfig(t, stack))
			require.NoError(t, err)
			assert.Empty(t, rec.byType("umbrellakafka:index:Topic"), "no broker is dialled while rendering")
			assert.Empty(t, rec.byType("pulumi:providers:umbrellakafka"))
			require.Len(t, rec.byType("kubernetes:batch/v1:Job"), 1)
			rec.one(t, "pulumi:providers:kubernetes", "render")
		})
	}
}

// The checks of the job combination run in render mode, before anything is
// registered.
func TestRenderModeRunsTheJobCombinationChecks(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["umbrella-streaming:topics"] = `{"manager":"job","access":"kubernetes"}`
	rec, err := renderRun(t, "dev", cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `topics.access = "kubernetes": applies only to topics.manager = provider (the job already runs inside the cluster); remove topics.access or set topics.manager = provider`)
	for _, r := range rec.resources {
		assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "nothing but the stack may be registered, got %s %s", r.Type, r.Name)
	}
}

// The prod stack runs secure: rendering it is refused before anything is
// registered, naming the fix.
func TestRenderRefusesTheSecureProdStack(t *testing.T) {
	rec, err := renderRun(t, "prod", stackConfig(t, "prod"))
	require.ErrorContains(t, err, "cannot be rendered to YAML")
	assert.Empty(t, rec.byType("kubernetes:core/v1:Secret"))
	assert.Empty(t, rec.byType("kubernetes:apps/v1:StatefulSet"))
}
