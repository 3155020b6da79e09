//go:build realkafka

package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	upoll "github.com/umbrella-platform/umbrella-streaming/internal/poll"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
)

// throttleSeen is the reassignment throttle as the cluster shows it: the
// topic's throttled replica lists and the brokers with a throttle rate.
type throttleSeen struct {
	Leader, Follower string
	RateBrokers      []int32
}

func seeThrottle(t *testing.T, c *testCluster, topic string, brokers []int32) throttleSeen {
	t.Helper()
	seen, err := throttleState(c, topic, brokers)
	require.NoError(t, err)
	return seen
}

// throttleState is seeThrottle returning its error, for callers that may not
// run on the test's goroutine. The topic's lists are asked of each broker in
// turn (a broker applies a config change when it reads it from the metadata
// log, so brokers may disagree for a moment; they show as "a|b" then), the
// rates of each broker itself.
func throttleState(tc *testCluster, topic string, brokers []int32) (throttleSeen, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen throttleSeen
	leader, follower := map[string]bool{}, map[string]bool{}
	for _, id := range brokers {
		req := kmsg.NewPtrDescribeConfigsRequest()
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType = kmsg.ConfigResourceTypeTopic
		res.ResourceName = topic
		req.Resources = append(req.Resources, res)
		resp, err := req.RequestWith(ctx, tc.raw.Broker(int(id)))
		if err != nil {
			return seen, fmt.Errorf("broker %d: topic %s configs: %w", id, topic, err)
		}
		if len(resp.Resources) != 1 {
			return seen, fmt.Errorf("broker %d: topic %s configs: %d resources in the answer", id, topic, len(resp.Resources))
		}
		if err := kerr.ErrorForCode(resp.Resources[0].ErrorCode); err != nil {
			return seen, fmt.Errorf("broker %d: topic %s configs: %w", id, topic, err)
		}
		l, f := "", ""
		for _, c := range resp.Resources[0].Configs {
			switch c.Name {
			case kafkaadmin.LeaderThrottledReplicas:
				l = deref(c.Value)
			case kafkaadmin.FollowerThrottledReplicas:
				f = deref(c.Value)
			}
		}
		leader[l], follower[f] = true, true
	}
	seen.Leader = strings.Join(slices.Sorted(maps.Keys(leader)), "|")
	seen.Follower = strings.Join(slices.Sorted(maps.Keys(follower)), "|")
	for _, id := range brokers {
		bc, err := tc.adm.DescribeBrokerConfigs(ctx, id)
		if err != nil {
			return seen, fmt.Errorf("broker %d configs: %w", id, err)
		}
		for _, r := range bc {
			if r.Err != nil {
				return seen, fmt.Errorf("broker %d configs: %w", id, r.Err)
			}
			for _, c := range r.Configs {
				if (c.Key == kafkaadmin.LeaderThrottledRate || c.Key == kafkaadmin.FollowerThrottledRate) && c.Source == kmsg.ConfigSourceDynamicBrokerConfig {
					if !slices.Contains(seen.RateBrokers, id) {
						seen.RateBrokers = append(seen.RateBrokers, id)
					}
				}
			}
		}
	}
	return seen, nil
}

// throttleWait bounds awaitThrottle.
const throttleWait = 30 * time.Second

// awaitThrottle waits until every broker shows the throttle done accepts and
// returns what they showed last. Kafka acknowledges a config change once the
// controller has it, and each broker shows it once it has read it from the
// metadata log: a throttle set or removed is waited for, not read once.
func awaitThrottle(c *testCluster, topic string, brokers []int32, done func(throttleSeen) bool) (throttleSeen, int, error) {
	var seen throttleSeen
	var last error
	reads := 0
	err := upoll.Until(context.Background(), 100*time.Millisecond, throttleWait, func(context.Context) (bool, error) {
		reads++
		s, err := throttleState(c, topic, brokers)
		if err != nil {
			last = err
			return false, nil
		}
		seen, last = s, nil
		return done(s), nil
	})
	if err != nil {
		return seen, reads, fmt.Errorf("%s: waiting for the throttle: %w; last seen %+v (%v)", topic, err, seen, last)
	}
	return seen, reads, nil
}

// assertNoThrottle waits until no broker shows a reassignment throttle on
// the topic or a throttle rate.
func assertNoThrottle(t *testing.T, c *testCluster, topic string, brokers []int32, what string) {
	t.Helper()
	_, reads, err := awaitThrottle(c, topic, brokers, func(s throttleSeen) bool {
		return s.Leader == "" && s.Follower == "" && len(s.RateBrokers) == 0
	})
	assert.NoError(t, err, "%s: no throttle left behind", what)
	if reads > 1 {
		t.Logf("%s: every broker showed the throttle gone after %d reads", what, reads)
	}
}

