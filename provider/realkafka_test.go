//go:build realkafka

package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/localkafka"
)

// These tests run the provider's in-process server (server_test.go) against
// real Kafka 4.1.1 brokers started by localkafka with the dev (1 node) and
// prod (3 nodes) stack configurations. They cover what kfake cannot prove
// (harness_test.go): Kafka's own validation errors, config sources,
// reassignments that really move replicas, and data kept across changes.
// Build tag realkafka; the Kafka jars come from scripts/tools.sh kafka.

// realCluster starts a local cluster running a stack's broker configuration
// and returns it with a testCluster view for the harness helpers. The
// cluster is stopped when the test ends; its folder is kept if the test
// failed, for the logs.
func realCluster(t *testing.T, stack string) (*localkafka.Cluster, *testCluster) {
	t.Helper()
	libs, err := localkafka.FindLibs()
	if err != nil {
		t.Fatalf("the real-Kafka provider tests need the Kafka %s jars: %v", localkafka.KafkaVersion, err)
	}
	spec, err := localkafka.LoadStack("..", stack)
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "provider-realkafka-"+stack+"-")
	require.NoError(t, err)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lk, err := localkafka.Start(ctx, localkafka.Options{Spec: spec, Dir: dir, KafkaLibs: libs})
	require.NoError(t, err)
	t.Logf("stack %s: %d node(s) ready in %s (%s)", stack, lk.Nodes(), time.Since(start).Round(100*time.Millisecond), dir)
	raw, err := lk.Client()
	require.NoError(t, err)
	t.Cleanup(func() {
		raw.Close()
		assert.NoError(t, lk.Stop())
		if t.Failed() {
			t.Logf("kept %s for the node logs", dir)
		} else {
			os.RemoveAll(dir)
		}
	})
	return lk, &testCluster{addrs: lk.Bootstrap(), adm: kadm.NewClient(raw), raw: raw}
}

// produceNumbered writes n records numbered from 0 to one partition and
// returns their offsets.
func produceNumbered(t *testing.T, lk *localkafka.Cluster, topic string, partition int32, n int) []int64 {
	t.Helper()
	cl, err := lk.Client(kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	defer cl.Close()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Partition: partition, Value: []byte(strconv.Itoa(i))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results := cl.ProduceSync(ctx, recs...)
	require.NoError(t, results.FirstErr())
	offsets := make([]int64, n)
	for i, r := range results {
		offsets[i] = r.Record.Offset
	}
	return offsets
}

// consumePartition reads one partition from its start up to (excluding)
// offset end and returns value by offset.
func consumePartition(t *testing.T, lk *localkafka.Cluster, topic string, partition int32, end int64) map[int64]string {
	t.Helper()
	cl, err := lk.Client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {partition: kgo.NewOffset().AtStart()},
	}))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := map[int64]string{}
	next := int64(0)
	for next < end {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "consuming %s[%d]: reached offset %d of %d", topic, partition, next, end)
		fs.EachError(func(_ string, _ int32, err error) { require.NoError(t, err) })
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Offset] = string(r.Value)
			next = r.Offset + 1
		})
	}
	return got
}

// describeNow is the harness's describe without failing the test, for
// polling: partition count, replicas of partition 0, dynamic topic configs.
func describeNow(c *testCluster, topic string) (partitions, rf int, cfg map[string]string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, c.raw)
	if err != nil {
		return 0, 0, nil, err
	}
	if len(resp.Topics) != 1 {
		return 0, 0, nil, fmt.Errorf("metadata answer with %d topics", len(resp.Topics))
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		return 0, 0, nil, err
	}
	parts := resp.Topics[0].Partitions
	if len(parts) == 0 {
		return 0, 0, nil, errors.New("no partitions")
	}
	rcs, err := c.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return 0, 0, nil, err
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return 0, 0, nil, err
	}
	if rc.Err != nil {
		return 0, 0, nil, rc.Err
	}
	cfg = map[string]string{}
	for _, e := range rc.Configs {
		if e.Source == kmsg.ConfigSourceDynamicTopicConfig {
			cfg[e.Key] = e.MaybeValue()
		}
	}
	return len(parts), len(parts[0].Replicas), cfg, nil
}

