package lagexporter

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fakeKafka starts a 3-broker kfake cluster with topic orders (3 partitions)
// holding perPartition records in each partition, and returns an admin
// client.
func fakeKafka(t *testing.T, ctx context.Context, perPartition int) (*kfake.Cluster, *kadm.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(3, "orders"))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	var recs []*kgo.Record
	for p := int32(0); p < 3; p++ {
		for i := 0; i < perPartition; i++ {
			recs = append(recs, &kgo.Record{Topic: "orders", Partition: p, Value: []byte(strconv.Itoa(i))})
		}
	}
	require.NoError(t, cl.ProduceSync(ctx, recs...).FirstErr())
	return c, kadm.NewClient(cl)
}

// The lag arithmetic against kfake's brokers: a group with only commits
// (Empty, 0 members) on partitions 0 (at the end) and 1 (6 behind), none on
// partition 2 whose first 3 records were deleted, lags 0 + 6 + (10 - 3) = 13:
// an uncommitted partition counts from its log start offset, as kadm does. A
// running consumer that committed everything lags 0 with 1 member. --groups
// keeps only the groups it matches in full, and a pattern that matches
// nothing yields no group at all (kadm's Lag with no group would describe
// every group).
func TestCollectKfake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, adm := fakeKafka(t, ctx, 10)

	var commits kadm.Offsets
	commits.AddOffset("orders", 0, 10, -1)
	commits.AddOffset("orders", 1, 4, -1)
	require.NoError(t, adm.CommitAllOffsets(ctx, "billing", commits))
	require.NoError(t, adm.CommitAllOffsets(ctx, "billing-audit", commits))
	var trim kadm.Offsets
	trim.AddOffset("orders", 2, 3, -1)
	deleted, err := adm.DeleteRecords(ctx, trim)
	require.NoError(t, err)
	require.NoError(t, deleted.Error())

	consumer, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumerGroup("payments"),
		kgo.ConsumeTopics("orders"), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer consumer.Close()
	for read := 0; read < 27; { // 30 produced, 3 deleted
		fs := consumer.PollFetches(ctx)
		require.NoError(t, fs.Err0())
		read += fs.NumRecords()
	}
	require.NoError(t, consumer.CommitUncommittedOffsets(ctx))

	groups, err := Collect(ctx, adm, regexp.MustCompile(`^(?:billing|payments)$`).MatchString)
	require.NoError(t, err)
	assert.Equal(t, []GroupLag{
		{Group: "billing", State: "Empty", Members: 0, Topics: []TopicLag{{"orders", 13}}},
		{Group: "payments", State: "Stable", Members: 1, Topics: []TopicLag{{"orders", 0}}},
	}, groups)

	all, err := Collect(ctx, adm, nil)
	require.NoError(t, err)
	var names []string
	for _, g := range all {
		names = append(names, g.Group)
	}
	assert.Equal(t, []string{"billing", "billing-audit", "payments"}, names)

	none, err := Collect(ctx, adm, regexp.MustCompile(`^(?:nothing)$`).MatchString)
	require.NoError(t, err)
	assert.Empty(t, none)
}
