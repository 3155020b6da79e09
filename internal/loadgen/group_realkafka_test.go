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
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// `kafka-loadgen consume` as a platform service's consumer, against a real
// Kafka 4.1.1 (the dev stack's broker configuration, plaintext): it joins
// group email-processor with the default 1 s commit interval; 500 records
// written while it runs are consumed and committed until the group's
// committed offsets are the end offsets, its progress lines then report
// lag=0 members=1, and cancelling it (SIGTERM) exits 0 with a summary
// holding those offsets. With no consumer running, 100 more records leave
// the group, as the brokers report it through kadm, at lag 100 with 0
// members; a second run consumes exactly those 100 from the committed
// offsets and brings the lag back to 0.
func TestGroupConsumeAgainstRealKafka(t *testing.T) {
	libs, err := localkafka.FindLibs()
	if err != nil {
		t.Fatalf("the real-Kafka test needs the Kafka %s jars (eval \"$(scripts/tools.sh env)\"): %v",
			localkafka.KafkaVersion, err)
	}
	spec, err := localkafka.LoadStack(projectDir, "dev")
	require.NoError(t, err)
	spec = localkafka.Plaintext(spec)
	dir, err := os.MkdirTemp("", "loadgen-group-")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
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
	const topic, group = "email-requests", "email-processor"
	created, err := c.Admin().CreateTopic(ctx, 3, int16(c.Nodes()), nil, topic)
	require.NoError(t, err)
	require.NoError(t, created.Err, created.ErrMessage)
	require.NoError(t, c.WaitPropagated(ctx, topic, 3))
	client := ClientConfig{Bootstrap: c.Bootstrap()}
	adm := newAdmin(t, client)

	start := time.Now()
	first := startConsume(t, ctx, client.Bootstrap, topic, group, "--progress", "200ms")
	first.awaitProgress(t, ctx, func(p consumeProgress) bool { return p.members == 1 })
	t.Logf("joined the group in %s", time.Since(start).Round(100*time.Millisecond))
	produceN(t, ctx, client, topic, "first", 500)
	awaitCommittedAtEnd(t, ctx, adm, group, topic, 500)
	first.awaitProgress(t, ctx, func(p consumeProgress) bool { return p.consumed == 500 && p.lag == 0 && p.members == 1 })
	code, sum := first.stop(t)
	require.Equal(t, ExitOK, code, first.stderr.String())
	committed, ends := groupOffsets(t, ctx, adm, group, topic)
	assert.Equal(t, ends, committed, "committed offsets == end offsets")
	assert.Equal(t, GroupConsumeSummary{Topic: topic, Group: group, Consumed: 500, CommittedOffsets: stringKeys(ends),
		Lag: 0, FetchErrors: map[string]int64{}}, withoutTimes(sum))

	// No consumer: the lag grows, with no member.
	produceN(t, ctx, client, topic, "unread", 100)
	var lag int64
	var members int
	err = poll.Until(ctx, 200*time.Millisecond, 30*time.Second, func(ctx context.Context) (bool, error) {
		lag, members, err = GroupLag(ctx, adm, group, topic)
		return err == nil && lag == 100 && members == 0, nil
	})
	require.NoError(t, err, "lag %d, members %d, err %v", lag, members, err)
	t.Logf("with no consumer: lag %d, members %d", lag, members)

	second := startConsume(t, ctx, client.Bootstrap, topic, group, "--progress", "200ms")
	awaitCommittedAtEnd(t, ctx, adm, group, topic, 600)
	second.awaitProgress(t, ctx, func(p consumeProgress) bool { return p.consumed == 100 && p.lag == 0 && p.members == 1 })
	code, sum = second.stop(t)
	require.Equal(t, ExitOK, code, second.stderr.String())
	assert.Equal(t, int64(100), sum.Consumed, "resumed from the committed offsets")
	assert.Zero(t, sum.Lag)
	committed, ends = groupOffsets(t, ctx, adm, group, topic)
	assert.Equal(t, ends, committed)
	assert.Equal(t, stringKeys(ends), sum.CommittedOffsets)
	lag, members, err = GroupLag(ctx, adm, group, topic)
	require.NoError(t, err)
	t.Logf("after the second run: lag %d, members %d", lag, members)
	assert.Zero(t, lag)
}
