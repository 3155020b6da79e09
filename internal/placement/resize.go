package placement

import (
	"fmt"
	"slices"
)

// ResizeReplicas returns the replica assignment that changes each partition's
// replica list in current (element p is partition p's replicas, preferred
// leader first, in Kafka's order) to replicationFactor replicas while moving
// as little as possible: every existing replica stays when the factor grows,
// and only the surplus goes when it shrinks. The first replica, the preferred
// leader, is always kept.
//
// Added replicas go, in this order of preference, to a rack the partition
// does not use yet, to the broker holding the fewest replicas of the topic so
// far, and to the broker that follows the partition's leader in ID order, so
// the result is deterministic and spreads the new copies. Dropped replicas
// are the followers on the broker holding the most replicas of the topic,
// the last one in the list on a tie.
//
// It is a pure function of its arguments. It returns an error naming the
// field, value and limit when replicationFactor is below 1 or exceeds the
// number of brokers, and when a partition has no replica.
func ResizeReplicas(current [][]int32, replicationFactor int, brokers []Broker) ([][]int32, error) {
	if err := CheckReplicationFactor(replicationFactor, brokers); err != nil {
		return nil, err
	}
	order, err := placementOrder(brokers)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(order, func(a, b Broker) int { return int(a.ID) - int(b.ID) })
	rack := map[int32]string{}
	for _, b := range order {
		rack[b.ID] = b.Rack
	}
	load := map[int32]int{}
	for _, replicas := range current {
		for _, id := range replicas {
			load[id]++
		}
	}
	out := make([][]int32, len(current))
	for p, replicas := range current {
		if len(replicas) == 0 {
			return nil, fmt.Errorf("partition %d has no replica: Kafka reports no leader to keep", p)
		}
		next := slices.Clone(replicas)
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
			add := pickAddition(next, order, rack, load)
			load[add]++
			next = append(next, add)
		}
		out[p] = next
	}
	return out, nil
}

// pickAddition chooses the broker to add to a partition holding replicas (see
// ResizeReplicas for the preference order). order is sorted by ID.
func pickAddition(replicas []int32, order []Broker, rack map[int32]string, load map[int32]int) int32 {
	usedRack := map[string]bool{}
	for _, id := range replicas {
		usedRack[rack[id]] = true
	}
	start := slices.IndexFunc(order, func(b Broker) bool { return b.ID == replicas[0] })
	best, bestScore := int32(-1), [2]int{}
	for i := 1; i <= len(order); i++ {
		b := order[(max(start, 0)+i)%len(order)]
		if slices.Contains(replicas, b.ID) {
			continue
		}
		newRack := 1
		if usedRack[b.Rack] {
			newRack = 0
		}
		score := [2]int{-newRack, load[b.ID]}
		if best < 0 || score[0] < bestScore[0] || (score[0] == bestScore[0] && score[1] < bestScore[1]) {
			best, bestScore = b.ID, score
		}
	}
	return best
}
