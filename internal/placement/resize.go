package placement

import (
	"fmt"
	"maps"
	"slices"
)

// ResizeReplicas plans the change of every partition of current (one topic's
// partitions, each with its replica list, preferred leader first, in Kafka's
// order) to replicationFactor replicas while moving as little as possible:
// every existing replica stays when the factor grows, and only the surplus
// goes when it shrinks. The first replica, the preferred leader, is always
// kept. The plan holds the partitions whose list changes; ReplicasMoved
// counts the replicas added.
//
// Added replicas go, in this order of preference, to a rack the partition
// does not use yet, to the broker holding the fewest replicas of current so
// far, and to the broker that follows the partition's leader in ID order, so
// the result is deterministic and spreads the new copies. Dropped replicas
// are the followers on the broker holding the most replicas of current, the
// last one in the list on a tie. Partitions are taken in ComparePartitions
// order.
//
// It is a pure function of its arguments. It returns an error naming the
// field, value and limit when replicationFactor is below 1 or exceeds the
// number of brokers, and when a partition has no replica.
func ResizeReplicas(current map[PartitionID][]int32, replicationFactor int, brokers []Broker) (Plan, error) {
	if err := CheckReplicationFactor(replicationFactor, brokers); err != nil {
		return Plan{}, err
	}
	order, err := placementOrder(brokers)
	if err != nil {
		return Plan{}, err
	}
	slices.SortFunc(order, func(a, b Broker) int { return int(a.ID) - int(b.ID) })
	rack := map[int32]string{}
	for _, b := range order {
		rack[b.ID] = b.Rack
	}
	parts := slices.SortedFunc(maps.Keys(current), ComparePartitions)
	load := map[int32]int{}
	for _, p := range parts {
		for _, id := range current[p] {
			load[id]++
		}
	}
	target := make(map[PartitionID][]int32, len(current))
	for _, p := range parts {
		if len(current[p]) == 0 {
			return Plan{}, fmt.Errorf("partition %d has no replica: Kafka reports no leader to keep", p.Partition)
		}
		next := slices.Clone(current[p])
		for len(next) > replicationFactor {
			drop := len(next) - 1
			for i := len(next) - 1; i >= 1; i-- {
				if load[next[i]] > load[next[drop]] {
					drop = i
				}
			}
			load[next[drop]]--
			next = slices.Delete(next, drop, drop+1)
		}
		for len(next) < replicationFactor {
			add := pickBroker(next, noBroker, order, rack, load, -1, afterLeader(next[0], order))
			load[add]++
			next = append(next, add)
		}
		target[p] = next
	}
	return planOf(parts, current, target), nil
}

// afterLeader is pickBroker's tie-break for an added replica: ring order
// after the partition's leader in order (sorted by ID), the leader itself
// last; from the first broker when the leader is not in order.
func afterLeader(leader int32, order []Broker) func(Broker) int {
	start := max(slices.IndexFunc(order, func(b Broker) bool { return b.ID == leader }), 0)
	return func(b Broker) int {
		i := slices.IndexFunc(order, func(o Broker) bool { return o.ID == b.ID })
		return (i-start-1+len(order))%len(order) + 1
	}
}
