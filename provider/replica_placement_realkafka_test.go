//go:build realkafka

package provider

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
	upoll "github.com/umbrella-platform/umbrella-streaming/internal/poll"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
)

// placementSteps drives two ReplicaPlacement resources, a drain and a
// balance, through the provider server as the engine does across `up`s:
// Check, then Create or Update with the recorded state, then Diff and Read.
type placementSteps struct {
	t     *testing.T
	s     *testServer
	state map[string]property.Map // by resource name (= ID)
}

// up creates the resource, or updates it from its recorded state, with
// inputs, on server s (nil: the steps' own), records the new state and
// returns it.
func (ps *placementSteps) up(s *testServer, name string, inputs property.Map) (property.Map, error) {
	if s == nil {
		s = ps.s
	}
	urn := placementURN(name)
	in := checked(ps.t, ps.s, urn, inputs)
	var out property.Map
	var err error
	if old, ok := ps.state[name]; ok {
		var resp p.UpdateResponse
		resp, err = s.Update(p.UpdateRequest{ID: name, Urn: urn, State: old, Inputs: in})
		out = resp.Properties
	} else {
		var resp p.CreateResponse
		resp, err = s.Create(p.CreateRequest{Urn: urn, Properties: in})
		out = resp.Properties
	}
	if err == nil {
		ps.state[name] = out
	}
	return out, err
}

// preview runs an update's preview (DryRun) and returns its error.
func (ps *placementSteps) preview(name string, inputs property.Map) error {
	urn := placementURN(name)
	_, err := ps.s.Update(p.UpdateRequest{ID: name, Urn: urn, State: ps.state[name],
		Inputs: checked(ps.t, ps.s, urn, inputs), DryRun: true})
	return err
}

// settled asserts what a second `up` would see: no diff, and after a
// refresh (Read) nothing misplaced and still no diff.
func (ps *placementSteps) settled(name string, inputs property.Map) {
	ps.t.Helper()
	urn := placementURN(name)
	in := checked(ps.t, ps.s, urn, inputs)
	requireNoDiff(ps.t, ps.s, urn, name, ps.state[name], in)
	read, err := ps.s.Read(p.ReadRequest{ID: name, Urn: urn, Properties: ps.state[name], Inputs: in})
	require.NoError(ps.t, err)
	assert.Zero(ps.t, read.Properties.Get("misplacedReplicas").AsNumber(), "%s: refreshed misplacedReplicas", name)
	assert.Zero(ps.t, read.Properties.Get("misplacedPartitions").AsNumber(), "%s: refreshed misplacedPartitions", name)
	requireNoDiff(ps.t, ps.s, urn, name, read.Properties, read.Inputs)
}

// lastResult reads an output's lastResult field.
func lastResult(state property.Map, field string) int {
	return int(state.Get("lastResult").AsMap().Get(field).AsNumber())
}

// brokerLoads counts the replicas and preferred leaders (first replicas) each of
// brokers holds, from every broker's agreeing metadata.
func brokerLoads(t *testing.T, cl *kafkaadmin.Client, brokers []int32) (replicas, leaders map[int32]int) {
	t.Helper()
	a, _, err := cl.ClusterAssignment(context.Background())
	require.NoError(t, err)
	replicas, leaders = map[int32]int{}, map[int32]int{}
	for _, id := range brokers {
		replicas[id], leaders[id] = 0, 0
	}
	for _, rs := range a {
		leaders[rs[0]]++
		for _, id := range rs {
			replicas[id]++
		}
	}
	return replicas, leaders
}

// assertFair asserts that brokers 0..n-1 hold all replicas and preferred
// leaders, each within one of the others.
func assertFair(t *testing.T, cl *kafkaadmin.Client, n int) {
	t.Helper()
	replicas, leaders := brokerLoads(t, cl, placement.BrokerRange(n))
	for id := range replicas {
		assert.Less(t, int(id), n, "broker %d is outside 0-%d but holds replicas: %v", id, n-1, replicas)
	}
	vals := slices.Collect(maps.Values(replicas))
	assert.LessOrEqual(t, slices.Max(vals)-slices.Min(vals), 1, "replicas per broker: %v", replicas)
	vals = slices.Collect(maps.Values(leaders))
	assert.LessOrEqual(t, slices.Max(vals)-slices.Min(vals), 1, "preferred leaders per broker: %v", leaders)
	t.Logf("replicas per broker %v, preferred leaders per broker %v", replicas, leaders)
}

