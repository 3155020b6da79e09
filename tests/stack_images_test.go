package tests

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// projectImages are the images scripts/images.sh builds, as "repository:tag"
// without a registry host (the registry is the operator's choice).
func projectImages(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, name := range []string{"kafka", "kafka-base", "pause", "kafka-loadgen"} {
		ref, err := exec.Command("bash", "../scripts/images.sh", "ref", name, "registry.invalid").Output()
		require.NoError(t, err, "scripts/images.sh ref %s", name)
		r, ok := strings.CutPrefix(strings.TrimSpace(string(ref)), "registry.invalid/")
		require.True(t, ok, "images.sh ref puts the registry first: %q", ref)
		out[r] = true
	}
	return out
}

// withoutRegistry drops a registry host (a first path element with a dot, a
// colon or "localhost") from an image reference.
func withoutRegistry(ref string) string {
	first, rest, ok := strings.Cut(ref, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return rest
	}
	return ref
}

// Every image the shipped stack files make a pod run is one the project builds:
// never a public image that someone else controls (the JMX agent's jar runs inside
// every broker JVM), and never a name nothing builds.
func TestShippedStacksRunOnlyImagesTheProjectBuilds(t *testing.T) {
	built := projectImages(t)
	for _, stack := range []string{"dev", "prod"} {
		s, err := localkafka.LoadStack("..", stack)
		require.NoError(t, err)
		for field, ref := range map[string]string{"image.name": s.Image.Name, "monitoring.agentImage": s.Monitoring.AgentImage,
			"monitoring.lagExporterImage": s.Monitoring.LagExporterImage} {
			assert.True(t, built[withoutRegistry(ref)], "%s: %s = %q is not an image scripts/images.sh builds (%v)", stack, field, ref, built)
			assert.True(t, strings.HasPrefix(ref, "registry.umbrella.internal/"), "%s: %s = %q must name the private registry placeholder", stack, field, ref)
		}
	}

	// Pulumi.yaml's declared defaults (what the Pulumi CLI shows) agree.
	b, err := os.ReadFile("../Pulumi.yaml")
	require.NoError(t, err)
	var project struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(b, &project))
	def := func(key string) map[string]any {
		decl, ok := project.Config[key].(map[string]any)
		require.True(t, ok, "Pulumi.yaml declares %s", key)
		return decl["default"].(map[string]any)
	}
	// The image names follow kafka.version: a default name in Pulumi.yaml would
	// be handed to the program as if the stack had set it, whatever its version.
	img := def("image")
	for _, k := range []string{"name", "buildName"} {
		assert.NotContains(t, img, k, "Pulumi.yaml image.%s", k)
	}
	mon := def("monitoring")
	assert.NotContains(t, mon, "agentImage", "the agent comes from the broker image unless a stack names another")
}
