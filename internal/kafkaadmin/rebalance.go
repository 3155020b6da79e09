package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
)

// BalanceResult is what a rebalance did.
type BalanceResult struct {
	// Resumed counts the reassignments already running (an interrupted
	// rebalance) that were waited for before planning.
	Resumed int
	// Partitions counts the partitions whose replica list changed.
	Partitions int
	// ReplicasMoved counts the replicas copied to a broker that did not hold
	// them, BytesMoved their size when the move began (each partition's
	// largest replica).
	ReplicasMoved int
	BytesMoved    int64
	// Unregistered are the brokers outside the range whose registration a
	// balance ended (stopped, holding no replica: a scale-down's).
	Unregistered []int32
}

// ClusterAssignment returns every topic's replicas by partition (internal
// topics included: __consumer_offsets must leave a broker too), preferred
// leader first, and the registered brokers, once every broker's own metadata
// shows the same replica sets: right after a reassignment a lagging broker
// still shows the replicas being added or removed, and a plan made from its
// view would be wrong.
func (k *Client) ClusterAssignment(ctx context.Context) (map[placement.PartitionID][]int32, []placement.Broker, error) {
	var out map[placement.PartitionID][]int32
	var brokers []placement.Broker
	var lag string
	err := Poll(ctx, k.timeout, "reading the cluster's replica assignment", func(ctx context.Context) (bool, error) {
		var first map[placement.PartitionID][]int32
		ids, err := k.BrokerIDs(ctx)
		if err != nil {
			lag = err.Error()
			return false, nil
		}
		for _, id := range ids {
			a, bs, err := k.assignmentFrom(ctx, id)
			switch {
			case err != nil && isKafkaError(err):
				return false, err
			case err != nil:
				lag = fmt.Sprintf("broker %d: %v", id, err)
				return false, nil
			case first == nil:
				first, brokers = a, bs
			case !placement.SameReplicaSets(first, a):
				lag = fmt.Sprintf("broker %d does not show the same replicas as broker %d yet", id, ids[0])
				return false, nil
			}
		}
		out = first
		return true, nil
	})
	if err != nil && lag != "" {
		return nil, nil, fmt.Errorf("%w; last, %s", err, lag)
	}
	return out, brokers, err
}

// assignmentFrom asks broker id alone for every topic's replicas.
func (k *Client) assignmentFrom(ctx context.Context, id int32) (map[placement.PartitionID][]int32, []placement.Broker, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, k.Broker(id)) // nil topics: all of them
	if err != nil {
		return nil, nil, fmt.Errorf("Metadata request failed: %w", err)
	}
	brokers := brokersOf(resp.Brokers)
	out := map[placement.PartitionID][]int32{}
	for _, t := range resp.Topics {
		topic := deref(t.Topic)
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, nil, TopicError(topic, "Metadata", err, "")
		}
		for _, p := range t.Partitions {
			out[placement.PartitionID{Topic: topic, Partition: p.Partition}] = slices.Clone(p.Replicas)
		}
	}
	return out, brokers, nil
}

// Rebalance moves replicas so that brokers, and only they, hold the
// cluster's replicas in fair shares (PlanRebalance), throttled like a
// replication factor change, and waits until Kafka reports the moves done;
// then it elects the preferred leaders and removes the throttles. Brokers
// must be registered. Reassignments already running (an interrupted
// rebalance, or one started by hand) are waited for first, so running it
// again resumes; on a balanced cluster it changes nothing.
//
// throttle is the bytes per second each broker may send and receive for the
// moves; 0 means ReassignThrottleBytesPerSecond.
func (k *Client) Rebalance(ctx context.Context, brokers []int32, throttle int64, progress func(string)) (BalanceResult, error) {
	var res BalanceResult
	var err error
	if res.Resumed, err = k.finishEarlierMoves(ctx, progress); err != nil {
		return res, err
	}
	current, registered, err := k.ClusterAssignment(ctx)
	if err != nil {
		return res, err
	}
	keep, err := placement.KeptBrokers(brokers, registered)
	if err != nil {
		return res, err
	}
	plan, err := placement.PlanRebalance(current, keep)
	if err != nil {
		return res, err
	}
	res.Partitions, res.ReplicasMoved = len(plan.Moves), plan.ReplicasMoved
	if len(plan.Moves) == 0 {
		progress("the replicas are already spread over brokers " + fmt.Sprint(brokers))
		return res, nil
	}
	res.BytesMoved, _ = k.movedBytes(ctx, current, plan) // a figure: an unread size counts 0
	progress(fmt.Sprintf("moving %d replicas (%d bytes) of %d partitions onto brokers %v",
		res.ReplicasMoved, res.BytesMoved, res.Partitions, brokers))
	return res, k.applyPlan(ctx, current, plan, clusterScope(throttle, progress))
}