// TestRealKafkaReplicaPlacement is issue 17 through the ReplicaPlacement
// resource on five real Kafka 4.1.1 nodes (three controllers, two
// broker-only), with a producer (acks=all, idempotent, numbered records)
// writing throughout, in the order a program runs it (drain, StatefulSet,
// balance):
//   - an adopted cluster is balanced by the first create, and a second update
//     with the same inputs moves nothing;
//   - 5 -> 3: the preview says how many replicas leave brokers 3 and 4; the
//     drain, cut mid-move (its context cancelled), is finished by the next
//     update; brokers 3 and 4 then hold nothing, they stop (the StatefulSet
//     shrinks) and the balance over 0-2 follows;
//   - 3 -> 5: the balance's preview estimates the moves before brokers 3 and 4
//     exist; the drain moves nothing (they are not up); the balance waits for
//     them to register, throttles their copies at its rate, and gives every
//     broker a fair share;
//   - no throttle left behind, no acknowledged record lost, and no diff after.
func TestRealKafkaReplicaPlacement(t *testing.T) {
	lk, c := realClusterWith(t, "prod", func(s *config.Spec) { s.Brokers = 5 })
	s := server(t, c.addrs, map[string]property.Value{"timeout": property.New(60.0)})
	topics := []string{"pl-a", "pl-b", "pl-c"}
	for _, name := range topics {
		mustCreate(t, s, topicProps(name, 6, 3, nil))
	}
	cl, err := kafkaadmin.New(kafkaadmin.Connection{BootstrapServers: c.addrs})
	require.NoError(t, err)
	defer cl.Close()
	ctx := context.Background()

	// Data to move: about 4 MB in pl-b.
	sum, err := loadgen.Produce(ctx, loadgen.ProduceConfig{Client: loadgen.ClientConfig{Bootstrap: c.addrs}, Topic: "pl-b",
		RunID: "fill", Count: 4000, PadBytes: 1024})
	require.NoError(t, err)
	require.Equal(t, int64(4000), sum.Acked)
	stopProducer := produceInBackground(t, c.addrs, "pl-a", 10*time.Minute)

	logs := captureLog(t)
	ps := &placementSteps{t: t, s: s, state: map[string]property.Map{}}
	drain := func(n int) property.Map { return placementProps(n, "drain", 0, 0) }
	balance := func(n int) property.Map { return placementProps(n, "balance", 0, 120) }
	timed := func(what, name string, inputs property.Map) property.Map {
		t.Helper()
		start := time.Now()
		out, err := ps.up(nil, name, inputs)
		require.NoError(t, err, what)
		t.Logf("FIGURE placement %s: %d replicas moved (%d bytes), %d partitions changed, %d resumed, %.1f s", what,
			lastResult(out, "replicasMoved"), lastResult(out, "bytesMoved"), lastResult(out, "partitionsChanged"),
			lastResult(out, "resumed"), time.Since(start).Seconds())
		return out
	}

	// Adopting a running cluster: the drain has nothing to do; the balance
	// spreads what the topics' own placement left uneven; again, nothing.
	out := timed("create drain over 0-4", "drain", drain(5))
	assert.Zero(t, lastResult(out, "partitionsChanged"))
	timed("create balance over 0-4", "balance", balance(5))
	assertFair(t, cl, 5)
	out = timed("balance over 0-4 again", "balance", balance(5))
	assert.Zero(t, lastResult(out, "partitionsChanged"), "a second run with the same inputs changes nothing")
	ps.settled("drain", drain(5))
	ps.settled("balance", balance(5))

	// 5 -> 3, the preview first: it names what the drain will move, and moves nothing.
	before, _ := brokerLoads(t, cl, placement.BrokerRange(5))
	leaving := before[3] + before[4]
	require.NoError(t, ps.preview("drain", drain(3)))
	msgs := logs.messages()
	line := msgs[len(msgs)-1]
	t.Logf("preview: %s", line)
	m := regexp.MustCompile(`^ReplicaPlacement drain to brokers 0-2 \(brokers 5 -> 3\): (\d+) replicas \((.+)\) of (\d+) ` +
		`partitions move off brokers 3, 4, throttled to 52.4 MB/s$`).FindStringSubmatch(line)
	require.NotNil(t, m, "preview line %q", line)
	assert.Equal(t, strconv.Itoa(leaving), m[1], "the preview counts every replica on brokers 3 and 4")
	after, _ := brokerLoads(t, cl, placement.BrokerRange(5))
	assert.Equal(t, before, after, "a preview moves nothing")
	require.ErrorContains(t, ps.preview("drain", drain(2)), `brokers = 2: topic "pl-a" has replication factor 3, more `+
		`than the 2 brokers that would hold its replicas: lower the topic's replicationFactor to 2 or less first`)

	// The drain, cut short: broker 2 stops as the moves are submitted, so the
	// copies to it cannot finish, and the update's context is cancelled while
	// they run, as when an `up` is interrupted.
	cutCtx, cut := context.WithCancel(ctx)
	var stopOnce, cutOnce sync.Once
	logs.setWatch(func(msg string) {
		switch {
		case strings.Contains(msg, "submitted the moves"):
			stopOnce.Do(func() { assert.NoError(t, lk.StopNode(2)) })
		case strings.Contains(msg, "still reassigning"):
			cutOnce.Do(cut)
		}
	})
	start := time.Now()
	_, err = ps.up(&testServer{rpc: s.rpc, ctx: cutCtx}, "drain", drain(3))
	cut()
	require.ErrorContains(t, err, "the next run waits for them and goes on")
	// The next update starts with broker 2 still down, finds the moves
	// running, and broker 2 comes back while it waits.
	var restarted <-chan error
	var restartOnce sync.Once
	logs.setWatch(func(msg string) {
		if strings.Contains(msg, "still reassigning") {
			restartOnce.Do(func() { restarted = restartLater(t, lk, 2) })
		}
	})
	out = timed("drain 5 -> 3 (resumed)", "drain", drain(3))
	require.NotNil(t, restarted, "the resumed drain never logged moves still running, so node 2 was never restarted")
	require.NoError(t, <-restarted)
	logs.setWatch(nil)
	t.Logf("FIGURE placement drain 5 -> 3: %d replicas left brokers 3 and 4 (%s), cut and resumed in %.1f s",
		leaving, m[2], time.Since(start).Seconds())
	assert.Positive(t, lastResult(out, "resumed"), "the cut run left moves running, which the next one waited for")
	assertLedByPreferred(t, c)
	now, _ := brokerLoads(t, cl, placement.BrokerRange(5))
	assert.Zero(t, now[3]+now[4], "brokers 3 and 4 hold nothing after the drain: %v", now)
	ps.settled("drain", drain(3))

	// The StatefulSet shrinks: brokers 3 and 4 go. Then the balance over 0-2.
	require.NoError(t, lk.StopNode(3))
	require.NoError(t, lk.StopNode(4))
	out = timed("balance 5 -> 3", "balance", balance(3))
	assertFair(t, cl, 3)
	// Stopped brokers stay registered (fenced) until unregistered, and Kafka
	// judges metadata.version changes against them: the balance ends them.
	var unregistered []float64
	for _, v := range out.Get("lastResult").AsMap().Get("unregisteredBrokers").AsArray().AsSlice() {
		unregistered = append(unregistered, v.AsNumber())
	}
	assert.Equal(t, []float64{3, 4}, unregistered, "the balance unregistered the stopped brokers")
	regs, err := cl.Registrations(ctx)
	require.NoError(t, err)
	assert.Equal(t, []kafkaadmin.BrokerRegistration{{ID: 0}, {ID: 1}, {ID: 2}}, regs, "registered brokers, fenced included")
	ps.settled("balance", balance(3))

	// 3 -> 5: the drain runs before the StatefulSet grows and moves nothing;
	// the balance runs after it and waits for the new brokers to register.
	// Its preview, before they exist, estimates the moves; with no racks the
	// estimate is the plan. It runs at 20 MiB/s, which the receiving brokers
	// show while the moves run.
	const rate = 20 << 20
	grow := placementProps(5, "balance", rate, 120)
	require.NoError(t, ps.preview("balance", grow))
	msgs = logs.messages()
	line = msgs[len(msgs)-1]
	t.Logf("preview: %s", line)
	est := regexp.MustCompile(`^ReplicaPlacement balance over brokers 0-4 \(brokers 3 -> 5\): (\d+) replicas \((.+)\) move ` +
		`and (\d+) partitions change \(preferred leaders included\), throttled to 21.0 MB/s; brokers 3, 4 are not ` +
		`registered yet: this estimate takes them as registered without a rack, and the update waits for them and ` +
		`plans again$`).FindStringSubmatch(line)
	require.NotNil(t, est, "preview line %q", line)
	out = timed("drain 3 -> 5", "drain", drain(5))
	assert.Zero(t, lastResult(out, "partitionsChanged"), "a drain never loads brokers that are not up")
	restarted = restartLater(t, lk, 3, 4)
	var rateOnce sync.Once
	rates := map[int32]string{}
	logs.setWatch(func(msg string) {
		if strings.Contains(msg, "submitted the moves") {
			rateOnce.Do(func() {
				// A broker shows its rate once it has read it from the
				// metadata log; the provider removes it only after this
				// callback returns.
				for _, id := range []int32{3, 4} {
					_ = upoll.Until(context.Background(), 100*time.Millisecond, throttleWait, func(context.Context) (bool, error) {
						rates[id] = throttleRate(t, c, id)
						return rates[id] != "", nil
					})
				}
			})
		}
	})
	out = timed("balance 3 -> 5", "balance", grow)
	logs.setWatch(nil)
	require.NoError(t, <-restarted)
	assert.True(t, slices.ContainsFunc(logs.messages(), func(m string) bool {
		return strings.Contains(m, "brokers 3, 4 not registered yet")
	}), "the balance waited for brokers 3 and 4")
	assert.Positive(t, lastResult(out, "replicasMoved"))
	assert.Equal(t, map[int32]string{3: strconv.Itoa(rate), 4: strconv.Itoa(rate)}, rates,
		"the new brokers' replication throttle while they fill")
	_, registered, err := cl.ClusterAssignment(ctx)
	require.NoError(t, err)
	if !slices.ContainsFunc(registered, func(b placement.Broker) bool { return b.Rack != "" }) {
		assert.Equal(t, est[1], strconv.Itoa(lastResult(out, "replicasMoved")), "the preview's estimate")
		assert.Equal(t, est[3], strconv.Itoa(lastResult(out, "partitionsChanged")), "the preview's estimate")
	}
	assertFair(t, cl, 5)
	out = timed("balance over 0-4 again", "balance", grow)
	assert.Zero(t, lastResult(out, "partitionsChanged"), "a second up changes nothing")
	ps.settled("drain", drain(5))
	ps.settled("balance", grow)
	for _, topic := range topics {
		assertNoThrottle(t, c, topic, placement.BrokerRange(5), topic)
	}

	sum = stopProducer()
	res, err := loadgen.Verify(ctx, loadgen.VerifyConfig{Client: loadgen.ClientConfig{Bootstrap: c.addrs}, Topic: "pl-a",
		RunID: "during", Acked: sum.AckedSeqRanges})
	require.NoError(t, err)
	t.Logf("FIGURE placement producer: %d acknowledged, %d lost, %d duplicated, longest stall %d ms",
		sum.Acked, res.Lost, res.Duplicated, sum.LongestStallMs)
	assert.Positive(t, sum.Acked)
	assert.Zero(t, res.Lost, "acknowledged records lost")
}

