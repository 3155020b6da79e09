//go:build realkafka

package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	upoll "github.com/umbrella-platform/umbrella-streaming/internal/poll"
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
// failed, for the logs. extraProps are server.properties lines added to the
// stack's (localkafka.Options.ExtraProperties).
func realCluster(t *testing.T, stack string, extraProps ...string) (*localkafka.Cluster, *testCluster) {
	t.Helper()
	return realClusterWithOptions(t, stack, func(o *localkafka.Options) { o.ExtraProperties = extraProps })
}

// realClusterWith is realCluster with the stack's spec changed by edit first
// (nil: as shipped), e.g. more brokers than the stack has.
func realClusterWith(t *testing.T, stack string, edit func(*config.Spec)) (*localkafka.Cluster, *testCluster) {
	t.Helper()
	return realClusterWithOptions(t, stack, func(o *localkafka.Options) {
		if edit != nil {
			edit(o.Spec)
		}
	})
}

// realClusterWithOptions is realCluster with the start options (and through
// them the stack's spec) changed by edit first.
func realClusterWithOptions(t *testing.T, stack string, edit func(*localkafka.Options)) (*localkafka.Cluster, *testCluster) {
	t.Helper()
	libs, err := localkafka.FindLibs()
	if err != nil {
		t.Fatalf("the real-Kafka provider tests need the Kafka %s jars: %v", localkafka.KafkaVersion, err)
	}
	spec, err := localkafka.LoadStack("..", stack)
	require.NoError(t, err)
	// The provider tests dial the plaintext client port (or the Options.Security
	// overlay's listeners); the prod stack's own secure listeners are proven in
	// tests/realkafka/security_test.go.
	spec = localkafka.Plaintext(spec)
	dir, err := os.MkdirTemp("", "provider-realkafka-"+stack+"-")
	require.NoError(t, err)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := localkafka.Options{Spec: spec, Dir: dir, KafkaLibs: libs}
	edit(&opts)
	lk, err := localkafka.Start(ctx, opts)
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

// stateWait bounds awaitState.
const stateWait = 30 * time.Second

// awaitState waits until check reports the state the test needs, and fails
// the test with check's last word about it after stateWait. It is for state
// Kafka shows a moment after a write the provider did not make (a broker
// applies a change when it reads it from the metadata log, so a read right
// after an admin request may still show the old state); what the provider
// promises when its call returns is read once, without waiting.
func awaitState(t *testing.T, what string, check func(ctx context.Context) (done bool, last string)) {
	t.Helper()
	last, reads, start := "", 0, time.Now()
	err := upoll.Until(context.Background(), 100*time.Millisecond, stateWait, func(ctx context.Context) (bool, error) {
		var done bool
		reads++
		done, last = check(ctx)
		return done, nil
	})
	require.NoError(t, err, "waiting until %s; last: %s", what, last)
	if reads > 1 {
		t.Logf("%s after %d reads (%s)", what, reads, time.Since(start).Round(10*time.Millisecond))
	}
}

// restartLater restarts the nodes one after the other in the background and
// returns the channel that gets the result. The restart is cancelled and
// waited for when the test ends, so it never runs past its cluster.
func restartLater(t *testing.T, lk *localkafka.Cluster, ids ...int) <-chan error {
	res := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		var errs []error
		for _, id := range ids {
			if err := lk.Restart(ctx, id); err != nil {
				errs = append(errs, fmt.Errorf("restarting node %d: %w", id, err))
			}
		}
		res <- errors.Join(errs...)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	return res
}

// producedLoad is what a background producer's goroutine hands back.
type producedLoad struct {
	sum loadgen.Summary
	err error
}

// ackCounter takes a producer's progress lines (loadgen.ProduceConfig.Progress)
// and keeps its acknowledged count.
type ackCounter struct{ n atomic.Int64 }

var ackedRE = regexp.MustCompile(`\backed=(\d+)`)

func (a *ackCounter) Write(b []byte) (int, error) {
	if m := ackedRE.FindSubmatch(b); m != nil {
		if n, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil {
			a.n.Store(n)
		}
	}
	return len(b), nil
}

// ackWait bounds ackCounter.await.
const ackWait = 2 * time.Minute

// await waits until at least n records are acknowledged; it gives up at once
// if the producer ends (done gets its result, which is put back).
func (a *ackCounter) await(done chan producedLoad, n int64) error {
	start := time.Now()
	err := upoll.Until(context.Background(), 50*time.Millisecond, ackWait, func(context.Context) (bool, error) {
		select {
		case r := <-done:
			done <- r
			return false, fmt.Errorf("the producer ended (%v) with %d acknowledged", r.err, r.sum.Acked)
		default:
		}
		return a.n.Load() >= n, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d records acknowledged (%d after %s): %w", n, a.n.Load(),
			time.Since(start).Round(10*time.Millisecond), err)
	}
	return nil
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

// brokerViews asks every broker of the cluster alone (not whichever one the
// client picks) for the topic's partition count, replicas and ISR of every
// partition, and dynamic configs, keyed by broker ID. A provider operation
// is done only when all of them show its result.
func brokerViews(t *testing.T, c *testCluster, topic string) map[int32]brokerView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list := kmsg.NewPtrMetadataRequest()
	list.Topics = []kmsg.MetadataRequestTopic{}
	resp, err := list.RequestWith(ctx, c.raw)
	require.NoError(t, err)
	require.NotEmpty(t, resp.Brokers)
	views := map[int32]brokerView{}
	for _, b := range resp.Brokers {
		views[b.NodeID] = viewFrom(t, ctx, c.raw.Broker(int(b.NodeID)), topic)
	}
	return views
}

// brokerView is one broker's answer about a topic.
type brokerView struct {
	Err        error // the metadata error code, e.g. UNKNOWN_TOPIC_OR_PARTITION
	Partitions int
	Replicas   [][]int32 // sorted, by partition
	ISR        [][]int32 // sorted, by partition
	Config     map[string]string
}

func viewFrom(t *testing.T, ctx context.Context, r kmsg.Requestor, topic string) brokerView {
	t.Helper()
	md := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	md.Topics = append(md.Topics, rt)
	mresp, err := md.RequestWith(ctx, r)
	require.NoError(t, err)
	require.Len(t, mresp.Topics, 1)
	v := brokerView{Err: kerr.ErrorForCode(mresp.Topics[0].ErrorCode)}
	if v.Err != nil {
		return v
	}
	parts := mresp.Topics[0].Partitions
	slices.SortFunc(parts, func(a, b kmsg.MetadataResponseTopicPartition) int { return int(a.Partition - b.Partition) })
	v.Partitions = len(parts)
	for _, p := range parts {
		v.Replicas = append(v.Replicas, slices.Sorted(slices.Values(p.Replicas)))
		v.ISR = append(v.ISR, slices.Sorted(slices.Values(p.ISR)))
	}
	dc := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeTopic
	res.ResourceName = topic
	dc.Resources = append(dc.Resources, res)
	dresp, err := dc.RequestWith(ctx, r)
	require.NoError(t, err)
	require.Len(t, dresp.Resources, 1)
	require.NoError(t, kerr.ErrorForCode(dresp.Resources[0].ErrorCode))
	v.Config = map[string]string{}
	for _, e := range dresp.Resources[0].Configs {
		if e.Source == kmsg.ConfigSourceDynamicTopicConfig {
			v.Config[e.Name] = deref(e.Value)
		}
	}
	return v
}

// assertEveryBroker checks that every broker already shows the topic with
// partitions partitions of rf replicas each, all in sync, and exactly cfg as
// its dynamic configs. It reads once, without waiting: the provider returns
// only when the whole cluster shows its write.
func assertEveryBroker(t *testing.T, c *testCluster, topic string, partitions, rf int, cfg map[string]string) {
	t.Helper()
	if cfg == nil {
		cfg = map[string]string{}
	}
	for id, v := range brokerViews(t, c, topic) {
		if !assert.NoError(t, v.Err, "broker %d: %s metadata", id, topic) {
			continue
		}
		assert.Equal(t, partitions, v.Partitions, "broker %d: %s partitions", id, topic)
		for p := range v.Replicas {
			assert.Len(t, v.Replicas[p], rf, "broker %d: %s[%d] replicas", id, topic, p)
			assert.Equal(t, v.Replicas[p], v.ISR[p], "broker %d: %s[%d] in-sync replicas", id, topic, p)
		}
		assert.Equal(t, cfg, v.Config, "broker %d: %s dynamic configs", id, topic)
	}
}

// assertNoDrift reads the topic back through the provider and diffs it
// against the inputs it was written with: broker-default configs must not
// appear as changes. It reads once, right after the write, without waiting.
func assertNoDrift(t *testing.T, s *testServer, inputs property.Map) {
	t.Helper()
	name := inputs.Get("name").AsString()
	r, err := read(s, name, inputs)
	require.NoError(t, err)
	assert.Equal(t, name, r.ID)
	assert.Equal(t, inputs, r.Properties, "%s: state read back from Kafka", name)
	d, err := s.Diff(p.DiffRequest{ID: name, Urn: urn(name), State: r.Properties, Inputs: inputs})
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "%s: refresh then preview shows changes %v", name, d.DetailedDiff)
}