// clearLeftoverThrottles removes reassignment throttles that no reassignment
// uses: with none running (the caller waited), a throttle left by an
// interrupted run, or by a clear that could not reach a broker, would slow
// down the normal replication of a follower that falls behind, for good.
// Throttles a reassignment of this process still holds are kept.
func (k *Client) clearLeftoverThrottles(ctx context.Context, progress func(string)) error {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	brokerThrottles.mu.Lock()
	defer brokerThrottles.mu.Unlock()
	registered, err := k.BrokerIDs(ctx)
	if err != nil {
		return fmt.Errorf("listing the brokers: Metadata request failed: %w", err)
	}
	brokers, err := k.adm.DescribeBrokerConfigs(ctx, registered...) // none listed would mean the cluster default
	if err != nil {
		return fmt.Errorf("reading broker throttle rates: DescribeConfigs request failed: %w", err)
	}
	var ids []int32
	for _, b := range brokers {
		id, err := strconv.Atoi(b.Name)
		if err != nil || b.Err != nil || brokerThrottles.n[int32(id)] > 0 {
			continue
		}
		for _, c := range b.Configs {
			if (c.Key == LeaderThrottledRate || c.Key == FollowerThrottledRate) && c.Source == kmsg.ConfigSourceDynamicBrokerConfig {
				ids = append(ids, int32(id))
				break
			}
		}
	}
	topics, err := k.adm.DescribeTopicConfigs(ctx)
	if err != nil {
		return fmt.Errorf("reading topic throttles: DescribeConfigs request failed: %w", err)
	}
	var names []string
	for _, t := range topics {
		if t.Err != nil || brokerThrottles.topics[t.Name] {
			continue
		}
		for _, c := range t.Configs {
			if (c.Key == LeaderThrottledReplicas || c.Key == FollowerThrottledReplicas) && c.Source == kmsg.ConfigSourceDynamicTopicConfig {
				names = append(names, t.Name)
				break
			}
		}
	}
	slices.Sort(ids)
	slices.Sort(names)
	if len(ids)+len(names) == 0 {
		return nil
	}
	progress(fmt.Sprintf("removing reassignment throttles no reassignment uses: rates on brokers %v, replica lists of topics %v", ids, names))
	var errs []error
	if len(ids) > 0 {
		resps, err := k.adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{
			{Op: kadm.DeleteConfig, Name: LeaderThrottledRate}, {Op: kadm.DeleteConfig, Name: FollowerThrottledRate},
		}, ids...)
		errs = append(errs, err)
		for _, r := range resps {
			errs = append(errs, r.Err)
		}
	}
	if len(names) > 0 {
		resps, err := k.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
			{Op: kadm.DeleteConfig, Name: LeaderThrottledReplicas}, {Op: kadm.DeleteConfig, Name: FollowerThrottledReplicas},
		}, names...)
		errs = append(errs, err)
		for _, r := range resps {
			errs = append(errs, r.Err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing leftover reassignment throttles (remove them with kafka-configs --delete-config): %w", err)
	}
	return nil
}

// ElectPreferred makes each partition's first replica its leader where it
// is not: a move changes preferred leaders, and Kafka's own automatic
// rebalance only runs every few minutes. A replica that has just joined the
// ISR can be refused for a moment (PREFERRED_LEADER_NOT_AVAILABLE): those
// partitions are asked again until the request timeout.
func (k *Client) ElectPreferred(ctx context.Context, set kadm.TopicsSet) error {
	var last error
	err := Poll(ctx, k.timeout, "electing the preferred leaders", func(ctx context.Context) (bool, error) {
		ectx, cancel := k.WithTimeout(ctx)
		defer cancel()
		resps, err := k.adm.ElectLeaders(ectx, kadm.ElectPreferredReplica, set)
		if err != nil {
			return false, fmt.Errorf("ElectLeaders request failed: %w", err)
		}
		again := kadm.TopicsSet{}
		for _, ps := range resps {
			for _, r := range ps {
				switch {
				case r.Err == nil || errors.Is(r.Err, kerr.ElectionNotNeeded): // already led by its preferred replica
				case errors.Is(r.Err, kerr.PreferredLeaderNotAvailable):
					again.Add(r.Topic, r.Partition)
					last = TopicError(r.Topic, fmt.Sprintf("ElectLeaders partition %d", r.Partition), r.Err, r.ErrMessage)
				default:
					return false, TopicError(r.Topic, fmt.Sprintf("ElectLeaders partition %d", r.Partition), r.Err, r.ErrMessage)
				}
			}
		}
		set = again
		return len(again) == 0, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w; last, %w", err, last)
	}
	return err
}

// movedBytes sums, over the replicas the plan copies, the size of each
// partition's largest replica (DescribeLogDirs); 0 where unknown.
func (k *Client) movedBytes(ctx context.Context, current map[placement.PartitionID][]int32, plan placement.Plan) (int64, error) {
	dctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	dirs, err := k.adm.DescribeAllLogDirs(dctx, nil)
	if err != nil {
		return 0, err
	}
	size := map[placement.PartitionID]int64{}
	var dirErr error
	dirs.Each(func(d kadm.DescribedLogDir) {
		if d.Err != nil && dirErr == nil {
			dirErr = fmt.Errorf("broker %d, log dir %s: %w", d.Broker, d.Dir, d.Err)
		}
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
			id := placement.PartitionID{Topic: p.Topic, Partition: p.Partition}
			size[id] = max(size[id], p.Size)
		})
	})
	var total int64
	for _, p := range slices.SortedFunc(maps.Keys(plan.Moves), placement.ComparePartitions) {
		for _, r := range plan.Moves[p] {
			if !slices.Contains(current[p], r) {
				total += size[p]
			}
		}
	}
	return total, dirErr
}

// finishEarlierMoves starts every move: it waits for the reassignments an
// earlier, interrupted run left running (returning how many) and removes the
// throttles it left behind.
func (k *Client) finishEarlierMoves(ctx context.Context, progress func(string)) (int, error) {
	running, err := k.waitNoReassignment(ctx, nil, 0, clusterScope(0, progress))
	if err != nil {
		return running, err
	}
	return running, k.clearLeftoverThrottles(ctx, progress)
}