// TestRealKafkaFiveNodesReplicationFactor guards issue 14 item 4 on five real
// brokers (the prod stack's three controllers plus two broker-only nodes): a
// replication factor change keeps every existing replica and the preferred
// leader, adds or drops only the difference, and throttles the copy while it
// runs, leaving no throttle behind. The old code recomputed the whole
// placement, moving replicas that were already in place.
func TestRealKafkaFiveNodesReplicationFactor(t *testing.T) {
	lk, c := realClusterWith(t, "prod", func(s *config.Spec) { s.Brokers = 5 })
	require.Equal(t, 5, lk.Nodes())
	s := server(t, c.addrs, nil)
	const topic = "moved"
	all := []int32{0, 1, 2, 3, 4}

	mustCreate(t, s, topicProps(topic, 5, 2, nil))
	produceNumbered(t, lk, topic, 0, 200)
	cl, err := kafkaadmin.New(kafkaadmin.Connection{BootstrapServers: c.addrs})
	require.NoError(t, err)
	defer cl.Close()
	before, _, err := cl.Assignment(context.Background(), topic)
	require.NoError(t, err)

	var during []throttleSeen
	require.NoError(t, cl.ChangeReplicationFactor(context.Background(), topic, 3, func(string) {
		if len(during) == 0 {
			// The throttle is set before the moves are submitted, and stays
			// until this callback returns: wait for every broker to show it.
			seen, reads, err := awaitThrottle(c, topic, all, func(s throttleSeen) bool {
				return s.Leader != "" && !strings.Contains(s.Leader, "|") && !strings.Contains(s.Follower, "|") &&
					s.Follower != "" && len(s.RateBrokers) > 0
			})
			assert.NoError(t, err, "throttle while reassigning")
			if reads > 1 {
				t.Logf("every broker showed the throttle after %d reads", reads)
			}
			during = append(during, seen)
		}
	}))
	require.NoError(t, cl.WaitReassigned(context.Background(), topic, 5))
	grown, _, err := cl.Assignment(context.Background(), topic)
	require.NoError(t, err)
	beforeByID := map[placement.PartitionID][]int32{}
	for p, r := range before {
		beforeByID[placement.PartitionID{Topic: topic, Partition: int32(p)}] = r
	}
	plan, err := placement.ResizeReplicas(beforeByID, 3, []placement.Broker{{ID: 0}, {ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}})
	require.NoError(t, err)
	want := slices.Clone(before)
	for p, r := range plan.Moves {
		want[p.Partition] = r
	}
	assert.Equal(t, want, grown, "RF 2 -> 3 from %v", before)
	var leader, follower []string
	var involved []int32
	for p := range grown {
		require.Len(t, grown[p], 3, "partition %d", p)
		assert.Equal(t, before[p], grown[p][:2], "partition %d keeps its replicas in order, leader first", p)
		for _, id := range before[p] {
			leader = append(leader, fmt.Sprintf("%d:%d", p, id))
		}
		follower = append(follower, fmt.Sprintf("%d:%d", p, grown[p][2]))
		involved = append(involved, grown[p]...)
	}
	slices.Sort(involved)
	involved = slices.Compact(involved)
	require.Len(t, during, 1, "progress was reported while the reassignment ran")
	assert.Equal(t, throttleSeen{Leader: strings.Join(leader, ","), Follower: strings.Join(follower, ","), RateBrokers: involved}, during[0],
		"throttle while reassigning")
	assertNoThrottle(t, c, topic, all, "after the reassignment")
	assertEveryBroker(t, c, topic, 5, 3, nil)

	// Through the provider: 3 -> 2 drops one follower per partition.
	resp, err := update(s, topic, topicProps(topic, 5, 3, nil), topicProps(topic, 5, 2, nil), false)
	require.NoError(t, err)
	assert.Equal(t, topicProps(topic, 5, 2, nil), resp.Properties)
	shrunk, _, err := cl.Assignment(context.Background(), topic)
	require.NoError(t, err)
	for p := range shrunk {
		require.Len(t, shrunk[p], 2, "partition %d", p)
		assert.Equal(t, grown[p][0], shrunk[p][0], "partition %d keeps its preferred leader", p)
		assert.Subset(t, grown[p], shrunk[p], "partition %d only loses a replica", p)
	}
	assertNoThrottle(t, c, topic, all, "after the shrink")
	assertEveryBroker(t, c, topic, 5, 2, nil)
}
