package placement

import (
	"fmt"
	"maps"
	"slices"
)

// PlanRebalance spreads the cluster's replicas over brokers (issue 17): the
// replicas of brokers not in the list move to brokers in it (scale-in), and
// replicas move from the fullest brokers to the emptiest until their counts
// differ by at most one (scale-out); then preferred leaders (first replicas)
// are swapped within replica lists until their counts differ by at most one
// where a swap can do it. Every choice keeps a partition on as many racks as
// it had (or gains racks), moves as few replicas as the greedy rule allows,
// and breaks ties by broker ID and partition order, so the same cluster always
// gives the same plan. current maps each partition to its replica list.
//
// It refuses, naming the partition and the fix, a partition whose replication
// factor exceeds the brokers kept.
func PlanRebalance(current map[PartitionID][]int32, brokers []Broker) (Plan, error) {
	order, err := placementOrder(brokers)
	if err != nil {
		return Plan{}, err
	}
	if len(order) == 0 {
		return Plan{}, fmt.Errorf("no broker to place replicas on: list at least one broker")
	}
	rack := map[int32]string{}
	for _, b := range order {
		rack[b.ID] = b.Rack
	}
	parts := slices.SortedFunc(maps.Keys(current), ComparePartitions)
	target := make(map[PartitionID][]int32, len(current))
	load := map[int32]int{}
	for _, b := range order {
		load[b.ID] = 0
	}
	for _, p := range parts {
		if len(current[p]) > len(order) {
			return Plan{}, fmt.Errorf("%s partition %d has %d replicas but only %d brokers would be left: "+
				"lower the topic's replicationFactor first, or keep more brokers", p.Topic, p.Partition, len(current[p]), len(order))
		}
		target[p] = slices.Clone(current[p])
		for _, r := range current[p] {
			if _, kept := rack[r]; kept {
				load[r]++
			}
		}
	}
	// Scale-in: every replica on a broker that goes is replaced in place (same
	// position, so a leaving leader's partition keeps its leader slot).
	for _, p := range parts {
		for i, r := range target[p] {
			if _, kept := rack[r]; kept {
				continue
			}
			to := pickBroker(target[p], r, order, rack, load, -1, lowestID)
			target[p][i] = to
			load[to]++
		}
	}
	balanceReplicas(parts, target, order, rack, load)
	balanceLeaders(parts, target, order)

	return planOf(parts, current, target), nil
}

// racksOf counts the distinct racks of replicas.
func racksOf(replicas []int32, rack map[int32]string) int {
	seen := map[string]bool{}
	for _, r := range replicas {
		seen[rack[r]] = true
	}
	return len(seen)
}

// balanceReplicas moves single replicas from the fullest broker to a broker
// at least two replicas emptier, partition by partition in order, as long as
// the partition keeps its rack count. It stops when loads differ by at most
// one or no allowed move is left.
func balanceReplicas(parts []PartitionID, target map[PartitionID][]int32, order []Broker, rack map[int32]string, load map[int32]int) {
	for range len(parts) * len(order) { // each move lowers the spread; bounded
		from := order[0].ID
		for _, b := range order {
			if load[b.ID] > load[from] {
				from = b.ID
			}
		}
		moved := false
		for _, p := range parts {
			i := slices.Index(target[p], from)
			if i < 0 {
				continue
			}
			to := pickBroker(target[p], from, order, rack, load, load[from]-1, lowestID)
			if to == noBroker {
				continue
			}
			next := slices.Clone(target[p])
			next[i] = to
			if racksOf(next, rack) < racksOf(target[p], rack) {
				continue
			}
			target[p] = next
			load[from]--
			load[to]++
			moved = true
			break
		}
		if !moved {
			return
		}
	}
}

// balanceLeaders swaps a partition's preferred leader with one of its own
// followers, which copies no data, while some swap narrows the spread of
// preferred-leader counts: each step takes the swap between the brokers whose
// counts differ most (at least two), the first such partition in order.
func balanceLeaders(parts []PartitionID, target map[PartitionID][]int32, order []Broker) {
	leaders := map[int32]int{}
	for _, b := range order {
		leaders[b.ID] = 0
	}
	for _, p := range parts {
		leaders[target[p][0]]++
	}
	for range len(parts) * len(order) { // each swap lowers the sum of squares; bounded
		var bestPart PartitionID
		bestIndex, bestGap := -1, 1
		for _, p := range parts {
			lead := target[p][0]
			for i, r := range target[p][1:] {
				if gap := leaders[lead] - leaders[r]; gap > bestGap {
					bestPart, bestIndex, bestGap = p, i+1, gap
				}
			}
		}
		if bestIndex < 0 {
			return
		}
		next := slices.Clone(target[bestPart])
		leaders[next[0]]--
		leaders[next[bestIndex]]++
		next[0], next[bestIndex] = next[bestIndex], next[0]
		target[bestPart] = next
	}
}
