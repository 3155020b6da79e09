package placement

import (
	"fmt"
	"sort"
)

// Broker is one Kafka broker as the placement function sees it: its node ID
// and its rack (empty when the broker has no broker.rack).
type Broker struct {
	// ID is the broker's node.id.
	ID int32
	// Rack is the broker's broker.rack, or "" when unset.
	Rack string
}

// PlaceReplicas returns a balanced, deterministic replica assignment: element
// p is the replica list of partition p, its first entry the preferred leader.
//
// It is a pure function of its arguments. Brokers are sorted by ID; when they
// carry more than one distinct rack they are interleaved rack by rack (racks
// sorted by name), so that consecutive brokers sit in different racks.
// Partition p is led by the (p mod n)-th broker of that order, which spreads
// leaders round-robin; followers are taken from the brokers that follow the
// leader, first preferring racks the partition does not use yet, then any
// broker it does not use yet. With one rack or none this is the plain
// "leader, next, next" ring, which gives every broker the same number of
// replicas when partitions is a multiple of the broker count.
//
// It returns an error naming the field, value and limit when partitions or
// replicationFactor is below 1, when replicationFactor exceeds the number of
// brokers, or when broker IDs repeat.
func PlaceReplicas(partitions, replicationFactor int, brokers []Broker) ([][]int32, error) {
	switch {
	case partitions < 1:
		return nil, fmt.Errorf("partitions = %d is below 1: a topic needs at least one partition", partitions)
	}
	if err := CheckReplicationFactor(replicationFactor, brokers); err != nil {
		return nil, err
	}
	order, err := placementOrder(brokers)
	if err != nil {
		return nil, err
	}
	n := len(order)
	racked := distinctRacks(order) > 1

	assignment := make([][]int32, partitions)
	for p := range partitions {
		start := p % n
		replicas := []int32{order[start].ID}
		usedBroker := map[int32]bool{order[start].ID: true}
		usedRack := map[string]bool{order[start].Rack: true}
		if racked {
			// First pass: one replica per rack not yet used by this partition.
			for i := 1; i < n && len(replicas) < replicationFactor; i++ {
				b := order[(start+i)%n]
				if !usedRack[b.Rack] {
					replicas = append(replicas, b.ID)
					usedBroker[b.ID], usedRack[b.Rack] = true, true
				}
			}
		}
		// Second pass: any broker not yet used, in ring order.
		for i := 1; i < n && len(replicas) < replicationFactor; i++ {
			b := order[(start+i)%n]
			if !usedBroker[b.ID] {
				replicas = append(replicas, b.ID)
				usedBroker[b.ID] = true
			}
		}
		assignment[p] = replicas
	}
	return assignment, nil
}

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
		return fmt.Errorf("replicationFactor = %d is below 1: every partition needs at least one replica", replicationFactor)
	case replicationFactor > len(brokers):
		return fmt.Errorf("replicationFactor = %d exceeds brokers (%d): lower replicationFactor or add brokers",
			replicationFactor, len(brokers))
	}
	return nil
}
