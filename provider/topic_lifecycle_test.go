package provider

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
)

func TestCreateReadDelete(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	inputs := topicProps("orders", 3, 2, map[string]string{"retention.ms": "3600000", "cleanup.policy": "compact"})

	state := mustCreate(t, s, inputs)
	assert.Equal(t, inputs, state)
	parts, rf, cfg := c.describe(t, "orders")
	assert.Equal(t, 3, parts)
	assert.Equal(t, 2, rf)
	assert.Equal(t, map[string]string{"retention.ms": "3600000", "cleanup.policy": "compact"}, cfg)

	r, err := read(s, "orders", state)
	require.NoError(t, err)
	assert.Equal(t, "orders", r.ID)
	assert.Equal(t, inputs, r.Properties)
	assert.Equal(t, inputs, r.Inputs)

	require.NoError(t, del(s, "orders", state))
	assert.False(t, c.exists(t, "orders"))

	// Deleting a topic that is already gone succeeds.
	require.NoError(t, del(s, "orders", state))

	// Reading a deleted topic returns an empty ID: Pulumi drops it from state.
	r, err = read(s, "orders", state)
	require.NoError(t, err)
	assert.Equal(t, "", r.ID)
}

// TestCreateWithoutConfigReadsNoConfig guards against a perpetual diff: a
// topic created without config must read back without a config field.
func TestCreateWithoutConfigReadsNoConfig(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	inputs := topicProps("plain", 1, 1, nil)
	state := mustCreate(t, s, inputs)
	r, err := read(s, "plain", state)
	require.NoError(t, err)
	assert.Equal(t, inputs, r.Properties)
}

func TestCreateKafkaErrors(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)

	_, err := create(t, s, topicProps("too-many-replicas", 1, 4, nil), false)
	require.EqualError(t, err, `topic "too-many-replicas": INVALID_REPLICATION_FACTOR: `+
		`Replication factor is below 1 or larger than the number of available brokers. (CreateTopics)`)

	_, err = c.adm.CreateTopic(context.Background(), 1, 1, nil, "taken")
	require.NoError(t, err)
	_, err = create(t, s, topicProps("taken", 1, 1, nil), false)
	require.EqualError(t, err, `topic "taken": TOPIC_ALREADY_EXISTS: Topic with this name already exists. `+
		`(CreateTopics). Set adopt: true to take it over, or import it with: `+
		`pulumi import umbrellakafka:index:Topic <resource name> taken`)
}

func TestUpdatePartitionIncrease(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	state := mustCreate(t, s, topicProps("grow", 2, 1, nil))

	want := topicProps("grow", 6, 1, nil)
	resp, err := update(s, "grow", state, want, false)
	require.NoError(t, err)
	assert.Equal(t, want, resp.Properties)
	parts, _, _ := c.describe(t, "grow")
	assert.Equal(t, 6, parts)
}

func TestUpdateConfigSetChangeDelete(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	state := mustCreate(t, s, topicProps("cfg", 1, 1, map[string]string{
		"retention.ms": "1000", "cleanup.policy": "compact",
	}))

	// retention.ms changes, cleanup.policy is removed, segment.ms is new.
	want := topicProps("cfg", 1, 1, map[string]string{"retention.ms": "2000", "segment.ms": "60000"})
	resp, err := update(s, "cfg", state, want, false)
	require.NoError(t, err)
	assert.Equal(t, want, resp.Properties)
	_, _, cfg := c.describe(t, "cfg")
	assert.Equal(t, map[string]string{"retention.ms": "2000", "segment.ms": "60000"}, cfg)

	// Removing every key leaves the topic with no dynamic config.
	resp, err = update(s, "cfg", resp.Properties, topicProps("cfg", 1, 1, nil), false)
	require.NoError(t, err)
	assert.Equal(t, topicProps("cfg", 1, 1, nil), resp.Properties)
	_, _, cfg = c.describe(t, "cfg")
	assert.Equal(t, map[string]string{}, cfg)
}

