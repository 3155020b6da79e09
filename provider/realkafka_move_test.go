//go:build realkafka

package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// throttleSeen is the reassignment throttle as the cluster shows it: the
// topic's throttled replica lists and the brokers with a throttle rate.
type throttleSeen struct {
	Leader, Follower string
	RateBrokers      []int32
}

func seeThrottle(t *testing.T, adm *kadm.Client, topic string, brokers []int32) throttleSeen {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen throttleSeen
	tc, err := adm.DescribeTopicConfigs(ctx, topic)
	require.NoError(t, err)
	rc, err := tc.On(topic, nil)
	require.NoError(t, err)
	require.NoError(t, rc.Err)
	for _, c := range rc.Configs {
		switch c.Key {
		case leaderThrottledReplicas:
			seen.Leader = c.MaybeValue()
		case followerThrottledReplicas:
			seen.Follower = c.MaybeValue()
		}
	}
	for _, id := range brokers {
		bc, err := adm.DescribeBrokerConfigs(ctx, id)
		require.NoError(t, err)
		for _, r := range bc {
			require.NoError(t, r.Err)
			for _, c := range r.Configs {
				if (c.Key == leaderThrottledRate || c.Key == followerThrottledRate) && c.Source == kmsg.ConfigSourceDynamicBrokerConfig {
					if !slices.Contains(seen.RateBrokers, id) {
						seen.RateBrokers = append(seen.RateBrokers, id)
					}
				}
			}
		}
	}
	return seen
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
	cl, err := newKafkaClient(Config{BootstrapServers: c.addrs}, nil)
	require.NoError(t, err)
	defer cl.raw.Close()
	before, _, err := cl.assignment(context.Background(), topic)
	require.NoError(t, err)

	var during []throttleSeen
	require.NoError(t, cl.changeReplicationFactor(context.Background(), topic, 3, func(string) {
		if len(during) == 0 {
			during = append(during, seeThrottle(t, c.adm, topic, all))
		}
	}))
	require.NoError(t, cl.waitReassigned(context.Background(), topic, 5))
	grown, _, err := cl.assignment(context.Background(), topic)
	require.NoError(t, err)
	want, err := ResizeReplicas(before, 3, []Broker{{ID: 0}, {ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}})
	require.NoError(t, err)
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
	assert.Equal(t, throttleSeen{}, seeThrottle(t, c.adm, topic, all), "throttle after the reassignment")
	assertEveryBroker(t, c, topic, 5, 3, nil)

	// Through the provider: 3 -> 2 drops one follower per partition.
	resp, err := update(s, topic, topicProps(topic, 5, 3, nil), topicProps(topic, 5, 2, nil), false)
	require.NoError(t, err)
	assert.Equal(t, topicProps(topic, 5, 2, nil), resp.Properties)
	shrunk, _, err := cl.assignment(context.Background(), topic)
	require.NoError(t, err)
	for p := range shrunk {
		require.Len(t, shrunk[p], 2, "partition %d", p)
		assert.Equal(t, grown[p][0], shrunk[p][0], "partition %d keeps its preferred leader", p)
		assert.Subset(t, grown[p], shrunk[p], "partition %d only loses a replica", p)
	}
	assert.Equal(t, throttleSeen{}, seeThrottle(t, c.adm, topic, all), "throttle after the shrink")
	assertEveryBroker(t, c, topic, 5, 2, nil)
}
