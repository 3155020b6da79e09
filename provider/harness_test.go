package provider

import (
	"context"
	"fmt"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kfake is permissive, so these tests prove the provider's request flow, not
// Kafka's behaviour. Needing the real-Kafka tests that come later:
//   - reassignments: kfake accepts AlterPartitionAssignments but ignores it, so
//     metadata keeps the old replication factor and ListPartitionReassignments
//     is always empty (the progress loop is never exercised);
//   - validation: kfake accepts bad topic names, RF 0 and unknown config
//     keys/values, so broker-side rejections (INVALID_TOPIC_EXCEPTION,
//     INVALID_CONFIG, POLICY_VIOLATION) are not seen here;
//   - config sources: kfake reports only ~10 topic config keys, so filtering
//     of broker/static/default sources is only partly exercised;
//   - racks: every kfake broker reports the same rack, so rack-aware placement
//     is covered by the pure planner tests only (internal/placement: ResizeReplicas, PlanRebalance, PlanDrain);
//   - asynchronous create/delete: kfake's metadata is immediately consistent,
//     so the wait-for-metadata loops return on their first poll.

// testCluster is a kfake cluster plus a kadm client that talks to it directly.
type testCluster struct {
	addrs []string
	adm   *kadm.Client
	raw   *kgo.Client
}

func newCluster(t testing.TB, opts ...kfake.Opt) *testCluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	raw, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	t.Cleanup(raw.Close)
	return &testCluster{addrs: c.ListenAddrs(), adm: kadm.NewClient(raw), raw: raw}
}

// server starts an in-process provider configured with the given bootstrap
// servers and extra config (e.g. protectTopics), going through CheckConfig
// and Configure like the engine does.
func server(t testing.TB, addrs []string, extra map[string]property.Value) *testServer {
	t.Helper()
	s, err := newTestServer()
	require.NoError(t, err)
	servers := make([]property.Value, len(addrs))
	for i, a := range addrs {
		servers[i] = property.New(a)
	}
	args := map[string]property.Value{
		"bootstrapServers": property.New(servers),
		"timeout":          property.New(5.0),
		"tlsEnabled":       property.New(false),
	}
	for k, v := range extra {
		args[k] = v
	}
	require.NoError(t, s.Configure(property.NewMap(args)))
	return s
}

func urn(name string) presource.URN {
	return presource.NewURN("test", "umbrella", "", TopicToken, name)
}

// topicProps builds Topic inputs (or the identical state).
func topicProps(name string, partitions, rf int, config map[string]string) property.Map {
	m := map[string]property.Value{
		"name":              property.New(name),
		"partitions":        property.New(float64(partitions)),
		"replicationFactor": property.New(float64(rf)),
	}
	if config != nil {
		cfg := map[string]property.Value{}
		for k, v := range config {
			cfg[k] = property.New(v)
		}
		m["config"] = property.New(cfg)
	}
	return property.NewMap(m)
}

// create runs Check then Create like `pulumi up` does.
func create(t testing.TB, s *testServer, inputs property.Map, dryRun bool) (p.CreateResponse, error) {
	t.Helper()
	name := inputs.Get("name")
	resName := "t"
	if name.IsString() {
		resName = name.AsString()
	}
	check, err := s.Check(p.CheckRequest{Urn: urn(resName), Inputs: inputs})
	require.NoError(t, err)
	require.Empty(t, check.Failures)
	return s.Create(p.CreateRequest{Urn: urn(resName), Properties: check.Inputs, DryRun: dryRun})
}

// tryCreate is create for a goroutine other than the test's, which must not
// fail the test itself: Check's error or failures are returned as the error.
func tryCreate(s *testServer, inputs property.Map) (p.CreateResponse, error) {
	name := inputs.Get("name")
	resName := "t"
	if name.IsString() {
		resName = name.AsString()
	}
	check, err := s.Check(p.CheckRequest{Urn: urn(resName), Inputs: inputs})
	if err != nil {
		return p.CreateResponse{}, fmt.Errorf("check: %w", err)
	}
	if len(check.Failures) > 0 {
		return p.CreateResponse{}, fmt.Errorf("check failures: %v", check.Failures)
	}
	return s.Create(p.CreateRequest{Urn: urn(resName), Properties: check.Inputs})
}

// mustCreate creates a topic through the provider and returns its state.
func mustCreate(t testing.TB, s *testServer, inputs property.Map) property.Map {
	t.Helper()
	resp, err := create(t, s, inputs, false)
	require.NoError(t, err)
	require.Equal(t, inputs.Get("name").AsString(), resp.ID)
	return resp.Properties
}

func read(s *testServer, id string, state property.Map) (p.ReadResponse, error) {
	return s.Read(p.ReadRequest{ID: id, Urn: urn(id), Properties: state, Inputs: state})
}

func update(s *testServer, id string, state, inputs property.Map, dryRun bool) (p.UpdateResponse, error) {
	return s.Update(p.UpdateRequest{ID: id, Urn: urn(id), State: state, Inputs: inputs, DryRun: dryRun})
}

func del(s *testServer, id string, state property.Map) error {
	return s.Delete(p.DeleteRequest{ID: id, Urn: urn(id), Properties: state})
}

// direct issues a metadata request for one topic straight to the cluster
// (kadm's ListTopics and Metadata answer from a cache that lags after changes).
func (c *testCluster) direct(t testing.TB, topic string) kmsg.MetadataResponseTopic {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, c.raw)
	require.NoError(t, err)
	require.Len(t, resp.Topics, 1)
	return resp.Topics[0]
}

// describe reads a topic straight from the cluster: partition count, the
// replica count of partition 0, and its dynamic configs.
func (c *testCluster) describe(t testing.TB, topic string) (partitions, rf int, cfg map[string]string) {
	t.Helper()
	md := c.direct(t, topic)
	require.Equal(t, int16(0), md.ErrorCode, "topic %q", topic)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rcs, err := c.adm.DescribeTopicConfigs(ctx, topic)
	require.NoError(t, err)
	rc, err := rcs.On(topic, nil)
	require.NoError(t, err)
	require.NoError(t, rc.Err)
	cfg = map[string]string{}
	for _, e := range rc.Configs {
		if e.Source == kmsg.ConfigSourceDynamicTopicConfig {
			cfg[e.Key] = e.MaybeValue()
		}
	}
	return len(md.Partitions), len(md.Partitions[0].Replicas), cfg
}

// exists reports whether a direct metadata request shows the topic.
func (c *testCluster) exists(t testing.TB, topic string) bool {
	t.Helper()
	return c.direct(t, topic).ErrorCode == 0
}
