//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// startKafka runs a real Kafka for the stack's spec (as many nodes as its brokers).
func startKafka(t *testing.T, ctx context.Context, stack string) *localkafka.Cluster {
	t.Helper()
	raw, err := config.ReadStackFile(filepath.Join(repoRoot, "Pulumi."+stack+".yaml"))
	require.NoError(t, err)
	spec, err := config.Load(stack, raw)
	require.NoError(t, err)
	c, err := localkafka.Start(ctx, localkafka.Options{Spec: localkafka.Plaintext(spec), Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	return c
}

func topicsConfig(c *localkafka.Cluster, extra string) string {
	b, _ := json.Marshal(c.Bootstrap())
	return fmt.Sprintf(`{"manager":"provider","bootstrapServers":%s%s}`, b, extra)
}

// dynamicConfigs returns a topic's configs set on the topic itself.
func dynamicConfigs(t *testing.T, ctx context.Context, adm *kadm.Client, topic string) map[string]string {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	require.NoError(t, err)
	rc, err := rcs.On(topic, nil)
	require.NoError(t, err)
	out := map[string]string{}
	for _, c := range rc.Configs {
		if c.Source.String() == "DYNAMIC_TOPIC_CONFIG" && c.Value != nil {
			out[c.Key] = *c.Value
		}
	}
	return out
}

func TestDevTopicsThroughTheEngine(t *testing.T) {
	ownNamespace(t)
	ctx := harness.Context(t, 15*time.Minute)
	kafka := startKafka(t, ctx, "dev")
	adm := kafka.Admin()
	state := t.TempDir()
	cfg := func(extra map[string]string) map[string]string {
		m := map[string]string{"topics": topicsConfig(kafka, `,"allowReplace":true`)}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	st := openStack(t, ctx, "dev", state, cfg(nil))
	_, err := st.Up(ctx)
	require.NoError(t, err, "dev up with provider topics")

	for _, inv := range config.Inventory {
		ts, err := kafka.Describe(ctx, inv.Name)
		require.NoError(t, err, inv.Name)
		require.Len(t, ts.Partitions, 1, inv.Name)
		assert.Len(t, ts.Partitions[0].Replicas, 1, inv.Name)
		assert.Empty(t, dynamicConfigs(t, ctx, adm, inv.Name), "%s: nothing set beyond the broker defaults", inv.Name)
	}

	t.Run("no perpetual diff", func(t *testing.T) {
		again, err := st.Up(ctx)
		require.NoError(t, err)
		noChanges(t, *again.Summary.ResourceChanges, "second up")
		ref, err := st.Refresh(ctx)
		require.NoError(t, err)
		noChanges(t, *ref.Summary.ResourceChanges, "refresh")
	})

	t.Run("partitions grow in place and keep every record", func(t *testing.T) {
		cl, err := kafka.Client(kgo.DefaultProduceTopic("raw-messages"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		require.NoError(t, err)
		defer cl.Close()
		for i := 0; i < 100; i++ {
			require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i)), Partition: 0}).FirstErr())
		}
		grow := openStack(t, ctx, "dev", state, cfg(map[string]string{"topicOverrides": `{"raw-messages":{"partitions":3}}`}))
		pre, err := grow.Preview(ctx)
		require.NoError(t, err)
		assert.Zero(t, replaceSteps(pre.ChangeSummary), "%v", pre.ChangeSummary)
		assert.Equal(t, 1, pre.ChangeSummary[apitype.OpUpdate], "%v", pre.ChangeSummary)
		_, err = grow.Up(ctx)
		require.NoError(t, err)
		ts, err := kafka.Describe(ctx, "raw-messages")
		require.NoError(t, err)
		assert.Len(t, ts.Partitions, 3)

		reader, err := kafka.Client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"raw-messages": {0: kgo.NewOffset().AtStart()}}))
		require.NoError(t, err)
		defer reader.Close()
		var got []string
		var offsets []int64
		for len(got) < 100 && ctx.Err() == nil {
			fs := reader.PollFetches(ctx)
			require.NoError(t, fs.Err())
			fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)); offsets = append(offsets, r.Offset) })
		}
		for i := range got {
			assert.Equal(t, fmt.Sprint(i), got[i])
			assert.Equal(t, int64(i), offsets[i])
		}

		shrink := openStack(t, ctx, "dev", state, cfg(map[string]string{"topicOverrides": `{"raw-messages":{"partitions":2}}`}))
		_, err = shrink.Preview(ctx)
		require.Error(t, err, "a partition decrease is refused at preview")
		assert.Contains(t, err.Error(), `topic "raw-messages": partitions 3 -> 2 is a decrease, and Kafka cannot shrink`)
	})

	t.Run("config set, drift and delete", func(t *testing.T) {
		base := map[string]string{"topicOverrides": `{"raw-messages":{"partitions":3},"alerts":{"retentionHours":24}}`}
		set := openStack(t, ctx, "dev", state, cfg(base))
		_, err := set.Up(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"retention.ms": "86400000"}, dynamicConfigs(t, ctx, adm, "alerts"))

		// Drift made outside Pulumi shows on refresh, and up reverts it.
		_, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "segment.ms", Value: ptr("3600000")}}, "alerts")
		require.NoError(t, err)
		pre, err := set.PreviewRefresh(ctx)
		require.NoError(t, err)
		// Besides the topic, the guard's StackReference to this stack shows as updated
		// whenever the stack's outputs changed since it was last read.
		assert.Regexp(t, `umbrellakafka:index:Topic alerts\s+update`, pre.StdOut, "refresh sees the drift")
		assert.NotRegexp(t, `umbrellakafka:index:Topic (raw-messages|parsed-messages|dead-letter)\s+update`, pre.StdOut, "and only there")
		_, err = set.Refresh(ctx)
		require.NoError(t, err)
		_, err = set.Up(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"retention.ms": "86400000"}, dynamicConfigs(t, ctx, adm, "alerts"), "up reverts the drift")

		unset := openStack(t, ctx, "dev", state, cfg(map[string]string{"topicOverrides": `{"raw-messages":{"partitions":3}}`}))
		_, err = unset.Up(ctx)
		require.NoError(t, err)
		assert.Empty(t, dynamicConfigs(t, ctx, adm, "alerts"), "removing the override deletes the topic config")
	})

	t.Run("destroy deletes the dev topics", func(t *testing.T) {
		fin := openStack(t, ctx, "dev", state, cfg(map[string]string{"topicOverrides": `{"raw-messages":{"partitions":3}}`}))
		_, err := fin.Destroy(ctx)
		require.NoError(t, err)
		for _, inv := range config.Inventory {
			_, err := kafka.Describe(ctx, inv.Name)
			assert.Error(t, err, "%s is gone", inv.Name)
		}
	})
}

