package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// The ReplicaPlacement's Kafka behaviour (moves, throttles, resuming) is
// proven on real brokers in replica_placement_realkafka_test.go; kfake
// ignores reassignments. Here: the pure planner, Check, Diff, and the
// preview's request flow and messages through the provider server.

// placementProps builds ReplicaPlacement inputs; 0 leaves an optional out.
func placementProps(brokers int, mode string, throttle, timeout int) property.Map {
	m := map[string]property.Value{"brokers": property.New(float64(brokers)), "mode": property.New(mode)}
	if throttle != 0 {
		m["throttleBytesPerSecond"] = property.New(float64(throttle))
	}
	if timeout != 0 {
		m["timeoutSeconds"] = property.New(float64(timeout))
	}
	return property.NewMap(m)
}

func placementURN(name string) presource.URN { return resURN(ReplicaPlacementToken, name) }

// logLines captures the provider's user-visible log (the slog fallback the
// in-process server uses, having no engine host) while the test runs; watch,
// when set, sees each message as it is logged.
type logLines struct {
	mu    sync.Mutex
	msgs  []string
	watch func(msg string)
}

// Write takes one JSON log record (slog's JSONHandler writes one per call).
func (l *logLines) Write(b []byte) (int, error) {
	var rec struct {
		Msg string `json:"msg"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return 0, err
	}
	l.mu.Lock()
	l.msgs = append(l.msgs, rec.Msg)
	watch := l.watch
	l.mu.Unlock()
	if watch != nil {
		watch(rec.Msg)
	}
	return len(b), nil
}

// messages are the logged messages, in order.
func (l *logLines) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// setWatch replaces the watcher (nil: none).
func (l *logLines) setWatch(f func(string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.watch = f
}

func captureLog(t *testing.T) *logLines {
	l := &logLines{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(l, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return l
}

// TestPlacementCheck: defaults applied, and each bad input refused with the
// field, the value and the fix, before anything runs.
func TestPlacementCheck(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	in := checked(t, s, placementURN("drain"), placementProps(3, "drain", 0, 0))
	assert.Equal(t, float64(kafkaadmin.ReassignThrottleBytesPerSecond), in.Get("throttleBytesPerSecond").AsNumber())
	assert.Equal(t, float64(DefaultPlacementTimeoutSeconds), in.Get("timeoutSeconds").AsNumber())

	for _, tc := range []struct {
		name   string
		inputs property.Map
		field  string
		reason string
	}{
		{"no brokers", placementProps(0, "drain", 0, 0), "brokers",
			"brokers = 0: is below 1; a cluster needs at least one broker to hold the replicas"},
		{"misspelt mode", placementProps(3, "drian", 0, 0), "mode",
			`mode = "drian": is not a placement mode; did you mean "drain"? use "drain" (before the StatefulSet, ` +
				`for a shrink) or "balance" (after it, for a grow)`},
		{"negative throttle", placementProps(3, "balance", -5, 0), "throttleBytesPerSecond",
			"throttleBytesPerSecond = -5: is below 1; set the bytes per second each broker may replicate for the " +
				"moves, e.g. 52428800 (50 MiB/s)"},
		{"negative timeout", placementProps(3, "balance", 0, -1), "timeoutSeconds",
			"timeoutSeconds = -1: is below 1; set how long to wait for the brokers to register, e.g. 600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Check(p.CheckRequest{Urn: placementURN("x"), Inputs: tc.inputs})
			require.NoError(t, err)
			require.Len(t, resp.Failures, 1)
			assert.Equal(t, tc.field, resp.Failures[0].Property)
			assert.Equal(t, tc.reason, resp.Failures[0].Reason)
		})
	}
}

// TestPlacementDiff: an input change is an update in place; a default
// written out is no change; recorded misplacement proposes an update.
func TestPlacementDiff(t *testing.T) {
	throttle, timeout := kafkaadmin.ReassignThrottleBytesPerSecond, DefaultPlacementTimeoutSeconds
	base := ReplicaPlacementArgs{Brokers: 3, Mode: "drain", ThrottleBytesPerSecond: &throttle, TimeoutSeconds: &timeout}
	state := ReplicaPlacementState{ReplicaPlacementArgs: base}
	update := p.PropertyDiff{Kind: p.Update, InputDiff: true}

	assert.Equal(t, p.DiffResponse{DetailedDiff: map[string]p.PropertyDiff{}}, diffPlacement(state, base))
	assert.False(t, diffPlacement(state, ReplicaPlacementArgs{Brokers: 3, Mode: "drain"}).HasChanges,
		"defaults left out are the same inputs")

	grown := base
	grown.Brokers = 5
	assert.Equal(t, p.DiffResponse{HasChanges: true, DetailedDiff: map[string]p.PropertyDiff{"brokers": update}},
		diffPlacement(state, grown))
	faster := base
	faster.ThrottleBytesPerSecond = new(int)
	*faster.ThrottleBytesPerSecond = 100 << 20
	assert.Equal(t, p.DiffResponse{HasChanges: true, DetailedDiff: map[string]p.PropertyDiff{"throttleBytesPerSecond": update}},
		diffPlacement(state, faster))

	drifted := state
	drifted.MisplacedReplicas, drifted.MisplacedPartitions = 4, 2
	assert.Equal(t, p.DiffResponse{HasChanges: true, DetailedDiff: map[string]p.PropertyDiff{
		"misplacedReplicas": {Kind: p.Update}, "misplacedPartitions": {Kind: p.Update},
	}}, diffPlacement(drifted, base))
	leaders := state
	leaders.MisplacedPartitions = 1 // a preferred-leader swap moves no replica
	assert.True(t, diffPlacement(leaders, base).HasChanges)
}

// replicasOutside counts, from the cluster's own metadata, the replicas on
// brokers >= n and their partitions.
func replicasOutside(t *testing.T, c *testCluster, topics []string, n int32) (replicas, partitions int) {
	t.Helper()
	for _, topic := range topics {
		for _, part := range c.direct(t, topic).Partitions {
			out := 0
			for _, r := range part.Replicas {
				if r >= n {
					out++
				}
			}
			replicas += out
			if out > 0 {
				partitions++
			}
		}
	}
	return replicas, partitions
}

// replicaLists is the topic's replica list (preferred leader first) by
// partition, from the cluster's own metadata.
func replicaLists(t *testing.T, c *testCluster, topic string) map[int32][]int32 {
	t.Helper()
	out := map[int32][]int32{}
	for _, part := range c.direct(t, topic).Partitions {
		out[part.Partition] = part.Replicas
	}
	return out
}

// TestPlacementPreviewPlansWithoutMoving: on five (kfake) brokers, a
// preview of a drain to three logs how many replicas move off brokers 3 and
// 4 (counted here from metadata), a drain to one fails naming the RF 2
// topic, and a preview changes nothing.
func TestPlacementPreviewPlansWithoutMoving(t *testing.T) {
	c := newCluster(t, kfake.NumBrokers(5))
	ctx := context.Background()
	_, err := c.adm.CreateTopic(ctx, 10, 2, nil, "orders")
	require.NoError(t, err)
	s := server(t, c.addrs, nil)
	logs := captureLog(t)
	before := replicaLists(t, c, "orders")

	urn := placementURN("drain")
	prev := checked(t, s, urn, placementProps(5, "drain", 0, 0))
	next := checked(t, s, urn, placementProps(3, "drain", 0, 0))
	state := property.NewMap(map[string]property.Value{
		"brokers": property.New(5.0), "mode": property.New("drain"),
		"throttleBytesPerSecond": prev.Get("throttleBytesPerSecond"), "timeoutSeconds": prev.Get("timeoutSeconds"),
		"misplacedReplicas": property.New(0.0), "misplacedPartitions": property.New(0.0),
	})
	d, err := s.Diff(p.DiffRequest{ID: "drain", Urn: urn, State: state, Inputs: next})
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{"brokers": {Kind: p.Update, InputDiff: true}}, d.DetailedDiff)

	_, err = s.Update(p.UpdateRequest{ID: "drain", Urn: urn, State: state, Inputs: next, DryRun: true})
	require.NoError(t, err)
	replicas, partitions := replicasOutside(t, c, []string{"orders"}, 3)
	require.Positive(t, replicas, "kfake spreads RF 2 over all five brokers")
	assert.Equal(t, []string{fmt.Sprintf("ReplicaPlacement drain to brokers 0-2 (brokers 5 -> 3): %d replicas (0 B) of %d "+
		"partitions move off brokers 3, 4, throttled to 52.4 MB/s", replicas, partitions)}, logs.messages())
	assert.Equal(t, before, replicaLists(t, c, "orders"), "a preview moves nothing")

	one := checked(t, s, urn, placementProps(1, "drain", 0, 0))
	_, err = s.Update(p.UpdateRequest{ID: "drain", Urn: urn, State: state, Inputs: one, DryRun: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `ReplicaPlacement drain to brokers 0 (brokers 5 -> 1): brokers = 1: topic "orders" `+
		`has replication factor 2, more than the 1 brokers that would hold its replicas: lower the topic's `+
		`replicationFactor to 1 or less first (and let that update finish), or keep brokers = 2 or more`)

	// A balance to three previews that brokers 3 and 4, still registered, go once stopped.
	burn := placementURN("balance")
	bstate := state.Set("mode", property.New("balance"))
	_, err = s.Update(p.UpdateRequest{ID: "balance", Urn: burn, State: bstate,
		Inputs: checked(t, s, burn, placementProps(3, "balance", 0, 0)), DryRun: true})
	require.NoError(t, err)
	msgs := logs.messages()
	assert.Regexp(t, `^ReplicaPlacement balance over brokers 0-2 \(brokers 5 -> 3\): .+; then brokers 3, 4 \(outside 0-2\) `+
		`are unregistered once stopped$`, msgs[len(msgs)-1])
	assert.Equal(t, before, replicaLists(t, c, "orders"), "a preview moves nothing")

	// A create previews too, counting the registered brokers as "before".
	_, err = s.Create(p.CreateRequest{Urn: placementURN("balance"), Properties: checked(t, s, placementURN("balance"),
		placementProps(7, "balance", 0, 0)), DryRun: true})
	require.NoError(t, err)
	msgs = logs.messages()
	assert.Regexp(t, `^ReplicaPlacement balance over brokers 0-6 \(brokers 5 -> 7\): \d+ replicas \(0 B\) move and \d+ `+
		`partitions change \(preferred leaders included\), throttled to 52.4 MB/s; brokers 5, 6 are not registered `+
		`yet: this estimate takes them as registered without a rack, and the update waits for them and plans again$`,
		msgs[len(msgs)-1])
}