// TestUpdateFromStateWithMissingKey guards the DELETE side of the config
// update: a key the recorded state has but Kafka no longer has (removed
// outside Pulumi, no refresh since) is deleted again, which Kafka accepts.
func TestUpdateFromStateWithMissingKey(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	mustCreate(t, s, topicProps("stale", 1, 1, map[string]string{"retention.ms": "1000"}))
	state := topicProps("stale", 1, 1, map[string]string{"retention.ms": "1000", "segment.ms": "60000"})

	want := topicProps("stale", 1, 1, map[string]string{"retention.ms": "2000"})
	resp, err := update(s, "stale", state, want, false)
	require.NoError(t, err)
	assert.Equal(t, want, resp.Properties)
	_, _, cfg := c.describe(t, "stale")
	assert.Equal(t, map[string]string{"retention.ms": "2000"}, cfg)
}

// TestUpdateReplicationFactor checks the request flow only: kfake accepts the
// reassignment but ignores it and reports no reassignment in progress, so
// whether replicas really move (and the progress loop) needs real Kafka.
func TestUpdateReplicationFactor(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	state := mustCreate(t, s, topicProps("rf", 3, 1, nil))

	want := topicProps("rf", 3, 3, nil)
	resp, err := update(s, "rf", state, want, false)
	require.NoError(t, err)
	assert.Equal(t, want, resp.Properties)

	_, err = update(s, "rf", state, topicProps("rf", 3, 4, nil), false)
	require.EqualError(t, err, `topic "rf": replicationFactor = 4 exceeds brokers (3): lower replicationFactor or add brokers`)
}

func TestUpdateDeletedOutsidePulumi(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	_, err := update(s, "ghost", topicProps("ghost", 1, 1, nil), topicProps("ghost", 2, 1, nil), false)
	require.EqualError(t, err, `topic "ghost" does not exist any more: it was deleted outside Pulumi; `+
		`run pulumi refresh, then pulumi up to create it again`)
}

func TestRefreshShowsDrift(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	state := mustCreate(t, s, topicProps("drift", 2, 1, map[string]string{"retention.ms": "1000"}))

	// Someone changes the topic behind Pulumi's back.
	ctx := context.Background()
	resps, err := c.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("5000")},
		{Op: kadm.SetConfig, Name: "max.message.bytes", Value: kadm.StringPtr("2097152")},
	}, "drift")
	require.NoError(t, err)
	require.NoError(t, resps[0].Err)
	_, err = c.adm.UpdatePartitions(ctx, 4, "drift")
	require.NoError(t, err)

	r, err := read(s, "drift", state)
	require.NoError(t, err)
	want := topicProps("drift", 4, 1, map[string]string{"retention.ms": "5000", "max.message.bytes": "2097152"})
	assert.Equal(t, want, r.Properties)
	assert.Equal(t, want, r.Inputs)
}

// TestImport reads a topic by ID alone, as `pulumi import
// umbrellakafka:index:Topic <name> <topic>` does.
func TestImport(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	_, err := c.adm.CreateTopic(context.Background(), 5, 2, map[string]*string{"retention.ms": kadm.StringPtr("86400000")}, "legacy")
	require.NoError(t, err)

	r, err := read(s, "legacy", property.Map{})
	require.NoError(t, err)
	want := topicProps("legacy", 5, 2, map[string]string{"retention.ms": "86400000"})
	assert.Equal(t, "legacy", r.ID)
	assert.Equal(t, want, r.Properties)
	assert.Equal(t, want, r.Inputs)

	r, err = read(s, "never-existed", property.Map{})
	require.NoError(t, err)
	assert.Equal(t, "", r.ID)
}

func TestAdopt(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	ctx := context.Background()
	_, err := c.adm.CreateTopic(ctx, 3, 2, map[string]*string{
		"retention.ms": kadm.StringPtr("1000"), "cleanup.policy": kadm.StringPtr("compact"),
	}, "existing")
	require.NoError(t, err)
	adopt := func(m property.Map) property.Map { return m.Set("adopt", property.New(true)) }

	// Mismatched partitions: refused, with the values to use.
	_, err = create(t, s, adopt(topicProps("existing", 6, 2, nil)), false)
	require.EqualError(t, err, `topic "existing" already exists with partitions = 3 and replicationFactor = 2, `+
		`but the inputs ask for 6 and 2: adopt only takes over a matching topic. Set partitions = 3 and `+
		`replicationFactor = 2 to adopt it (change them in a later update), or choose another name`)

	// Matching: adopted, retention.ms set, and cleanup.policy, which the inputs
	// lack and a create's preview cannot show, left alone (issue 14, item 2).
	inputs := adopt(topicProps("existing", 3, 2, map[string]string{"retention.ms": "2000"}))
	state := mustCreate(t, s, inputs)
	assert.Equal(t, inputs, state)
	_, _, cfg := c.describe(t, "existing")
	assert.Equal(t, map[string]string{"retention.ms": "2000", "cleanup.policy": "compact"}, cfg)
}