func TestProdTopicsThroughTheEngine(t *testing.T) {
	ownNamespace(t)
	ctx := harness.Context(t, 20*time.Minute)
	kafka := startKafka(t, ctx, "prod")
	adm := kafka.Admin()
	state := t.TempDir()
	// The override replaces the whole topics object, so it restates prod's protect.
	topics := topicsConfig(kafka, `,"protect":true`)
	st := openStack(t, ctx, "prod", state, map[string]string{"topics": topics,
		"topicOverrides": `{"dead-letter":{"replicationFactor":2}}`})
	_, err := st.Up(ctx)
	require.NoError(t, err, "prod up with provider topics")

	for _, inv := range config.Inventory {
		ts, err := kafka.Describe(ctx, inv.Name)
		require.NoError(t, err, inv.Name)
		require.Len(t, ts.Partitions, 3, inv.Name)
		want := 3
		if inv.Name == "dead-letter" {
			want = 2
		}
		for _, p := range ts.Partitions {
			assert.Len(t, p.Replicas, want, "%s/%d", inv.Name, p.Partition)
		}
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "alerts")
	require.NoError(t, err)
	rc, err := rcs.On("alerts", nil)
	require.NoError(t, err)
	var minISR *string
	for _, c := range rc.Configs {
		if c.Key == "min.insync.replicas" {
			minISR = c.Value
		}
	}
	require.NotNil(t, minISR, "Kafka described alerts without min.insync.replicas (%d configs)", len(rc.Configs))
	assert.Equal(t, "2", *minISR, "prod brokers enforce min.insync.replicas 2")

	again, err := st.Up(ctx)
	require.NoError(t, err)
	noChanges(t, *again.Summary.ResourceChanges, "second prod up")
	ref, err := st.Refresh(ctx)
	require.NoError(t, err)
	noChanges(t, *ref.Summary.ResourceChanges, "prod refresh")

	t.Run("replication factor 2 -> 3 by reassignment", func(t *testing.T) {
		rf := openStack(t, ctx, "prod", state, map[string]string{"topics": topics})
		pre, err := rf.Preview(ctx)
		require.NoError(t, err)
		assert.Zero(t, replaceSteps(pre.ChangeSummary), "%v", pre.ChangeSummary)
		_, err = rf.Up(ctx)
		require.NoError(t, err)
		require.NoError(t, kafka.WaitInSync(ctx, "dead-letter", 3))
		ts, err := kafka.Describe(ctx, "dead-letter")
		require.NoError(t, err)
		for _, p := range ts.Partitions {
			assert.Len(t, p.Replicas, 3)
			assert.Len(t, p.ISR, 3)
		}
	})

	t.Run("prod refuses to delete topics", func(t *testing.T) {
		rf := openStack(t, ctx, "prod", state, map[string]string{"topics": topics})
		_, err := rf.Destroy(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is protected: the provider sets protectTopics = true")
		_, err = kafka.Describe(ctx, "alerts")
		assert.NoError(t, err, "the topic and its data are still there")

		off := openStack(t, ctx, "prod", state, map[string]string{"topics": topicsConfig(kafka, `,"protect":false`)})
		_, err = off.Up(ctx)
		require.NoError(t, err)
		_, err = off.Destroy(ctx)
		require.NoError(t, err, "with protection lifted on purpose, destroy deletes")
	})
}

func ptr[T any](v T) *T { return &v }