// TestPlacementReadAndNoOpCreate: a drain over brokers that hold every
// replica creates with nothing moved and no diff after; a refresh of a
// balance over three of the five brokers reads the replicas on brokers 3
// and 4 as misplaced, and the next diff proposes an update.
func TestPlacementReadAndNoOpCreate(t *testing.T) {
	c := newCluster(t, kfake.NumBrokers(5))
	_, err := c.adm.CreateTopic(context.Background(), 10, 2, nil, "orders")
	require.NoError(t, err)
	s := server(t, c.addrs, nil)

	urn := placementURN("drain")
	id, in, state := upResource(t, s, urn, placementProps(5, "drain", 0, 0))
	assert.Equal(t, "drain", id)
	assert.Equal(t, 0.0, state.Get("misplacedReplicas").AsNumber())
	assert.Equal(t, property.NewMap(map[string]property.Value{
		"replicasMoved": property.New(0.0), "bytesMoved": property.New(0.0), "partitionsChanged": property.New(0.0),
		"resumed": property.New(0.0),
	}), state.Get("lastResult").AsMap())
	requireNoDiff(t, s, urn, id, state, in)
	read, err := s.Read(p.ReadRequest{ID: id, Urn: urn, Properties: state, Inputs: in})
	require.NoError(t, err)
	assert.Equal(t, state, read.Properties, "a refresh right after shows the same state")
	requireNoDiff(t, s, urn, id, read.Properties, read.Inputs)

	// A balance over 0-2 recorded as done, refreshed while brokers 3 and 4 hold replicas.
	burn := placementURN("balance")
	bin := checked(t, s, burn, placementProps(3, "balance", 0, 0))
	recorded := property.NewMap(map[string]property.Value{
		"brokers": property.New(3.0), "mode": property.New("balance"),
		"throttleBytesPerSecond": bin.Get("throttleBytesPerSecond"), "timeoutSeconds": bin.Get("timeoutSeconds"),
		"misplacedReplicas": property.New(0.0), "misplacedPartitions": property.New(0.0),
	})
	read, err = s.Read(p.ReadRequest{ID: "balance", Urn: burn, Properties: recorded, Inputs: bin})
	require.NoError(t, err)
	replicas, _ := replicasOutside(t, c, []string{"orders"}, 3)
	assert.GreaterOrEqual(t, read.Properties.Get("misplacedReplicas").AsNumber(), float64(replicas),
		"at least every replica on brokers 3 and 4 moves")
	assert.Equal(t, bin, read.Inputs, "a refresh keeps the inputs")
	d, err := s.Diff(p.DiffRequest{ID: "balance", Urn: burn, State: read.Properties, Inputs: bin})
	require.NoError(t, err)
	assert.True(t, d.HasChanges)
	assert.Equal(t, p.Update, d.DetailedDiff["misplacedReplicas"].Kind)

	_, err = s.Read(p.ReadRequest{ID: "imported", Urn: burn})
	assert.EqualError(t, err, `ReplicaPlacement "imported" cannot be imported: it holds no Kafka object; declare it in `+
		`the program instead (its first up drains or balances)`)
}

