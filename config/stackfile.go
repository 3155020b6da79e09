package config

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// ReadStackFile reads a Pulumi.<stack>.yaml and returns this project's config
// values as the engine hands them to a program: keys without the project prefix,
// strings as written, everything else as JSON. Tools that need a stack's spec
// outside the engine (the local Kafka harness, tests) use it with Load.
func ReadStackFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]string{}
	for k, v := range doc.Config {
		key, ok := strings.CutPrefix(k, Project+":")
		if !ok {
			continue
		}
		if s, isStr := v.(string); isStr {
			out[key] = s
			continue
		}
		j, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, k, err)
		}
		out[key] = string(j)
	}
	return out, nil
}

// MapLookup serves config values from a map.
func MapLookup(m map[string]string) Lookup {
	return func(key string) (string, bool) {
		v, ok := m[key]
		return v, ok
	}
}