// assertLedByPreferred asserts that every partition is soon led by its
// preferred (first) replica, in the metadata of the broker the client asks.
func assertLedByPreferred(t *testing.T, c *testCluster) {
	t.Helper()
	var off []string
	assert.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, c.raw)
		if err != nil {
			off = []string{err.Error()}
			return false
		}
		off = nil
		for _, tp := range resp.Topics {
			for _, part := range tp.Partitions {
				if len(part.Replicas) > 0 && part.Leader != part.Replicas[0] {
					off = append(off, fmt.Sprintf("%s-%d led by %d, not %d", deref(tp.Topic), part.Partition, part.Leader, part.Replicas[0]))
				}
			}
		}
		return len(off) == 0
	}, 15*time.Second, 200*time.Millisecond, "partitions not led by their preferred replica: %v", &off)
}

// throttleRate is broker id's dynamic leader.replication.throttled.rate
// ("" when unset).
func throttleRate(t *testing.T, c *testCluster, id int32) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bc, err := c.adm.DescribeBrokerConfigs(ctx, id)
	if !assert.NoError(t, err) {
		return ""
	}
	for _, r := range bc {
		for _, cf := range r.Configs {
			if cf.Key == kafkaadmin.LeaderThrottledRate && cf.Source == kmsg.ConfigSourceDynamicBrokerConfig {
				return cf.MaybeValue()
			}
		}
	}
	return ""
}