// TestPlacementWithoutKafka: with no broker listening (a new stack), a
// preview logs that the plan comes later instead of failing, a drain's
// create has nothing to drain, and a balance fails once timeoutSeconds
// passes without its brokers, saying what to check.
func TestPlacementWithoutKafka(t *testing.T) {
	s := server(t, []string{deadAddr(t)}, nil)
	logs := captureLog(t)

	urn := placementURN("drain")
	in := checked(t, s, urn, placementProps(3, "drain", 0, 0))
	start := time.Now()
	_, err := s.Create(p.CreateRequest{Urn: urn, Properties: in, DryRun: true})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), kafkaadmin.PlacementProbeTimeout+5*time.Second, "bounded by the probe")
	msgs := logs.messages()
	require.Len(t, msgs, 1)
	assert.Regexp(t, `^ReplicaPlacement drain to brokers 0-2: Kafka did not answer within 10s \(.+\); the plan will be `+
		`computed during the update$`, msgs[0])

	resp, err := s.Create(p.CreateRequest{Urn: urn, Properties: in})
	require.NoError(t, err)
	_, has := resp.Properties.GetOk("lastResult")
	assert.False(t, has, "no run reached Kafka: no lastResult")
	msgs = logs.messages()
	assert.Regexp(t, `^ReplicaPlacement drain to brokers 0-2: Kafka did not answer within 10s \(.+\): no cluster yet, `+
		`nothing to drain$`, msgs[len(msgs)-1])

	// An update of a drain (a shrink of an existing cluster) needs Kafka.
	_, err = s.Update(p.UpdateRequest{ID: "drain", Urn: urn, State: resp.Properties,
		Inputs: checked(t, s, urn, placementProps(2, "drain", 0, 0))})
	require.Error(t, err)
	assert.Regexp(t, `^ReplicaPlacement drain to brokers 0-1: Kafka did not answer within 10s: .+: a drain must read where `+
		`the replicas are before brokers go; check bootstrapServers and that the brokers run, then run again$`, err.Error())

	burn := placementURN("balance")
	_, err = s.Create(p.CreateRequest{Urn: burn, Properties: checked(t, s, burn, placementProps(3, "balance", 0, 2))})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ReplicaPlacement balance over brokers 0-2: waiting for brokers 0-2 to register: "+
		"gave up after 2s")
	assert.Contains(t, err.Error(), "check that the broker pods start (kubectl get pods), or raise timeoutSeconds")
}

