package provider

import (
	"context"
	"reflect"
	"sort"
	"strings"

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
		"bootstrapServers":    {olds.BootstrapServers, news.BootstrapServers},
		"tlsEnabled":          {deref(olds.TLSEnabled), deref(news.TLSEnabled)},
		"caCert":              {deref(olds.CACert), deref(news.CACert)},
		"clientCert":          {deref(olds.ClientCert), deref(news.ClientCert)},
		"clientKey":           {deref(olds.ClientKey), deref(news.ClientKey)},
		"clientKeyPassphrase": {deref(olds.ClientKeyPassphrase), deref(news.ClientKeyPassphrase)},
		"caCertFile":          {deref(olds.CACertFile), deref(news.CACertFile)},
		"clientCertFile":      {deref(olds.ClientCertFile), deref(news.ClientCertFile)},
		"clientKeyFile":       {deref(olds.ClientKeyFile), deref(news.ClientKeyFile)},
		"skipTlsVerify":       {deref(olds.SkipTLSVerify), deref(news.SkipTLSVerify)},
		"saslMechanism":       {deref(olds.SASLMechanism), deref(news.SASLMechanism)},
		"saslUsername":        {deref(olds.SASLUsername), deref(news.SASLUsername)},
		"saslPassword":        {deref(olds.SASLPassword), deref(news.SASLPassword)},
		"saslTokenUrl":        {deref(olds.SASLTokenURL), deref(news.SASLTokenURL)},
		"saslOauthScopes":     {strings.Join(olds.SASLOAuthScopes, "\n"), strings.Join(news.SASLOAuthScopes, "\n")},
		"timeout":             {deref(olds.Timeout), deref(news.Timeout)},
		"protectTopics":       {deref(olds.ProtectTopics), deref(news.ProtectTopics)},
		"allowReplace":        {deref(olds.AllowReplace), deref(news.AllowReplace)},
		"kubernetes":          {olds.Kubernetes, news.Kubernetes},
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