// settled waits until Kafka shows the topic as wanted. A broker applies
// topic and config records after the controller has committed them, so a
// read right after a write, even on one node, can still return the old state
// (seen: DescribeConfigs right after IncrementalAlterConfigs returned the
// previous configs).
func settled(t *testing.T, c *testCluster, topic string, partitions, rf int, cfg map[string]string) {
	t.Helper()
	if cfg == nil {
		cfg = map[string]string{}
	}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		p, r, got, err := describeNow(c, topic)
		if !assert.NoError(ct, err) {
			return
		}
		assert.Equal(ct, partitions, p, "partitions")
		assert.Equal(ct, rf, r, "replicas")
		assert.Equal(ct, cfg, got, "dynamic configs")
	}, 15*time.Second, 50*time.Millisecond, "topic %s as Kafka shows it", topic)
}

// assertNoDrift reads the topic back through the provider and diffs it
// against the inputs it was written with: broker-default configs must not
// appear as changes. It polls for the same reason as settled.
func assertNoDrift(t *testing.T, s *testServer, inputs property.Map) {
	t.Helper()
	name := inputs.Get("name").AsString()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		r, err := read(s, name, inputs)
		if !assert.NoError(ct, err) {
			return
		}
		assert.Equal(ct, name, r.ID)
		assert.Equal(ct, inputs, r.Properties, "state read back from Kafka")
		d, err := s.Diff(p.DiffRequest{ID: name, Urn: urn(name), State: r.Properties, Inputs: inputs})
		if !assert.NoError(ct, err) {
			return
		}
		assert.False(ct, d.HasChanges, "refresh then preview shows changes %v", d.DetailedDiff)
	}, 15*time.Second, 50*time.Millisecond, "topic %s read back without drift", name)
}

func TestRealKafkaOneNode(t *testing.T) {
	lk, c := realCluster(t, "dev")
	s := server(t, c.addrs, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("the dev stack's seven topics, no drift", func(t *testing.T) {
		topics := lk.Spec().Topics
		require.Len(t, topics, 7)
		for _, tp := range topics {
			require.Equal(t, 1, tp.ReplicationFactor, tp.Name)
			inputs := topicProps(tp.Name, tp.Partitions, tp.ReplicationFactor, tp.Config)
			assert.Equal(t, inputs, mustCreate(t, s, inputs))
			require.NoError(t, lk.WaitPropagated(ctx, tp.Name, tp.Partitions))
			settled(t, c, tp.Name, tp.Partitions, 1, tp.Config)
			assertNoDrift(t, s, inputs)
		}
	})

	t.Run("partitions 1 to 3 keeps every record", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("grow", 1, 1, nil))
		require.NoError(t, lk.WaitPropagated(ctx, "grow", 1))
		offsets := produceNumbered(t, lk, "grow", 0, 500)
		want := topicProps("grow", 3, 1, nil)
		resp, err := update(s, "grow", state, want, false)
		require.NoError(t, err)
		assert.Equal(t, want, resp.Properties)
		settled(t, c, "grow", 3, 1, nil)
		got := consumePartition(t, lk, "grow", 0, offsets[len(offsets)-1]+1)
		require.Len(t, got, 500)
		for i, off := range offsets {
			assert.Equal(t, strconv.Itoa(i), got[off], "grow[0] offset %d", off)
		}
		assertNoDrift(t, s, want)
	})

	t.Run("config set, change and delete", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("cfg", 1, 1, map[string]string{
			"retention.ms": "3600000", "cleanup.policy": "compact",
		}))
		require.NoError(t, lk.WaitPropagated(ctx, "cfg", 1))
		want := topicProps("cfg", 1, 1, map[string]string{"retention.ms": "7200000", "segment.ms": "600000"})
		resp, err := update(s, "cfg", state, want, false)
		require.NoError(t, err)
		assert.Equal(t, want, resp.Properties)
		settled(t, c, "cfg", 1, 1, map[string]string{"retention.ms": "7200000", "segment.ms": "600000"})
		assertNoDrift(t, s, want)

		none := topicProps("cfg", 1, 1, nil)
		resp, err = update(s, "cfg", resp.Properties, none, false)
		require.NoError(t, err)
		assert.Equal(t, none, resp.Properties)
		settled(t, c, "cfg", 1, 1, nil) // deleted keys fall back to the broker defaults
		assertNoDrift(t, s, none)
	})

	t.Run("replication factor above the brokers", func(t *testing.T) {
		_, err := create(t, s, topicProps("too-many-replicas", 1, 2, nil), false)
		require.EqualError(t, err, `topic "too-many-replicas": INVALID_REPLICATION_FACTOR: Replication factor is `+
			`below 1 or larger than the number of available brokers. (CreateTopics: Unable to replicate the partition `+
			`2 time(s): The target replication factor of 2 cannot be reached because only 1 broker(s) are registered.)`)
		assert.False(t, c.exists(t, "too-many-replicas"))
	})

	t.Run("unknown config key", func(t *testing.T) {
		_, err := create(t, s, topicProps("typo", 1, 1, map[string]string{"retention.msec": "1000"}), false)
		require.EqualError(t, err, `topic "typo": INVALID_CONFIG: Configuration is invalid. `+
			`(CreateTopics: Unknown topic config name: retention.msec)`)
		assert.False(t, c.exists(t, "typo"))
	})

	t.Run("invalid config value", func(t *testing.T) {
		_, err := create(t, s, topicProps("bad-policy", 1, 1, map[string]string{"cleanup.policy": "forever"}), false)
		require.EqualError(t, err, `topic "bad-policy": INVALID_CONFIG: Configuration is invalid. `+
			`(CreateTopics: Invalid value forever for configuration cleanup.policy: String must be one of: compact, delete)`)
	})
}

