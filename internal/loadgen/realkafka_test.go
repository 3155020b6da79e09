//go:build realkafka

package loadgen

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// projectDir is the repository root, where Pulumi.<stack>.yaml live.
const projectDir = "../.."

// Against a real 3-node Kafka 4.1.1 running the prod stack's broker
// configuration, a 20 s produce run survives one node SIGKILLed mid-run and
// restarted: every record is acknowledged (a stall, no failure) and verify
// reads each acknowledged seq back exactly once. The figures are logged with
// the prefix FIGURE.
func TestProduceSurvivesBrokerKill(t *testing.T) {
	libs, err := localkafka.FindLibs()
	if err != nil {
		t.Fatalf("the real-Kafka test needs the Kafka %s jars (eval \"$(scripts/tools.sh env)\"): %v",
			localkafka.KafkaVersion, err)
	}
	spec, err := localkafka.LoadStack(projectDir, "prod")
	require.NoError(t, err)
	spec = localkafka.Plaintext(spec) // loadgen dials the plaintext client port
	require.Equal(t, 3, spec.Brokers)
	dir, err := os.MkdirTemp("", "loadgen-realkafka-")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	start := time.Now()
	c, err := localkafka.Start(ctx, localkafka.Options{Spec: spec, Dir: dir, KafkaLibs: libs,
		StartTimeout: 4 * time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, c.Stop())
		if t.Failed() {
			t.Logf("kept %s for the node logs", dir)
		} else {
			os.RemoveAll(dir)
		}
	})
	t.Logf("3 nodes ready in %s", time.Since(start).Round(100*time.Millisecond))

	const topic = "loadgen"
	minISR := "2"
	created, err := c.Admin().CreateTopic(ctx, 3, 3, map[string]*string{"min.insync.replicas": &minISR}, topic)
	require.NoError(t, err)
	require.NoError(t, created.Err, created.ErrMessage)
	require.NoError(t, c.WaitInSync(ctx, topic, 3))
	require.NoError(t, c.WaitPropagated(ctx, topic, 3))
	ts, err := c.Describe(ctx, topic)
	require.NoError(t, err)
	victim := int(ts.Partitions[0].Leader) // its leaderships must move

	client := ClientConfig{Bootstrap: c.Bootstrap()}
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := Produce(ctx, ProduceConfig{Client: client, Topic: topic, RunID: "realkafka",
			Duration: 20 * time.Second, Rate: 1000, FlushTimeout: 2 * time.Minute})
		done <- result{sum, err}
	}()

	time.Sleep(5 * time.Second)
	require.NoError(t, c.Kill(victim))
	killed := time.Now()
	t.Logf("SIGKILLed node %d (leader of %s[0]) 5 s into the run", victim, topic)
	time.Sleep(3 * time.Second)
	restarted := make(chan error, 1)
	go func() { restarted <- c.Restart(ctx, victim) }()

	r := <-done
	require.NoError(t, r.err)
	require.NoError(t, <-restarted, "restarting node %d", victim)
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
