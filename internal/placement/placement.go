// Package placement decides where replicas go, as pure functions of the
// cluster's current assignment: no Kafka request, no context. Each planner
// (ResizeReplicas for a replication factor change, PlanRebalance for a
// rebalance, PlanDrain for a scale-in) returns one Plan, which
// internal/kafkaadmin applies one way whatever planned it.
package placement

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// Broker is one Kafka broker as the planners see it: its node ID and its
// rack (empty when the broker has no broker.rack).
type Broker struct {
	// ID is the broker's node.id.
	ID int32
	// Rack is the broker's broker.rack, or "" when unset.
	Rack string
}

// PartitionID names one partition of one topic.
type PartitionID struct {
	Topic     string
	Partition int32
}

// ComparePartitions orders partitions by topic, then by partition number:
// the order every planner walks them in, so that plans are deterministic.
func ComparePartitions(a, b PartitionID) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// Plan is what a planner decides: the partitions whose replica list
// changes, with their new lists, and how many replicas must be copied to a
// broker that does not hold them yet.
type Plan struct {
	// Moves are the new replica lists (first entry the preferred leader) of the
	// partitions that change, data moves and leader swaps alike.
	Moves map[PartitionID][]int32
	// ReplicasMoved counts the replicas that land on a new broker (the data to
	// copy); leader swaps within a replica list copy nothing.
	ReplicasMoved int
}

// planOf is the Plan that turns current into target: the partitions whose
// list differs, and the replicas target adds.
func planOf(parts []PartitionID, current, target map[PartitionID][]int32) Plan {
	plan := Plan{Moves: map[PartitionID][]int32{}}
	for _, p := range parts {
		if slices.Equal(target[p], current[p]) {
			continue
		}
		plan.Moves[p] = target[p]
		for _, r := range target[p] {
			if !slices.Contains(current[p], r) {
				plan.ReplicasMoved++
			}
		}
	}
	return plan
}

// noBroker is pickBroker's "none": no broker qualifies, or (as leaving) no
// replica gives up its rack.
const noBroker int32 = -1

// pickBroker is the one chooser of the planners: the broker to take a
// replica of the partition holding replicas. It is one the partition does not
// use; on a rack the partition does not use if there is one, counting the
// racks of replicas except leaving (the replica that moves gives its rack up;
// noBroker when a replica is added); the least loaded; then the lowest
// tie(broker), which keeps the result deterministic. With maxLoad >= 0 only
// brokers loaded below maxLoad qualify. It returns noBroker if none does.
func pickBroker(replicas []int32, leaving int32, order []Broker, rack map[int32]string, load map[int32]int,
	maxLoad int, tie func(Broker) int,
) int32 {
	usedRack := map[string]bool{}
	for _, r := range replicas {
		if r != leaving {
			usedRack[rack[r]] = true
		}
	}
	best, bestKey := noBroker, [3]int{}
	for _, b := range order {
		if slices.Contains(replicas, b.ID) || (maxLoad >= 0 && load[b.ID] >= maxLoad) {
			continue
		}
		sameRack := 0
		if usedRack[b.Rack] {
			sameRack = 1
		}
		key := [3]int{sameRack, load[b.ID], tie(b)}
		if best == noBroker || slices.Compare(key[:], bestKey[:]) < 0 {
			best, bestKey = b.ID, key
		}
	}
	return best
}

// lowestID is pickBroker's tie-break for moves: the lowest broker ID.
func lowestID(b Broker) int { return int(b.ID) }

// placementOrder sorts brokers by ID and, when more than one rack is present,
// interleaves them rack by rack.
func placementOrder(brokers []Broker) ([]Broker, error) {
	sorted := append([]Broker(nil), brokers...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].ID == sorted[i-1].ID {
			return nil, fmt.Errorf("broker ID %d appears twice: broker IDs must be unique", sorted[i].ID)
		}
	}
	if distinctRacks(sorted) <= 1 {
		return sorted, nil
	}
	byRack := map[string][]Broker{}
	var racks []string
	for _, b := range sorted {
		if _, ok := byRack[b.Rack]; !ok {
			racks = append(racks, b.Rack)
		}
		byRack[b.Rack] = append(byRack[b.Rack], b)
	}
	sort.Strings(racks)
	order := make([]Broker, 0, len(sorted))
	for i := 0; len(order) < len(sorted); i++ {
		for _, r := range racks {
			if i < len(byRack[r]) {
				order = append(order, byRack[r][i])
			}
		}
	}
	return order, nil
}

func distinctRacks(brokers []Broker) int {
	seen := map[string]bool{}
	for _, b := range brokers {
		seen[b.Rack] = true
	}
	return len(seen)
}

// CheckReplicationFactor is the limit every placement shares: at least one
// replica, at most one per broker.
func CheckReplicationFactor(replicationFactor int, brokers []Broker) error {
	switch {
	case replicationFactor < 1:
		return errors.New(rules.ReplicationFactor("replicationFactor", replicationFactor, "every partition needs at least one replica"))
	case replicationFactor > len(brokers):
		return errors.New(rules.TopicReplicasAboveBrokers(replicationFactor, len(brokers)))
	}
	return nil
}