func TestRealKafkaThreeNodes(t *testing.T) {
	lk, c := realCluster(t, "prod")
	s := server(t, c.addrs, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("the prod stack's seven topics with min.insync.replicas=2, no drift", func(t *testing.T) {
		topics := lk.Spec().Topics
		require.Len(t, topics, 7)
		for _, tp := range topics {
			require.Equal(t, 3, tp.ReplicationFactor, tp.Name)
			cfg := map[string]string{"min.insync.replicas": "2"}
			for k, v := range tp.Config {
				cfg[k] = v
			}
			inputs := topicProps(tp.Name, tp.Partitions, 3, cfg)
			assert.Equal(t, inputs, mustCreate(t, s, inputs))
			require.NoError(t, lk.WaitPropagated(ctx, tp.Name, tp.Partitions))
			settled(t, c, tp.Name, tp.Partitions, 3, cfg)
			require.NoError(t, lk.WaitInSync(ctx, tp.Name, 3))
			assertNoDrift(t, s, inputs)
		}
	})

	t.Run("replication factor 1 to 3 by reassignment", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("spread", 3, 1, nil))
		require.NoError(t, lk.WaitPropagated(ctx, "spread", 3))
		var offsets [3][]int64
		for part := int32(0); part < 3; part++ {
			offsets[part] = produceNumbered(t, lk, "spread", part, 200)
		}
		want := topicProps("spread", 3, 3, nil)
		start := time.Now()
		resp, err := update(s, "spread", state, want, false)
		require.NoError(t, err)
		t.Logf("reassignment to RF 3 done in %s", time.Since(start).Round(10*time.Millisecond))
		assert.Equal(t, want, resp.Properties)
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			ts, err := lk.Describe(ctx, "spread")
			if !assert.NoError(ct, err) || !assert.Len(ct, ts.Partitions, 3) {
				return
			}
			for _, part := range ts.Partitions {
				assert.Equal(ct, []int32{0, 1, 2}, part.Replicas, "spread[%d] replicas", part.Partition)
				assert.Equal(ct, []int32{0, 1, 2}, part.ISR, "spread[%d] in-sync replicas", part.Partition)
			}
		}, 15*time.Second, 50*time.Millisecond, "spread: every partition on 3 in-sync replicas")
		for part := int32(0); part < 3; part++ {
			got := consumePartition(t, lk, "spread", part, offsets[part][len(offsets[part])-1]+1)
			require.Len(t, got, 200)
			for i, off := range offsets[part] {
				assert.Equal(t, strconv.Itoa(i), got[off], "spread[%d] offset %d", part, off)
			}
		}
		assertNoDrift(t, s, want)
	})

	t.Run("replication factor above the brokers", func(t *testing.T) {
		_, err := create(t, s, topicProps("four-copies", 1, 4, nil), false)
		require.EqualError(t, err, `topic "four-copies": INVALID_REPLICATION_FACTOR: Replication factor is `+
			`below 1 or larger than the number of available brokers. (CreateTopics: Unable to replicate the partition `+
			`4 time(s): The target replication factor of 4 cannot be reached because only 3 broker(s) are registered.)`)
		_, err = update(s, "spread", topicProps("spread", 3, 3, nil), topicProps("spread", 3, 4, nil), false)
		require.EqualError(t, err, `topic "spread": replicationFactor = 4 exceeds brokers (3): lower replicationFactor or add brokers`)
	})
}
