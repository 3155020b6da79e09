//go:build realkafka

package provider

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
)

// TestRealKafkaRebalanceScaleInAndOut is issue 17's Kafka logic on five real
// brokers (three controllers + two broker-only): with a producer writing
// throughout, Rebalance to brokers 0-2 empties brokers 3 and 4 (scale-in),
// Rebalance to 0-4 gives them a fair share again (scale-out), each with 0
// acknowledged records lost, no throttle left behind, and a second run that
// moves nothing. An interrupted run (its context cut mid-move) is resumed by
// the next.
func TestRealKafkaRebalanceScaleInAndOut(t *testing.T) {
	lk, c := realClusterWith(t, "prod", func(s *config.Spec) { s.Brokers = 5 })
	s := server(t, c.addrs, nil)
	for _, name := range []string{"rb-a", "rb-b", "rb-c"} {
		mustCreate(t, s, topicProps(name, 5, 3, nil))
	}
	cl, err := kafkaadmin.New(kafkaadmin.Connection{BootstrapServers: c.addrs})
	require.NoError(t, err)
	defer cl.Close()

	// Data to move: 3 × 5 partitions, a few MB.
	pad := loadgen.ProduceConfig{Client: loadgen.ClientConfig{Bootstrap: c.addrs}, Topic: "rb-b", RunID: "fill",
		Count: 3000, PadBytes: 1024}
	sum, err := loadgen.Produce(context.Background(), pad)
	require.NoError(t, err)
	require.Equal(t, int64(3000), sum.Acked)

	stopProducer := produceInBackground(t, c.addrs, "rb-a", 5*time.Minute)

	logf := func(line string) { t.Log(line) }
	ctx := context.Background()
	run := func(what string, brokers []int32) kafkaadmin.BalanceResult {
		start := time.Now()
		res, err := cl.Rebalance(ctx, brokers, 0, logf)
		require.NoError(t, err, what)
		t.Logf("FIGURE rebalance %s: %d replicas moved (%d bytes), %d partitions, %.1f s", what, res.ReplicasMoved,
			res.BytesMoved, res.Partitions, time.Since(start).Seconds())
		return res
	}
	counts := func() map[int32]int {
		a, _, err := cl.ClusterAssignment(ctx)
		require.NoError(t, err)
		n := map[int32]int{0: 0, 1: 0, 2: 0, 3: 0, 4: 0}
		for _, r := range a {
			for _, id := range r {
				n[id]++
			}
		}
		return n
	}

	in := run("5 -> 3 brokers", []int32{0, 1, 2})
	assert.Positive(t, in.ReplicasMoved)
	n := counts()
	assert.Zero(t, n[3]+n[4], "brokers 3 and 4 hold no replica after the scale-in: %v", n)
	assert.Positive(t, in.BytesMoved, "the data written to rb-b had to move")

	// Scale-out, cut off while Kafka still moves (as when an up is
	// interrupted), then run again: it waits for what is still moving and
	// finishes the job. Broker 4 shuts down as the moves are submitted, so the
	// copies to it cannot finish before the cut (and the cut run cannot
	// remove its throttle rate); it is back for the second run, which removes
	// the leftover rate too.
	cut, cancel := context.WithCancel(ctx)
	_, err = cl.Rebalance(cut, []int32{0, 1, 2, 3, 4}, 0, func(line string) {
		t.Log(line)
		switch {
		case strings.HasPrefix(line, "submitted "):
			require.NoError(t, lk.StopNode(4))
		case strings.Contains(line, "still reassigning"):
			cancel()
		}
	})
	cancel()
	require.ErrorContains(t, err, "the next run waits for them and goes on")
	// The second run starts while broker 4 is still down, so it finds the
	// moves still running; broker 4 comes back once it waits for them.
	var restarted <-chan error
	var once sync.Once
	start := time.Now()
	out, err := cl.Rebalance(ctx, []int32{0, 1, 2, 3, 4}, 0, func(line string) {
		t.Log(line)
		if strings.Contains(line, "still reassigning") {
			once.Do(func() { restarted = restartLater(t, lk, 4) })
		}
	})
	require.NoError(t, err)
	require.NotNil(t, restarted, "the resumed run never reported moves still running, so node 4 was never restarted")
	require.NoError(t, <-restarted)
	t.Logf("FIGURE rebalance 3 -> 5 brokers (resumed): %.1f s", time.Since(start).Seconds())
	t.Logf("FIGURE rebalance resume: %d reassignments were still running when the second run began", out.Resumed)
	assert.Positive(t, out.Resumed, "the cut run left moves running, which the second run waited for")
	n = counts()
	vals := slices.Collect(maps.Values(n))
	assert.LessOrEqual(t, slices.Max(vals)-slices.Min(vals), 1, "replicas per broker after the scale-out: %v", n)
	assert.Positive(t, n[3])
	assert.Positive(t, n[4])

	again := run("again, balanced", []int32{0, 1, 2, 3, 4})
	assert.Zero(t, again.Partitions, "a second run moves nothing")
	for _, topic := range []string{"rb-a", "rb-b", "rb-c"} {
		assertNoThrottle(t, c, topic, []int32{0, 1, 2, 3, 4}, topic)
	}

	sum = stopProducer()
	res, err := loadgen.Verify(ctx, loadgen.VerifyConfig{Client: loadgen.ClientConfig{Bootstrap: c.addrs}, Topic: "rb-a",
		RunID: "during", Acked: sum.AckedSeqRanges})
	require.NoError(t, err)
	t.Logf("FIGURE rebalance producer: %d acknowledged, %d lost, %d duplicated, longest stall %d ms",
		sum.Acked, res.Lost, res.Duplicated, sum.LongestStallMs)
	assert.Positive(t, sum.Acked)
	assert.Zero(t, res.Lost, "acknowledged records lost")
}

// produceInBackground runs an acks=all idempotent producer of numbered records
// (run id "during", 300/s) into topic for at most d, returns once it has had
// records acknowledged, and returns the function that stops it and hands
// back its summary: the load a move runs under. The producer stops with the
// test (t.Cleanup) if that function is never called; it never touches t.
func produceInBackground(t *testing.T, addrs []string, topic string, d time.Duration) func() loadgen.Summary {
	t.Helper()
	stop := filepath.Join(t.TempDir(), "stop")
	done := make(chan producedLoad, 1)
	acked := &ackCounter{}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sum, err := loadgen.Produce(ctx, loadgen.ProduceConfig{
			Client: loadgen.ClientConfig{Bootstrap: addrs}, Topic: topic, RunID: "during",
			Duration: d, Rate: 300, StopFile: stop, Progress: acked, ProgressEvery: 100 * time.Millisecond})
		done <- producedLoad{sum, err}
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	require.NoError(t, acked.await(done, 1), "producer into %s", topic)
	return func() loadgen.Summary {
		t.Helper()
		require.NoError(t, os.WriteFile(stop, nil, 0o644))
		var r producedLoad
		select {
		case r = <-done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("the producer into %s did not stop within 2 min of its stop file", topic)
		}
		require.NoError(t, r.err, "producer into %s", topic)
		return r.sum
	}
}
