package provider

import (
	"context"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/umbrella-platform/umbrella-streaming/internal/topicconfig"
)

// These tests cover issue 14, what a real operator's cluster does to a
// topic: values Kafka normalises (item 1), configs set outside Pulumi
// (item 2), partitions raised outside Pulumi (item 5) and internal topics
// (item 9). Kafka's own behaviour is in operator_realkafka_test.go.

// TestSameValue holds the by-meaning comparison to Kafka's ConfigDef parsing,
// one case per topic config type Kafka 4.1 has (BOOLEAN, INT, LONG, DOUBLE,
// STRING, LIST and the throttled-replica LIST).
func TestSameValue(t *testing.T) {
	tests := []struct {
		key, a, b string
		same      bool
	}{
		{"preallocate", "TRUE", "true", true},
		{"preallocate", " false ", "false", true},
		{"preallocate", "true", "false", false},
		{"min.insync.replicas", "+2", "2", true},
		{"min.insync.replicas", " 02", "2", true},
		{"min.insync.replicas", "3", "2", false},
		{"retention.ms", "0604800000 ", "604800000", true},
		{"retention.ms", "-1", "604800000", false},
		{"min.cleanable.dirty.ratio", ".50", "0.5", true},
		{"min.cleanable.dirty.ratio", "1", "1.0", true},
		{"min.cleanable.dirty.ratio", "0.0001", "1.0E-4", true},
		{"min.cleanable.dirty.ratio", "0.4", "0.5", false},
		{"compression.type", " lz4 ", "lz4", true},
		{"compression.type", "LZ4", "lz4", false},
		{"message.timestamp.type", "LogAppendTime", "LogAppendTime", true},
		{"cleanup.policy", "compact, delete", "compact,delete", true},
		{"cleanup.policy", " compact ,delete ", "compact,delete", true},
		{"cleanup.policy", "delete,compact", "compact,delete", false},
		{"cleanup.policy", "", "", true},
		{"leader.replication.throttled.replicas", "0:1, 1:2", "0:1,1:2", true},
		{"leader.replication.throttled.replicas", " * ", "*", true},
		{"not.a.config", " x", "x", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.same, topicconfig.SameValue(tt.key, tt.a, tt.b), "%s: %q vs %q", tt.key, tt.a, tt.b)
	}
	// Every type in the table is handled (a new one would compare exactly).
	types := map[topicconfig.Type]bool{}
	for _, d := range topicconfig.All() {
		types[d.Type] = true
	}
	assert.Equal(t, map[topicconfig.Type]bool{topicconfig.Boolean: true, topicconfig.Int: true, topicconfig.Long: true,
		topicconfig.Double: true, topicconfig.String: true, topicconfig.List: true}, types)
}

// TestCheckTopicConfigAndInternalNames guards items 1 and 9: the provider
// refuses what Kafka would (unknown keys, bad values, internal topics) at
// preview, for users of the provider without the program's config layer.
func TestCheckTopicConfigAndInternalNames(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	const internalFix = `is a Kafka internal topic name (it starts with "__"): the brokers create and manage ` +
		`these topics, and deleting or reassigning one breaks consumer groups and transactions; remove this ` +
		`Topic (tune internal topics with broker settings such as offsets.topic.replication.factor), or choose ` +
		`a name that does not start with "__"`
	tests := []struct {
		name   string
		inputs property.Map
		want   []p.CheckFailure
	}{
		{"values not in Kafka's canonical form are valid", topicProps("t", 1, 1, map[string]string{
			"cleanup.policy": "compact, delete", "preallocate": "TRUE", "retention.ms": " 604800000",
			"min.cleanable.dirty.ratio": ".5", "leader.replication.throttled.replicas": "0:1, 1:2",
		}), nil},
		{"unknown key, with the nearest name", topicProps("t", 1, 1, map[string]string{"retention.msec": "1000"}),
			[]p.CheckFailure{{Property: `config["retention.msec"]`, Reason: `config["retention.msec"] = "1000": is ` +
				`not a topic config of Kafka 4.1, so creating the topic would fail with INVALID_CONFIG; rename it to retention.ms`}}},
		{"bad values, sorted by key", topicProps("t", 1, 1, map[string]string{
			"cleanup.policy": "forever", "min.insync.replicas": "0",
		}), []p.CheckFailure{
			{Property: `config["cleanup.policy"]`, Reason: `config["cleanup.policy"] = "forever": has the item ` +
				`"forever", which Kafka does not accept in cleanup.policy (allowed items, case-sensitive: compact, ` +
				`delete); use a comma-separated list of compact, delete`},
			{Property: `config["min.insync.replicas"]`, Reason: `config["min.insync.replicas"] = "0": is out of ` +
				`range (Kafka's min.insync.replicas is an int (32-bit) from 1 to 2147483647); use a whole number ` +
				`from 1 to 2147483647`},
		}},
		{"unknown config values are checked later", topicProps("t", 1, 1, nil).Set("config",
			property.New(map[string]property.Value{"retention.ms": property.New(property.Computed)})), nil},
		{"__consumer_offsets", topicProps("__consumer_offsets", 50, 3, nil),
			[]p.CheckFailure{{Property: "name", Reason: `name = "__consumer_offsets": ` + internalFix}}},
		{"__transaction_state", topicProps("__transaction_state", 50, 3, nil),
			[]p.CheckFailure{{Property: "name", Reason: `name = "__transaction_state": ` + internalFix}}},
		{"any __ name", topicProps("__mine", 1, 1, nil),
			[]p.CheckFailure{{Property: "name", Reason: `name = "__mine": ` + internalFix}}},
		{"one leading underscore is fine", topicProps("_mine", 1, 1, nil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.Check(p.CheckRequest{Urn: urn("t"), Inputs: tt.inputs})
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.Failures)
		})
	}
}

