package localkafka

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// LoadStack reads projectDir/Pulumi.<stack>.yaml the way the engine hands
// values to the program (strings unquoted, everything else as JSON) and
// returns the validated spec, so a local cluster runs the stack's own broker
// settings and cluster id.
func LoadStack(projectDir, stack string) (*config.Spec, error) {
	path := filepath.Join(projectDir, "Pulumi."+stack+".yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", stack, err)
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("stack %s: %s: %w", stack, path, err)
	}
	var jsonErr error
	lookup := func(key string) (string, bool) {
		v, ok := doc.Config[config.Project+":"+key]
		if !ok {
			return "", false
		}
		if s, isStr := v.(string); isStr {
			return s, true
		}
		j, err := json.Marshal(v)
		if err != nil && jsonErr == nil {
			jsonErr = fmt.Errorf("stack %s: %s: key %s: %w", stack, path, key, err)
		}
		return string(j), true
	}
	spec, err := config.Load(stack, lookup)
	if jsonErr != nil {
		return nil, jsonErr
	}
	if err != nil {
		return nil, fmt.Errorf("stack %s (%s): %w", stack, path, err)
	}
	return spec, nil
}