// deadAddr is a loopback address where nothing listens (a new stack's
// brokers, before they exist).
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestPlacementUnknownBrokers: brokers computed from another resource's
// output passes Check and previews as an update whose plan comes later,
// without asking Kafka (a silent listener counts the connections).
func TestPlacementUnknownBrokers(t *testing.T) {
	addr, accepted := silentListener(t)
	s := server(t, []string{addr}, nil)
	logs := captureLog(t)
	urn := placementURN("balance")
	in := checked(t, s, urn, placementProps(3, "balance", 0, 0).Set("brokers", property.New(property.Computed)))
	assert.True(t, in.Get("brokers").IsComputed())
	state := property.NewMap(map[string]property.Value{
		"brokers": property.New(3.0), "mode": property.New("balance"),
		"throttleBytesPerSecond": in.Get("throttleBytesPerSecond"), "timeoutSeconds": in.Get("timeoutSeconds"),
		"misplacedReplicas": property.New(0.0), "misplacedPartitions": property.New(0.0),
	})
	d, err := s.Diff(p.DiffRequest{ID: "balance", Urn: urn, State: state, Inputs: in})
	require.NoError(t, err)
	assert.True(t, d.HasChanges)
	assert.Equal(t, p.Update, d.DetailedDiff["brokers"].Kind)
	_, err = s.Update(p.UpdateRequest{ID: "balance", Urn: urn, State: state, Inputs: in, DryRun: true})
	require.NoError(t, err)
	assert.Zero(t, accepted(), "Kafka is not asked: connections to the broker address")
	assert.Equal(t, []string{"ReplicaPlacement balance: brokers is not known yet; the plan will be computed during the update"},
		logs.messages())
}