// TestUpdateLeavesConfigSetOutsidePulumiAlone guards item 2: an update
// changes and deletes only what its preview shows (state vs inputs). Keys set
// outside Pulumi, such as an operator's retention.ms=-1 or a reassignment
// throttle, stay; before, every dynamic key the inputs lacked was deleted.
func TestUpdateLeavesConfigSetOutsidePulumiAlone(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	state := mustCreate(t, s, topicProps("ops", 1, 1, map[string]string{"segment.ms": "600000", "retention.bytes": "1000"}))
	alterTopic(t, c, "ops", map[string]string{"retention.ms": "-1", "leader.replication.throttled.replicas": "*"})

	want := topicProps("ops", 1, 1, map[string]string{"segment.ms": "700000"})
	d, err := s.Diff(p.DiffRequest{ID: "ops", Urn: urn("ops"), State: state, Inputs: want})
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{
		`config["segment.ms"]`:      {Kind: p.Update},
		`config["retention.bytes"]`: {Kind: p.Delete},
	}, d.DetailedDiff)
	resp, err := update(s, "ops", state, want, false)
	require.NoError(t, err)
	assert.Equal(t, want, resp.Properties)
	_, _, cfg := c.describe(t, "ops")
	assert.Equal(t, map[string]string{"segment.ms": "700000", "retention.ms": "-1",
		"leader.replication.throttled.replicas": "*"}, cfg)

	// A refresh records retention.ms, so the next preview shows its removal,
	// but never the throttle, which the reassignment tool clears itself.
	r, err := read(s, "ops", resp.Properties)
	require.NoError(t, err)
	refreshed := topicProps("ops", 1, 1, map[string]string{"segment.ms": "700000", "retention.ms": "-1"})
	assert.Equal(t, refreshed, r.Properties)
	d, err = s.Diff(p.DiffRequest{ID: "ops", Urn: urn("ops"), State: r.Properties, Inputs: want})
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{`config["retention.ms"]`: {Kind: p.Delete}}, d.DetailedDiff)
	_, err = update(s, "ops", r.Properties, want, false)
	require.NoError(t, err)
	_, _, cfg = c.describe(t, "ops")
	assert.Equal(t, map[string]string{"segment.ms": "700000", "leader.replication.throttled.replicas": "*"}, cfg)
}

// TestUpdatePartitionsRaisedOutsidePulumi guards item 5: with Kafka at 3
// partitions (raised by hand) and a state at 1, inputs asking for 2 are
// refused with the count to set; before, the update recorded 2.
func TestUpdatePartitionsRaisedOutsidePulumi(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	state := mustCreate(t, s, topicProps("raised", 1, 1, nil))
	_, err := c.adm.UpdatePartitions(context.Background(), 3, "raised")
	require.NoError(t, err)

	_, err = update(s, "raised", state, topicProps("raised", 2, 1, nil), false)
	require.EqualError(t, err, `topic "raised" has 3 partitions in Kafka (raised outside Pulumi), but the inputs `+
		`ask for partitions = 2, and Kafka cannot shrink a topic. Set partitions = 3 (and run pulumi refresh to record it)`)
	parts, _, _ := c.describe(t, "raised")
	assert.Equal(t, 3, parts)

	want := topicProps("raised", 3, 1, nil)
	resp, err := update(s, "raised", state, want, false)
	require.NoError(t, err)
	assert.Equal(t, want, resp.Properties)
}

// alterTopic sets topic configs behind the provider's back.
func alterTopic(t testing.TB, c *testCluster, topic string, cfg map[string]string) {
	t.Helper()
	var ops []kadm.AlterConfig
	for k, v := range cfg {
		ops = append(ops, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)})
	}
	resps, err := c.adm.AlterTopicConfigs(context.Background(), ops, topic)
	require.NoError(t, err)
	r, err := resps.On(topic, nil)
	require.NoError(t, err)
	require.NoError(t, r.Err)
}

// TestDiffComparesConfigByMeaning guards item 1 in the preview: a state read
// from Kafka (its canonical spelling, e.g. after pulumi import) against
// inputs that mean the same is no change.
func TestDiffComparesConfigByMeaning(t *testing.T) {
	kafka := topic("orders", 1, 1, map[string]string{"cleanup.policy": "compact,delete", "preallocate": "true"})
	inputs := topic("orders", 1, 1, map[string]string{"cleanup.policy": "compact, delete", "preallocate": "TRUE"})
	d, err := diffTopic(kafka, inputs, false)
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "%v", d.DetailedDiff)
	inputs.Config["preallocate"] = "false"
	d, err = diffTopic(kafka, inputs, false)
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{`config["preallocate"]`: {Kind: p.Update}}, d.DetailedDiff)
}
