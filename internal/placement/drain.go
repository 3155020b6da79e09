package placement

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// PlanDrain moves every replica on a leaving broker onto targets and
// changes nothing else (issue 17's scale-in, before the broker pods go): each
// such replica is replaced in place (a leaving preferred leader's slot goes
// to its replacement), by a target the partition does not use, on a rack it
// does not use if there is one, least loaded, lowest ID, like PlanRebalance's
// first step. Targets are only ever chosen from targets, so a broker that is
// not registered yet gets no load. The result is deterministic.
//
// It refuses, naming the partition and the fix, a partition on a leaving
// broker whose replication factor exceeds the targets.
func PlanDrain(current map[PartitionID][]int32, leaving []int32, targets []Broker) (Plan, error) {
	order, err := placementOrder(targets)
	if err != nil {
		return Plan{}, err
	}
	rack := map[int32]string{}
	load := map[int32]int{}
	for _, b := range order {
		rack[b.ID], load[b.ID] = b.Rack, 0
	}
	parts := slices.SortedFunc(maps.Keys(current), ComparePartitions)
	for _, p := range parts {
		for _, r := range current[p] {
			if _, ok := rack[r]; ok {
				load[r]++
			}
		}
	}
	plan := Plan{Moves: map[PartitionID][]int32{}}
	for _, p := range parts {
		if !slices.ContainsFunc(current[p], func(r int32) bool { return slices.Contains(leaving, r) }) {
			continue
		}
		if len(current[p]) > len(order) {
			return Plan{}, fmt.Errorf("%s partition %d has %d replicas but only %d brokers may take them: "+
				"lower the topic's replicationFactor first, or keep more brokers", p.Topic, p.Partition, len(current[p]), len(order))
		}
		next := slices.Clone(current[p])
		for i, r := range next {
			if !slices.Contains(leaving, r) {
				continue
			}
			to := pickBroker(next, r, order, rack, load, -1, lowestID)
			next[i] = to
			load[to]++
			plan.ReplicasMoved++
		}
		plan.Moves[p] = next
	}
	return plan, nil
}

// BrokerRange is 0..n-1, the broker IDs a ReplicaPlacement keeps.
func BrokerRange(n int) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(i)
	}
	return ids
}

// OutsideBrokers returns, sorted, the brokers not in 0..n-1 that hold a
// replica of current, and how many replicas and partitions are on them.
func OutsideBrokers(current map[PartitionID][]int32, n int) (ids []int32, replicas, partitions int) {
	seen := map[int32]bool{}
	for _, rs := range current {
		out := 0
		for _, r := range rs {
			if r < 0 || int(r) >= n {
				seen[r] = true
				out++
			}
		}
		replicas += out
		if out > 0 {
			partitions++
		}
	}
	return slices.Sorted(maps.Keys(seen)), replicas, partitions
}

// CheckFits refuses, in a message naming the topic, its replication factor,
// the broker count and the fix, the first topic (by name) of parts whose
// replication factor exceeds the usable brokers: its replicas could not all
// move. n is the brokers input; usable those of 0..n-1 that may take
// replicas now.
func CheckFits(current map[PartitionID][]int32, parts []PartitionID, n int, usable []Broker) error {
	rf := map[string]int{}
	for _, p := range parts {
		rf[p.Topic] = max(rf[p.Topic], len(current[p]))
	}
	for _, topic := range slices.Sorted(maps.Keys(rf)) {
		switch {
		case rf[topic] > n:
			return fmt.Errorf("brokers = %d: topic %q has replication factor %d, more than the %d brokers that would "+
				"hold its replicas: lower the topic's replicationFactor to %d or less first (and let that update "+
				"finish), or keep brokers = %d or more", n, topic, rf[topic], n, n, rf[topic])
		case rf[topic] > len(usable):
			return fmt.Errorf("brokers = %d: topic %q has replication factor %d, but only %d of brokers %s are "+
				"registered (%s): start the missing brokers, then run again", n, topic, rf[topic], len(usable),
				IDRange(n), JoinIDs(BrokerIDs(usable)))
		}
	}
	return nil
}

// IDRange prints 0..n-1 as "0-4" (or "0" for one broker).
func IDRange(n int) string {
	if n == 1 {
		return "0"
	}
	return fmt.Sprintf("0-%d", n-1)
}

// JoinIDs prints broker IDs as "3, 4" ("none" when empty).
func JoinIDs(ids []int32) string {
	if len(ids) == 0 {
		return "none"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// HumanBytes prints a byte count with a decimal unit, e.g. "3.8 MB".
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
