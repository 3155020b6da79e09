package provider

import (
	"context"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression: infer replaced the provider on any config change, and the engine
// then replaced (deleted) every topic of it. Found by the real-engine prod test
// when lifting protectTopics.
func TestConfigChangesNeverReplaceTheProvider(t *testing.T) {
	s, err := newTestServer()
	require.NoError(t, err)
	olds := property.NewMap(map[string]property.Value{
		"bootstrapServers": property.New([]property.Value{property.New("a:9092")}),
		"protectTopics":    property.New(true),
	})
	for name, news := range map[string]property.Map{
		"protectTopics lifted": property.NewMap(map[string]property.Value{
			"bootstrapServers": property.New([]property.Value{property.New("a:9092")}),
			"protectTopics":    property.New(false),
		}),
		"bootstrap moved": property.NewMap(map[string]property.Value{
			"bootstrapServers": property.New([]property.Value{property.New("b:9092"), property.New("c:9092")}),
			"protectTopics":    property.New(true),
		}),
	} {
		t.Run(name, func(t *testing.T) {
			o, err := toStruct(olds)
			require.NoError(t, err)
			n, err := toStruct(news)
			require.NoError(t, err)
			resp, err := s.rpc.DiffConfig(context.Background(), &rpc.DiffRequest{
				Urn: "urn:pulumi:test::umbrella::pulumi:providers:umbrellakafka::default", Olds: o, News: n, OldInputs: o})
			require.NoError(t, err)
			assert.Equal(t, rpc.DiffResponse_DIFF_SOME, resp.Changes)
			assert.Empty(t, resp.Replaces, "a provider config change must not replace the provider (and its topics)")
			require.NotEmpty(t, resp.DetailedDiff)
			for k, d := range resp.DetailedDiff {
				assert.Equal(t, rpc.PropertyDiff_UPDATE, d.Kind, k)
			}
		})
	}
	_ = p.Update
}

func TestConfigDiffNoChange(t *testing.T) {
	c := &Config{}
	yes := true
	cfg := &Config{BootstrapServers: []string{"a:9092"}, ProtectTopics: &yes}
	resp, err := c.Diff(context.Background(), infer.DiffRequest[*Config, *Config]{State: cfg, Inputs: cfg})
	require.NoError(t, err)
	assert.False(t, resp.HasChanges)
}
