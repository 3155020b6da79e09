//go:build realkafka

package loadgen

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
	"github.com/umbrella-platform/umbrella-streaming/internal/testkafka"
)

// Against a real 3-node Kafka 4.1.1 running the prod stack's broker
// configuration, a 20 s produce run survives one node SIGKILLed mid-run and
// restarted: every record is acknowledged (a stall, no failure) and verify
// reads each acknowledged seq back exactly once. The figures are logged with
// the prefix FIGURE.
func TestProduceSurvivesBrokerKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	start := time.Now()
	// loadgen dials the plaintext client port.
	c := testkafka.Start(t, ctx, testkafka.Options{Stack: "prod", Plaintext: true, StartTimeout: 4 * time.Minute})
	require.Equal(t, 3, c.Nodes())
	t.Logf("3 nodes ready in %s", time.Since(start).Round(100*time.Millisecond))

	const topic = "loadgen"
	minISR := "2"
	testkafka.CreateTopic(t, ctx, c, topic, 3, 3, map[string]*string{"min.insync.replicas": &minISR})
	ts, err := c.Describe(ctx, topic)
	require.NoError(t, err)
	victim := int(ts.Partitions[0].Leader) // its leaderships must move

	client := ClientConfig{Bootstrap: c.Bootstrap()}
	type result struct {
		sum Summary
		err error
	}
	acked := &ackWatch{}
	done := make(chan result, 1)
	exited := make(chan struct{})
	pctx, stopProducer := context.WithCancel(ctx)
	t.Cleanup(func() { // before the cluster stops: a test that failed early does not leave it producing
		stopProducer()
		<-exited
	})
	go func() {
		defer close(exited)
		sum, err := Produce(pctx, ProduceConfig{Client: client, Topic: topic, RunID: "realkafka",
			Duration: 20 * time.Second, Rate: 1000, FlushTimeout: 2 * time.Minute,
			Progress: acked, ProgressEvery: 100 * time.Millisecond})
		done <- result{sum, err}
	}()

	// The kill lands mid-run: once records are being acknowledged.
	require.NoError(t, acked.await(ctx, 2000, time.Minute), "records acknowledged before the kill")
	require.NoError(t, c.Kill(victim))
	killed := time.Now()
	atKill := acked.n.Load()
	t.Logf("SIGKILLed node %d (leader of %s[0]) with %d records acknowledged", victim, topic, atKill)
	// The node stays down until the cluster has failed over: its partition
	// moved to another leader, and acks=all writes go on without it.
	err = poll.Until(ctx, 100*time.Millisecond, time.Minute, func(ctx context.Context) (bool, error) {
		ts, err := c.Describe(ctx, topic)
		if err != nil || len(ts.Partitions) == 0 {
			return false, nil
		}
		return ts.Partitions[0].Leader >= 0 && int(ts.Partitions[0].Leader) != victim, nil
	})
	require.NoError(t, err, "%s[0] led by another node than %d after the kill", topic, victim)
	require.NoError(t, acked.await(ctx, atKill+1000, time.Minute), "records acknowledged while node %d is down", victim)
	t.Logf("failed over %s after the kill: %s[0] led elsewhere, %d acknowledged", time.Since(killed).Round(100*time.Millisecond),
		topic, acked.n.Load())
	restarted := make(chan error, 1)
	go func() { restarted <- c.Restart(ctx, victim) }()

	require.NoError(t, <-restarted, "restarting node %d", victim)
	r := <-done
	require.NoError(t, r.err)
	t.Logf("node %d back %s after the kill", victim, time.Since(killed).Round(100*time.Millisecond))
	require.NoError(t, c.WaitInSync(ctx, topic, 3), "the restarted node rejoins every ISR")

	sum := r.sum
	t.Logf("FIGURE sent=%d acked=%d failed=%d pending=%d", sum.Sent, sum.Acked, sum.Failed, sum.Pending)
	t.Logf("FIGURE longest stall %d ms, from %s (the kill was at %s)", sum.LongestStallMs, sum.StallStartedAt,
		killed.UTC().Format(time.RFC3339Nano))
	t.Logf("FIGURE acked seq ranges %v", sum.AckedSeqRanges)
	assert.Empty(t, sum.FailedErrors)
	assert.Zero(t, sum.Failed)
	assert.Zero(t, sum.Pending)
	assert.Equal(t, sum.Sent, sum.Acked)
	assert.Equal(t, Ranges{{0, sum.Sent - 1}}, sum.AckedSeqRanges)
	assert.Greater(t, sum.Sent, int64(15000), "about 20 s at 1000/s")

	res, err := Verify(ctx, VerifyConfig{Client: client, Topic: topic, RunID: "realkafka", Acked: sum.AckedSeqRanges})
	require.NoError(t, err)
	t.Logf("FIGURE verify acked=%d found=%d lost=%d duplicated=%d unacked=%d records=%d", res.Acked, res.Found,
		res.Lost, res.Duplicated, res.Unacked, res.Records)
	assert.Zero(t, res.Lost, "lost sample %v", res.LostSample)
	assert.Zero(t, res.Duplicated, "duplicated sample %v", res.DupSample)
	assert.Equal(t, sum.Acked, res.Found)
	assert.Equal(t, sum.Acked, res.Records)
}

// ackWatch takes Produce's progress lines and keeps the acknowledged count.
type ackWatch struct{ n atomic.Int64 }

var ackedRE = regexp.MustCompile(`\backed=(\d+)`)

func (a *ackWatch) Write(b []byte) (int, error) {
	if m := ackedRE.FindSubmatch(b); m != nil {
		if n, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil {
			a.n.Store(n)
		}
	}
	return len(b), nil
}

// await waits until at least n records are acknowledged.
func (a *ackWatch) await(ctx context.Context, n int64, timeout time.Duration) error {
	err := poll.Until(ctx, 50*time.Millisecond, timeout, func(context.Context) (bool, error) { return a.n.Load() >= n, nil })
	if err != nil {
		return fmt.Errorf("%d acknowledged, waiting for %d: %w", a.n.Load(), n, err)
	}
	return nil
}
