package placement

import (
	"fmt"
	"slices"
)

// SameReplicaSets reports whether a and b hold the same partitions on the
// same brokers (order aside: leader swaps are not data).
func SameReplicaSets(a, b map[PartitionID][]int32) bool {
	if len(a) != len(b) {
		return false
	}
	for p, r := range a {
		if !slices.Equal(slices.Sorted(slices.Values(r)), slices.Sorted(slices.Values(b[p]))) {
			return false
		}
	}
	return true
}

// KeptBrokers are the registered brokers with the listed IDs; an ID no
// broker registered is an error, since a replica can only move to a live
// broker.
func KeptBrokers(ids []int32, registered []Broker) ([]Broker, error) {
	var keep []Broker
	for _, id := range ids {
		i := slices.IndexFunc(registered, func(b Broker) bool { return b.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("broker %d is not registered with the cluster (registered: %v): start it, "+
				"or leave it out of the broker list", id, BrokerIDs(registered))
		}
		keep = append(keep, registered[i])
	}
	return keep, nil
}

func BrokerIDs(bs []Broker) []int32 {
	ids := make([]int32, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}