// TestPlacementSchema guards the names the SDK and programs depend on.
func TestPlacementSchema(t *testing.T) {
	spec, err := p.GetSchema(context.Background(), Name, Version, Provider())
	require.NoError(t, err)
	res, ok := spec.Resources[ReplicaPlacementToken]
	require.True(t, ok, "resource %s missing", ReplicaPlacementToken)
	assert.Equal(t, []string{"brokers", "mode"}, res.RequiredInputs)
	for _, k := range []string{"brokers", "mode", "throttleBytesPerSecond", "timeoutSeconds"} {
		assert.NotEmpty(t, res.InputProperties[k].Description, "input %s undocumented", k)
	}
	for _, k := range []string{"brokers", "mode", "throttleBytesPerSecond", "timeoutSeconds", "misplacedReplicas",
		"misplacedPartitions", "lastResult"} {
		assert.NotEmpty(t, res.Properties[k].Description, "output %s undocumented", k)
	}
	assert.Equal(t, "#/types/umbrellakafka:index:PlacementResult", res.Properties["lastResult"].Ref)
	result, ok := spec.Types["umbrellakafka:index:PlacementResult"]
	require.True(t, ok)
	assert.ElementsMatch(t, []string{"replicasMoved", "bytesMoved", "partitionsChanged", "resumed"}, result.Required)
}