func TestProtectTopicsRefusesDelete(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, map[string]property.Value{"protectTopics": property.New(true)})
	state := mustCreate(t, s, topicProps("precious", 1, 1, nil))

	err := del(s, "precious", state)
	require.EqualError(t, err, `topic "precious" is protected: the provider sets protectTopics = true, so `+
		`deleting it (or replacing it) is refused and its data is kept. To delete it on purpose, set `+
		`protectTopics to false (umbrella-streaming stacks: topics.protect: false; elsewhere `+
		`umbrellakafka:protectTopics or the explicit provider's protectTopics) and run the update again; to stop managing it without deleting it, run pulumi state delete <urn>`)
	assert.True(t, c.exists(t, "precious"))
}

// TestPreviewWithoutBroker guards `pulumi preview` of a fresh stack when no
// broker answers: Configure and a DryRun Create must succeed without asking
// Kafka. The bootstrap server is a listener that accepts and never answers,
// so a preview that asked would wait for the request timeout and fail, and
// the listener counts the connections (a wall-clock bound flaked on a busy
// 2-core machine).
func TestPreviewWithoutBroker(t *testing.T) {
	addr, accepted := silentListener(t)
	s := server(t, []string{addr}, nil)
	inputs := topicProps("future", 3, 3, map[string]string{"retention.ms": "1000"})
	resp, err := create(t, s, inputs, true)
	require.NoError(t, err)
	assert.Equal(t, "future", resp.ID)
	assert.Equal(t, inputs, resp.Properties)
	assert.Zero(t, accepted(), "connections to the broker address during the preview")
}

// silentListener is a broker address that accepts connections and never
// answers (a hung broker); it returns the address and how many connections
// it has accepted so far. The connections are closed when the test ends.
func silentListener(t *testing.T) (string, func() int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var accepted atomic.Int32
	conns := make(chan net.Conn, 64)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			select {
			case conns <- conn:
			default:
				_ = conn.Close()
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		for {
			select {
			case c := <-conns:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return ln.Addr().String(), accepted.Load
}

// TestPreviewDoesNotDial proves that Configure and previews (DryRun create and
// update) open no connection: a listener standing in for the broker counts
// accepted connections.
func TestPreviewDoesNotDial(t *testing.T) {
	addr, accepted := silentListener(t)

	s := server(t, []string{addr}, nil)
	_, err := create(t, s, topicProps("quiet", 1, 1, nil), true)
	require.NoError(t, err)
	resp, err := update(s, "quiet", topicProps("quiet", 1, 1, nil), topicProps("quiet", 2, 1, nil), true)
	require.NoError(t, err)
	assert.Equal(t, topicProps("quiet", 2, 1, nil), resp.Properties)
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, int32(0), accepted())
}

// TestPreviewWithUnknownInputs guards previews where inputs come from other
// resources' outputs: unknown values pass Check and the DryRun Create.
func TestPreviewWithUnknownInputs(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	inputs := topicProps("later", 1, 1, nil).Set("partitions", property.New(property.Computed))
	check, err := s.Check(p.CheckRequest{Urn: urn("later"), Inputs: inputs})
	require.NoError(t, err)
	require.Empty(t, check.Failures)
	resp, err := s.Create(p.CreateRequest{Urn: urn("later"), Properties: check.Inputs, DryRun: true})
	require.NoError(t, err)
	assert.True(t, resp.Properties.Get("partitions").IsComputed())
	assert.Equal(t, "later", resp.Properties.Get("name").AsString())
}
