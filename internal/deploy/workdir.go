package deploy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// prepareWorkDir lays out the engine's work dir under the state dir: Pulumi.yaml
// (with the local plugin path made absolute) and Pulumi.<stack>.yaml copied from the
// project on every Open. The engine writes to its stack file (the encryption salt,
// config overrides); doing that in a copy keeps the checked-in files untouched.
// The salt from the previous copy is kept, so the stack's secrets stay readable.
func prepareWorkDir(o Options) (string, error) {
	work := filepath.Join(o.StateDir, "project")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return "", fmt.Errorf("deploy: work dir: %w", err)
	}
	proj, err := os.ReadFile(filepath.Join(o.ProjectDir, "Pulumi.yaml"))
	if err != nil {
		return "", fmt.Errorf("deploy: %w", err)
	}
	text := strings.ReplaceAll(string(proj), "path: ./bin", "path: "+filepath.Join(o.ProjectDir, "bin"))
	if err := os.WriteFile(filepath.Join(work, "Pulumi.yaml"), []byte(text), 0o644); err != nil {
		return "", fmt.Errorf("deploy: %w", err)
	}
	name := "Pulumi." + o.Stack + ".yaml"
	stackText, err := os.ReadFile(filepath.Join(o.ProjectDir, name))
	if err != nil {
		return "", fmt.Errorf("deploy: stack %s has no %s in %s: %w", o.Stack, name, o.ProjectDir, err)
	}
	if len(o.Config) > 0 {
		if stackText, err = withOverrides(stackText, o.Config); err != nil {
			return "", fmt.Errorf("deploy: config overrides: %w", err)
		}
	}
	salt := readSalt(filepath.Join(work, name))
	out := string(stackText)
	if salt != "" && !strings.Contains(out, "encryptionsalt:") {
		out = "encryptionsalt: " + salt + "\n" + out
	}
	if err := os.WriteFile(filepath.Join(work, name), []byte(out), 0o644); err != nil {
		return "", fmt.Errorf("deploy: %w", err)
	}
	return work, nil
}

// withOverrides sets project config keys in a stack file. A value that parses as
// JSON (object, list, number, boolean) is stored structured, as `pulumi config set
// --path` would; anything else as a string.
func withOverrides(stackText []byte, overrides map[string]string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(stackText, &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		doc = map[string]any{}
	}
	cfg, _ := doc["config"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
	}
	for k, v := range overrides {
		var parsed any
		if err := json.Unmarshal([]byte(v), &parsed); err == nil {
			cfg[config.Project+":"+k] = parsed
		} else {
			cfg[config.Project+":"+k] = v
		}
	}
	doc["config"] = cfg
	return yaml.Marshal(doc)
}

func readSalt(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "encryptionsalt:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
