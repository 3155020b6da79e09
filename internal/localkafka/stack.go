package localkafka

import (
	"fmt"
	"path/filepath"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// LoadStack reads projectDir/Pulumi.<stack>.yaml the way the engine hands
// values to the program (config.ReadStackFile) and returns the validated
// spec, so a local cluster runs the stack's own broker settings and cluster id.
func LoadStack(projectDir, stack string) (*config.Spec, error) {
	path := filepath.Join(projectDir, "Pulumi."+stack+".yaml")
	values, err := config.ReadStackFile(path)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	spec, err := config.Load(stack, values)
	if err != nil {
		return nil, fmt.Errorf("stack %s (%s): %w", stack, path, err)
	}
	return spec, nil
}

// Plaintext returns a copy of spec with security.mode none, so the nodes run
// the plaintext listeners: for tests and tools about something other than
// the listeners (the provider, load, benchmarks) that dial the plaintext
// client port of a stack that ships secure (prod).
func Plaintext(spec *config.Spec) *config.Spec {
	out := *spec
	out.Security.Mode = config.SecurityNone
	return &out
}
