package provider

import (
	"context"
	"sync"

	p "github.com/pulumi/pulumi-go-provider"
)

// decodeFresh makes every CheckConfig, DiffConfig and Configure decode the
// configuration into an empty Config.
//
// infer decodes each configuration it is handed into the one Config it was
// built with, and the decoder sets only the fields present, so a field that a
// new configuration no longer has kept its previous value: CheckConfig then
// echoed it back into the checked inputs and Configure used it (switching
// topics.access from kubernetes back to direct kept the tunnel; an unset
// protectTopics stayed true). The engine runs these calls for old and new
// provider configurations in one plugin process. CheckConfig and DiffConfig
// leave the configured Config as it was afterwards; Configure replaces it.
func decodeFresh(prov p.Provider, cfg *Config) p.Provider {
	var mu sync.Mutex
	if check := prov.CheckConfig; check != nil {
		prov.CheckConfig = func(ctx context.Context, req p.CheckRequest) (p.CheckResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			saved := *cfg
			defer func() { *cfg = saved }()
			*cfg = Config{}
			return check(ctx, req)
		}
	}
	if diff := prov.DiffConfig; diff != nil {
		prov.DiffConfig = func(ctx context.Context, req p.DiffRequest) (p.DiffResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			saved := *cfg
			defer func() { *cfg = saved }()
			*cfg = Config{}
			return diff(ctx, req)
		}
	}
	if configure := prov.Configure; configure != nil {
		prov.Configure = func(ctx context.Context, req p.ConfigureRequest) error {
			mu.Lock()
			defer mu.Unlock()
			*cfg = Config{}
			return configure(ctx, req)
		}
	}
	return prov
}
