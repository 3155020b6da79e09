package program

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// stackConfigKeys returns every config key of ctx's stack, with its
// namespace ("umbrella-streaming:brokers", "kubernetes:context"), so that
// config.LoadFor can refuse a key the program does not know. The Go SDK reads
// one key at a time (ctx.GetConfig) and keeps the whole map to itself, so each
// way of running the program gets the keys its own way:
//
//   - `pulumi up` through the Go language host: the host hands the program its
//     whole config as JSON in the PULUMI_CONFIG environment variable (the SDK's
//     pulumi.EnvConfig), and the keys are that object's. Mock tests set it too.
//   - an Automation API inline program (internal/deploy, cmd/umbrella): the
//     engine's RunRequest reaches the SDK inside the driver's own process and
//     sets no environment, so the driver reads the stack's config from its
//     workspace (`pulumi config --json`) and passes the keys in
//     Options.ConfigKeys, which take precedence.
//
// With neither, the stack sets no config (the host sets no PULUMI_CONFIG for an
// empty one), unless some other runner hands config over without its keys:
// then the program refuses to run rather than let a misspelt key pass unseen.
func stackConfigKeys(ctx *pulumi.Context, opts Options) ([]string, error) {
	if opts.ConfigKeys != nil {
		return opts.ConfigKeys, nil
	}
	if text := os.Getenv(pulumi.EnvConfig); text != "" {
		var all map[string]any
		if err := json.Unmarshal([]byte(text), &all); err != nil {
			return nil, fmt.Errorf("%s: reading the stack's config keys from %s: %w", config.Project, pulumi.EnvConfig, err)
		}
		keys := make([]string, 0, len(all))
		for k := range all {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys, nil
	}
	for _, k := range config.Keys() {
		if _, ok := ctx.GetConfig(config.Project + ":" + k); ok {
			return nil, fmt.Errorf("%s: the program was handed stack config but cannot list its keys, so a misspelt key would pass unseen: "+
				"run it through the Pulumi CLI (the Go language host sets %s) or internal/deploy, or set program.Options.ConfigKeys", config.Project, pulumi.EnvConfig)
		}
	}
	return nil, nil
}

// configSource is ctx's stack config as config.LoadFor reads it.
func configSource(ctx *pulumi.Context, keys []string) config.Source {
	return config.Source{
		Keys: config.ProjectKeys(keys),
		Lookup: func(key string) (string, bool) {
			return ctx.GetConfig(config.Project + ":" + key)
		},
		Secret: func(key string) bool { return ctx.IsConfigSecret(config.Project + ":" + key) },
	}
}
