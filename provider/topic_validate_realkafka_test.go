//go:build realkafka

package provider

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// These tests run against real Kafka 4.1.1 (localkafka): whether Kafka
// refuses a config, and whether an intermediate state refuses acks=all
// writes, is Kafka's behaviour, which kfake does not have.

// TestRealKafkaValidateFirst guards issue 14 item 7: an update that adds
// partitions and sets a config Kafka refuses used to add the partitions
// (irreversibly) and then fail on the config. Now Kafka validates every
// step first (validateOnly) and the topic is left as it was.
func TestRealKafkaValidateFirst(t *testing.T) {
	_, c := realCluster(t, "dev")
	s := server(t, c.addrs, nil)

	cases := []struct {
		name   string
		config map[string]string
		want   string
	}{
		{"unknown config key", map[string]string{"retention.msec": "1000"},
			`topic "combined-0": INVALID_CONFIG: Configuration is invalid. (IncrementalAlterConfigs validateOnly: ` +
				`Unknown topic config name: retention.msec): config["retention.msec"] is not a topic config Kafka ` +
				`knows: fix its spelling (see the topic configs at https://kafka.apache.org/documentation/#topicconfigs) ` +
				`or remove it from the Topic's config`},
		{"invalid config value", map[string]string{"cleanup.policy": "forever"},
			`topic "combined-1": INVALID_CONFIG: Configuration is invalid. (IncrementalAlterConfigs validateOnly: ` +
				`Invalid value forever for configuration cleanup.policy: String must be one of: compact, delete): ` +
				`config["cleanup.policy"] = "forever" is refused: set config["cleanup.policy"] to a value Kafka ` +
				`accepts (the broker's message above says which) or remove it from the Topic's config`},
	}
	for i, tc := range cases {
		t.Run(tc.name+" fails before the partitions are added", func(t *testing.T) {
			topic := "combined-" + string(rune('0'+i))
			state := mustCreate(t, s, topicProps(topic, 1, 1, map[string]string{"retention.ms": "3600000"}))
			_, err := update(s, topic, state, topicProps(topic, 3, 1, tc.config), false)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			assertEveryBroker(t, c, topic, 1, 1, map[string]string{"retention.ms": "3600000"})
		})
	}
}

// TestRealKafkaUpdateOrder guards the order of Update's steps (issue 14
// item 7): between the steps, acks=all writes must keep working. After each
// step Kafka accepted, the hook writes one record with acks=all; a
// partition with fewer in-sync replicas than min.insync.replicas refuses it
// with NOT_ENOUGH_REPLICAS. The prod stack's brokers default
// min.insync.replicas to 2, so the topics set it explicitly.
//
// Measured on Kafka 4.1.1: the partition leader caps min.insync.replicas at
// the partition's replica count, so RF 1 with min.insync.replicas=2 (the
// state between the steps before the fix) still took the acks=all write;
// what failed before the fix is the order of the steps. The order matters
// on brokers without that cap, and while a raised replication factor's new
// replicas catch up (3 replicas, 1 in sync: a min.insync.replicas of 2 set
// first refuses writes until they join the ISR).
func TestRealKafkaUpdateOrder(t *testing.T) {
	lk, c := realCluster(t, "prod")
	s := server(t, c.addrs, nil)

	writesAfterEachStep := func(t *testing.T, topic string) *[]string {
		var steps []string
		updateStepHook = func(step string) {
			steps = append(steps, step)
			assert.NoError(t, produceAcksAll(t, lk, topic), "an acks=all write after the %s step", step)
		}
		t.Cleanup(func() { updateStepHook = nil })
		return &steps
	}

	// Before the fix the replication factor went first, leaving RF 1 with
	// min.insync.replicas still 2 until the config step.
	t.Run("lowering RF below min.insync.replicas lowers it first", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("narrow", 1, 3, map[string]string{"min.insync.replicas": "2"}))
		require.NoError(t, produceAcksAll(t, lk, "narrow"))
		steps := writesAfterEachStep(t, "narrow")
		want := topicProps("narrow", 1, 1, map[string]string{"min.insync.replicas": "1"})
		resp, err := update(s, "narrow", state, want, false)
		require.NoError(t, err)
		assert.Equal(t, want, resp.Properties)
		assert.Equal(t, []string{"config", "replicationFactor"}, *steps)
		assertEveryBroker(t, c, "narrow", 1, 1, map[string]string{"min.insync.replicas": "1"})
	})

	t.Run("raising min.insync.replicas with RF raises RF first", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("wide", 1, 1, map[string]string{"min.insync.replicas": "1"}))
		steps := writesAfterEachStep(t, "wide")
		want := topicProps("wide", 1, 3, map[string]string{"min.insync.replicas": "2"})
		resp, err := update(s, "wide", state, want, false)
		require.NoError(t, err)
		assert.Equal(t, want, resp.Properties)
		assert.Equal(t, []string{"replicationFactor", "config"}, *steps)
		assertEveryBroker(t, c, "wide", 1, 3, map[string]string{"min.insync.replicas": "2"})
	})
}

// produceAcksAll writes one record to partition 0 with acks=all and returns
// the error Kafka gave, within 5 s (NOT_ENOUGH_REPLICAS is retried until
// then).
func produceAcksAll(t *testing.T, lk *localkafka.Cluster, topic string) error {
	t.Helper()
	cl, err := lk.Client(kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(5*time.Second))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("x")}).FirstErr()
}
