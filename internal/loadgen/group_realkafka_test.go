//go:build realkafka

package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
	"github.com/umbrella-platform/umbrella-streaming/internal/testkafka"
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
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c := testkafka.Start(t, ctx, testkafka.Options{Stack: "dev", Plaintext: true, StartTimeout: 4 * time.Minute})
	const topic, group = "email-requests", "email-processor"
	testkafka.CreateTopic(t, ctx, c, topic, 3, int16(c.Nodes()), nil)
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
	assertCaughtUp(t, ctx, adm, group, topic, 500, code, sum, first.stderr.String())

	// No consumer: the lag grows, with no member.
	produceN(t, ctx, client, topic, "unread", 100)
	var lag int64
	var members int
	var err error
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
	// 100: resumed from the committed offsets.
	assertCaughtUp(t, ctx, adm, group, topic, 100, code, sum, second.stderr.String())
	lag, members, err = GroupLag(ctx, adm, group, topic)
	require.NoError(t, err)
	t.Logf("after the second run: lag %d, members %d", lag, members)
	assert.Zero(t, lag)
}
