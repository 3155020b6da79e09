package provider

import (
	"context"
	"reflect"
	"sort"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Diff compares two provider configurations. Every change is an in-place update,
// never a replacement: the engine replaces every resource of a replaced provider,
// which for topics means delete-then-create, i.e. data loss, on something as
// harmless as a new bootstrap address or a lifted protectTopics. (infer's default
// replaces the provider on any config change.)
func (c *Config) Diff(_ context.Context, req infer.DiffRequest[*Config, *Config]) (infer.DiffResponse, error) {
	olds, news := req.State, req.Inputs
	if olds == nil {
		olds = &Config{}
	}
	if news == nil {
		news = &Config{}
	}
	fields := map[string][2]any{
		"bootstrapServers":      {olds.BootstrapServers, news.BootstrapServers},
		"saslMechanism":         {deref(olds.SASLMechanism), deref(news.SASLMechanism)},
		"saslUsername":          {deref(olds.SASLUsername), deref(news.SASLUsername)},
		"saslPassword":          {deref(olds.SASLPassword), deref(news.SASLPassword)},
		"tls":                   {deref(olds.TLS), deref(news.TLS)},
		"tlsCaPem":              {deref(olds.TLSCaPem), deref(news.TLSCaPem)},
		"requestTimeoutSeconds": {deref(olds.RequestTimeoutSeconds), deref(news.RequestTimeoutSeconds)},
		"protectTopics":         {deref(olds.ProtectTopics), deref(news.ProtectTopics)},
		"allowReplace":          {deref(olds.AllowReplace), deref(news.AllowReplace)},
		"kubernetes":            {olds.Kubernetes, news.Kubernetes},
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	detailed := map[string]p.PropertyDiff{}
	for _, k := range keys {
		if !reflect.DeepEqual(fields[k][0], fields[k][1]) {
			detailed[k] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
		}
	}
	return infer.DiffResponse{HasChanges: len(detailed) > 0, DetailedDiff: detailed}, nil
}

var _ infer.CustomDiff[*Config, *Config] = (*Config)(nil)
