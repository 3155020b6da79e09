package kafkaadmin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
)

// ReassignThrottleBytesPerSecond is the replication rate, per broker and
// direction, that a replication factor change allows while new replicas copy
// their partitions: it keeps the copy from starving producers and consumers
// of disk and network, as kafka-reassign-partitions --throttle does.
const ReassignThrottleBytesPerSecond = 50 << 20

// The throttle configs a reassignment sets and removes afterwards.
const (
	LeaderThrottledReplicas   = "leader.replication.throttled.replicas"
	FollowerThrottledReplicas = "follower.replication.throttled.replicas"
	LeaderThrottledRate       = "leader.replication.throttled.rate"
	FollowerThrottledRate     = "follower.replication.throttled.rate"
)

// Assignment returns the topic's replicas by partition in Kafka's order (the
// preferred leader first, unlike TopicMeta.Replicas) and the cluster's brokers.
func (k *Client) Assignment(ctx context.Context, topic string) ([][]int32, []placement.Broker, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := metadataRequest(topic).RequestWith(ctx, k.raw)
	if err != nil {
		return nil, nil, requestError(topic, "Metadata", err)
	}
	brokers := brokersOf(resp.Brokers)
	for _, t := range resp.Topics {
		if deref(t.Topic) != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, nil, TopicError(topic, "Metadata", err, "")
		}
		parts := slices.Clone(t.Partitions)
		slices.SortFunc(parts, func(a, b kmsg.MetadataResponseTopicPartition) int { return cmp.Compare(a.Partition, b.Partition) })
		out := make([][]int32, len(parts))
		for i, p := range parts {
			out[i] = slices.Clone(p.Replicas)
		}
		return out, brokers, nil
	}
	return nil, nil, TopicError(topic, "Metadata", kerr.UnknownTopicOrPartition, "")
}

// reassignThrottle is what a reassignment throttles: the topic's replicas
// that send (existing replicas of partitions that gain one) and receive (the
// added replicas), as "partition:broker" lists, and the brokers involved.
type reassignThrottle struct {
	Leader, Follower string
	Brokers          []int32
	// Rate is the bytes per second each broker may send and receive for it; 0
	// means ReassignThrottleBytesPerSecond.
	Rate int64
}

// rate is t.Rate, defaulted.
func (t reassignThrottle) rate() string {
	if t.Rate > 0 {
		return strconv.FormatInt(t.Rate, 10)
	}
	return strconv.Itoa(ReassignThrottleBytesPerSecond)
}

// throttleFor returns the throttle for moving from current to target, or
// ok = false when no replica is added (a shrink copies nothing).
func throttleFor(current, target [][]int32) (t reassignThrottle, ok bool) {
	var leader, follower []string
	brokers := map[int32]bool{}
	for p := range target {
		var added []int32
		for _, id := range target[p] {
			if !slices.Contains(current[p], id) {
				added = append(added, id)
			}
		}
		if len(added) == 0 {
			continue
		}
		for _, id := range current[p] {
			leader = append(leader, fmt.Sprintf("%d:%d", p, id))
			brokers[id] = true
		}
		for _, id := range added {
			follower = append(follower, fmt.Sprintf("%d:%d", p, id))
			brokers[id] = true
		}
	}
	if len(follower) == 0 {
		return reassignThrottle{}, false
	}
	ids := make([]int32, 0, len(brokers))
	for id := range brokers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return reassignThrottle{Leader: strings.Join(leader, ","), Follower: strings.Join(follower, ","), Brokers: ids}, true
}

// throttleUsers counts, per broker, the reassignments of this provider
// process that throttle it. The engine updates topics in parallel (a new
// topicDefaults.replicationFactor changes every topic at once), and the
// Broker rates are shared: the first reassignment to finish must not lift
// the rate under the others still copying.
type throttleUsers struct {
	mu     sync.Mutex // held across the alter requests, so a set and a clear never interleave
	n      map[int32]int
	topics map[string]bool // topics whose replica lists a reassignment of this process set
}