// configChurn creates a topic and updates its config n times, each update
// changing a value and alternating which keys are set, and checks right
// after every update that every broker and a provider Read show exactly the
// new config. It guards the config read-after-write fix: before it, a
// DescribeConfigs right after IncrementalAlterConfigs returned the previous
// config in 7/100 calls on 1 node and 27/100 on 3, and an update computed
// from such a stale read could leave a key that should have been deleted.
func configChurn(t *testing.T, c *testCluster, s *testServer, topic string, rf, n int) {
	t.Helper()
	state := mustCreate(t, s, topicProps(topic, 1, rf, nil))
	for i := range n {
		cfg := map[string]string{"retention.ms": strconv.Itoa(3600000 + i)}
		if i%2 == 0 {
			cfg["segment.ms"] = "600000"
		} else {
			cfg["cleanup.policy"] = "compact"
		}
		want := topicProps(topic, 1, rf, cfg)
		resp, err := update(s, topic, state, want, false)
		require.NoError(t, err, "update %d", i)
		assert.Equal(t, want, resp.Properties, "update %d", i)
		assertEveryBroker(t, c, topic, 1, rf, cfg)
		assertNoDrift(t, s, want)
		state = resp.Properties
	}
}

func TestRealKafkaOneNode(t *testing.T) {
	lk, c := realCluster(t, "dev")
	s := server(t, c.addrs, nil)

	t.Run("the dev stack's seven topics, no drift", func(t *testing.T) {
		topics := lk.Spec().Topics
		require.Len(t, topics, 7)
		for _, tp := range topics {
			require.Equal(t, 1, tp.ReplicationFactor, tp.Name)
			inputs := topicProps(tp.Name, tp.Partitions, tp.ReplicationFactor, tp.Config)
			assert.Equal(t, inputs, mustCreate(t, s, inputs))
			parts, rf, cfg := c.describe(t, tp.Name)
			assert.Equal(t, tp.Partitions, parts, tp.Name)
			assert.Equal(t, 1, rf, tp.Name)
			want := tp.Config
			if want == nil {
				want = map[string]string{}
			}
			assert.Equal(t, want, cfg, tp.Name)
			assertNoDrift(t, s, inputs)
		}
	})

	// A partition increase already applied (by a request whose answer was lost, or
	// by hand) is seen on the fresh read and the update converges. The client-level
	// retry of a lost CreatePartitions (INVALID_PARTITIONS "already has N") is
	// covered by the tunnel chaos test in tests/integration.
	t.Run("a partition increase already applied elsewhere counts as done", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("retried", 1, 1, nil))
		resps, err := c.adm.UpdatePartitions(context.Background(), 3, "retried")
		require.NoError(t, err)
		require.NoError(t, resps["retried"].Err, "the first attempt, made behind the provider's back")
		want := topicProps("retried", 3, 1, nil)
		resp, err := update(s, "retried", state, want, false)
		require.NoError(t, err)
		assert.Equal(t, want, resp.Properties)
		parts, _, _ := c.describe(t, "retried")
		assert.Equal(t, 3, parts)
	})

	t.Run("partitions 1 to 3 keeps every record", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("grow", 1, 1, nil))
		offsets := produceNumbered(t, lk, "grow", 0, 500)
		want := topicProps("grow", 3, 1, nil)
		resp, err := update(s, "grow", state, want, false)
		require.NoError(t, err)
		assert.Equal(t, want, resp.Properties)
		parts, _, _ := c.describe(t, "grow")
		assert.Equal(t, 3, parts)
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
		want := topicProps("cfg", 1, 1, map[string]string{"retention.ms": "7200000", "segment.ms": "600000"})
		resp, err := update(s, "cfg", state, want, false)
		require.NoError(t, err)
		assert.Equal(t, want, resp.Properties)
		_, _, cfg := c.describe(t, "cfg")
		assert.Equal(t, map[string]string{"retention.ms": "7200000", "segment.ms": "600000"}, cfg)
		assertNoDrift(t, s, want)

		none := topicProps("cfg", 1, 1, nil)
		resp, err = update(s, "cfg", resp.Properties, none, false)
		require.NoError(t, err)
		assert.Equal(t, none, resp.Properties)
		_, _, cfg = c.describe(t, "cfg")
		assert.Equal(t, map[string]string{}, cfg, "deleted keys fall back to the broker defaults")
		assertNoDrift(t, s, none)
	})

	t.Run("config read back at once after 20 updates", func(t *testing.T) {
		configChurn(t, c, s, "churn", 1, 20)
	})

	// Kafka must accept the DELETE of a key the topic does not have: the
	// provider deletes every key of the recorded state that is not desired,
	// whether or not a broker shows it.
	t.Run("update from a state with a key Kafka does not have", func(t *testing.T) {
		mustCreate(t, s, topicProps("stale", 1, 1, map[string]string{"retention.ms": "3600000"}))
		state := topicProps("stale", 1, 1, map[string]string{"retention.ms": "3600000", "segment.ms": "600000"})
		want := topicProps("stale", 1, 1, map[string]string{"retention.ms": "7200000"})
		resp, err := update(s, "stale", state, want, false)
		require.NoError(t, err)
		assert.Equal(t, want, resp.Properties)
		_, _, cfg := c.describe(t, "stale")
		assert.Equal(t, map[string]string{"retention.ms": "7200000"}, cfg)
		assertNoDrift(t, s, want)
	})

	t.Run("replication factor above the brokers", func(t *testing.T) {
		_, err := create(t, s, topicProps("too-many-replicas", 1, 2, nil), false)
		require.EqualError(t, err, `topic "too-many-replicas": INVALID_REPLICATION_FACTOR: Replication factor is `+
			`below 1 or larger than the number of available brokers. (CreateTopics: Unable to replicate the partition `+
			`2 time(s): The target replication factor of 2 cannot be reached because only 1 broker(s) are registered.)`)
		assert.False(t, c.exists(t, "too-many-replicas"))
	})

	// Check refuses these two at preview (topic_operator_test.go); Create is called
	// without it, to prove Kafka's own refusal still surfaces.
	t.Run("unknown config key", func(t *testing.T) {
		_, err := s.Create(p.CreateRequest{Urn: urn("typo"), Properties: topicProps("typo", 1, 1, map[string]string{"retention.msec": "1000"})})
		require.EqualError(t, err, `topic "typo": INVALID_CONFIG: Configuration is invalid. `+
			`(CreateTopics: Unknown topic config name: retention.msec): config["retention.msec"] is not a topic config `+
			`Kafka knows: fix its spelling (see the topic configs at https://kafka.apache.org/documentation/#topicconfigs) `+
			`or remove it from the Topic's config`)
		assert.False(t, c.exists(t, "typo"))
	})

	t.Run("invalid config value", func(t *testing.T) {
		_, err := s.Create(p.CreateRequest{Urn: urn("bad-policy"), Properties: topicProps("bad-policy", 1, 1, map[string]string{"cleanup.policy": "forever"})})
		require.EqualError(t, err, `topic "bad-policy": INVALID_CONFIG: Configuration is invalid. `+
			`(CreateTopics: Invalid value forever for configuration cleanup.policy: String must be one of: compact, delete): `+
			`config["cleanup.policy"] = "forever" is refused: set config["cleanup.policy"] to a value Kafka accepts `+
			`(the broker's message above says which) or remove it from the Topic's config`)
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
			parts, rf, got := c.describe(t, tp.Name)
			assert.Equal(t, tp.Partitions, parts, tp.Name)
			assert.Equal(t, 3, rf, tp.Name)
			assert.Equal(t, cfg, got, tp.Name)
			assertEveryBroker(t, c, tp.Name, tp.Partitions, 3, cfg)
			require.NoError(t, lk.WaitInSync(ctx, tp.Name, 3))
			assertNoDrift(t, s, inputs)
		}
	})

	t.Run("config read back at once on every broker after 20 updates", func(t *testing.T) {
		configChurn(t, c, s, "churn", 3, 20)
	})

	// Guards the create read-after-write fix: before it, right after Create
	// another broker could still answer UNKNOWN_TOPIC_OR_PARTITION, and a
	// Read that reached it reported the topic deleted.
	t.Run("created topics read back at once on every broker", func(t *testing.T) {
		for i := range 10 {
			name := fmt.Sprintf("fresh-%d", i)
			inputs := topicProps(name, 6, 3, map[string]string{"retention.ms": "3600000"})
			assert.Equal(t, inputs, mustCreate(t, s, inputs))
			assertEveryBroker(t, c, name, 6, 3, map[string]string{"retention.ms": "3600000"})
			assertNoDrift(t, s, inputs)
		}
	})

	t.Run("replication factor 1 to 3 by reassignment", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("spread", 3, 1, nil))
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
		ts, err := lk.Describe(ctx, "spread")
		require.NoError(t, err)
		require.Len(t, ts.Partitions, 3)
		for _, part := range ts.Partitions {
			assert.Equal(t, []int32{0, 1, 2}, part.Replicas, "spread[%d] replicas", part.Partition)
			assert.Equal(t, []int32{0, 1, 2}, part.ISR, "spread[%d] in-sync replicas", part.Partition)
		}
		assertEveryBroker(t, c, "spread", 3, 3, nil)
		for part := int32(0); part < 3; part++ {
			got := consumePartition(t, lk, "spread", part, offsets[part][len(offsets[part])-1]+1)
			require.Len(t, got, 200)
			for i, off := range offsets[part] {
				assert.Equal(t, strconv.Itoa(i), got[off], "spread[%d] offset %d", part, off)
			}
		}
		assertNoDrift(t, s, want)
	})

	// The brokers guard's question (lowering brokers): which partitions still
	// have a replica on a broker, over every topic, before and after moving them.
	t.Run("replicas on a broker, before and after moving them off", func(t *testing.T) {
		mustCreate(t, s, topicProps("drain", 3, 1, nil))
		mustCreate(t, s, topicProps("everywhere", 1, 3, nil))
		cl, err := kafkaadmin.New(kafkaadmin.Connection{BootstrapServers: c.addrs})
		require.NoError(t, err)
		defer cl.Close()
		held, err := cl.ReplicasOnBrokers(ctx, []int32{2})
		require.NoError(t, err)
		on2 := held[2]
		assert.Contains(t, on2, "everywhere-0", "an RF 3 topic has a replica on every broker")
		var drainOn2 []string
		for _, p := range on2 {
			if strings.HasPrefix(p, "drain-") {
				drainOn2 = append(drainOn2, p)
			}
		}
		require.Len(t, drainOn2, 1, "RF 1 over three brokers puts one of drain's partitions on broker 2: %v", on2)

		moves := kadm.AlterPartitionAssignmentsReq{}
		var part int32
		_, err = fmt.Sscanf(drainOn2[0], "drain-%d", &part)
		require.NoError(t, err)
		moves.Assign("drain", part, []int32{0})
		res, err := c.adm.AlterPartitionAssignments(ctx, moves)
		require.NoError(t, err)
		for _, r := range res.Sorted() {
			require.NoError(t, r.Err)
		}
		require.Eventually(t, func() bool {
			held, err := cl.ReplicasOnBrokers(ctx, []int32{2})
			return err == nil && !slices.Contains(held[2], drainOn2[0]) && slices.Contains(held[2], "everywhere-0")
		}, time.Minute, 200*time.Millisecond, "%s moved off broker 2", drainOn2[0])

		none, err := cl.ReplicasOnBrokers(ctx, []int32{7})
		require.NoError(t, err)
		assert.Empty(t, none, "a broker id that holds nothing")
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