// acquire counts one more user of each broker.
func (u *throttleUsers) acquire(brokers []int32) {
	if u.n == nil {
		u.n = map[int32]int{}
	}
	for _, id := range brokers {
		u.n[id]++
	}
}

// release counts one user less of each broker and returns the brokers no
// reassignment uses any more, whose rates can go.
func (u *throttleUsers) release(brokers []int32) []int32 {
	var free []int32
	for _, id := range brokers {
		if u.n[id]--; u.n[id] <= 0 {
			delete(u.n, id)
			free = append(free, id)
		}
	}
	return free
}

// brokerThrottles is the process's count; one provider process has one client.
var brokerThrottles throttleUsers

// setThrottle sets the topic's throttled replica lists and the rate on every
// Broker involved.
func (k *Client) setThrottle(ctx context.Context, topic string, t reassignThrottle) error {
	brokerThrottles.mu.Lock()
	defer brokerThrottles.mu.Unlock()
	brokerThrottles.acquire(t.Brokers)
	if brokerThrottles.topics == nil {
		brokerThrottles.topics = map[string]bool{}
	}
	brokerThrottles.topics[topic] = true
	return k.alterThrottle(ctx, topic, t.Brokers, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: LeaderThrottledReplicas, Value: kadm.StringPtr(t.Leader)},
		{Op: kadm.SetConfig, Name: FollowerThrottledReplicas, Value: kadm.StringPtr(t.Follower)},
	}, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: LeaderThrottledRate, Value: kadm.StringPtr(t.rate())},
		{Op: kadm.SetConfig, Name: FollowerThrottledRate, Value: kadm.StringPtr(t.rate())},
	})
}

// clearThrottle removes what setThrottle set: the topic's lists, and the
// rates of the brokers no other reassignment of this process still uses. It
// runs after the reassignment whether it succeeded or not (also when
// setThrottle failed halfway), on a context of its own so that a cancelled
// update still cleans up.
func (k *Client) clearThrottle(ctx context.Context, topic string, t reassignThrottle) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.timeout)
	defer cancel()
	brokerThrottles.mu.Lock()
	defer brokerThrottles.mu.Unlock()
	delete(brokerThrottles.topics, topic)
	return k.alterThrottle(ctx, topic, brokerThrottles.release(t.Brokers), []kadm.AlterConfig{
		{Op: kadm.DeleteConfig, Name: LeaderThrottledReplicas},
		{Op: kadm.DeleteConfig, Name: FollowerThrottledReplicas},
	}, []kadm.AlterConfig{
		{Op: kadm.DeleteConfig, Name: LeaderThrottledRate},
		{Op: kadm.DeleteConfig, Name: FollowerThrottledRate},
	})
}

func (k *Client) alterThrottle(ctx context.Context, topic string, brokers []int32, topicOps, brokerOps []kadm.AlterConfig) error {
	actx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resps, err := k.adm.AlterTopicConfigs(actx, topicOps, topic)
	if err != nil {
		return requestError(topic, "IncrementalAlterConfigs (throttled replicas)", err)
	}
	var errs []error
	for _, r := range resps {
		if r.Err != nil {
			errs = append(errs, TopicError(topic, "IncrementalAlterConfigs (throttled replicas)", r.Err, r.ErrMessage))
		}
	}
	if len(brokers) == 0 {
		return errors.Join(errs...)
	}
	bresps, err := k.adm.AlterBrokerConfigs(actx, brokerOps, brokers...)
	if err != nil {
		return requestError(topic, "IncrementalAlterConfigs (broker throttle rates)", err)
	}
	for _, r := range bresps {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("broker %s: %w", r.Name,
				TopicError(topic, "IncrementalAlterConfigs (broker throttle rates)", r.Err, r.ErrMessage)))
		}
	}
	return errors.Join(errs...)
}
