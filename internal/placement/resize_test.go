package placement

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResizeReplicas guards issue 14 item 4: a replication factor change moves
// only the difference. The old code recomputed the whole placement, which on 5
// brokers moved existing replicas and preferred leaders around.
func TestResizeReplicas(t *testing.T) {
	five := []Broker{{ID: 0}, {ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}}
	tests := []struct {
		name    string
		current [][]int32
		rf      int
		brokers []Broker
		want    [][]int32
	}{
		{
			name:    "grow 2 to 3 keeps both replicas and the leader, spreads the new one",
			current: [][]int32{{3, 1}, {1, 3}, {4, 0}},
			rf:      3,
			brokers: five,
			want:    [][]int32{{3, 1, 2}, {1, 3, 2}, {4, 0, 1}},
		},
		{
			name:    "shrink 3 to 2 keeps the leader, drops a follower on the busiest broker",
			current: [][]int32{{3, 1, 4}, {1, 3, 2}, {4, 0, 1}},
			rf:      2,
			brokers: five,
			want:    [][]int32{{3, 4}, {1, 2}, {4, 0}},
		},
		{
			name:    "unchanged factor is the identity",
			current: [][]int32{{2, 0, 1}},
			rf:      3,
			brokers: five,
			want:    [][]int32{{2, 0, 1}},
		},
		{
			name:    "a new rack wins over a lighter broker",
			current: [][]int32{{0, 1}},
			rf:      3,
			brokers: []Broker{{ID: 0, Rack: "a"}, {ID: 1, Rack: "a"}, {ID: 2, Rack: "a"}, {ID: 3, Rack: "b"}},
			want:    [][]int32{{0, 1, 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resize(tt.current, tt.rf, tt.brokers)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestResizeReplicasRefuses(t *testing.T) {
	_, err := resize([][]int32{{0}}, 3, []Broker{{ID: 0}, {ID: 1}})
	assert.EqualError(t, err, "replicationFactor = 3 exceeds brokers (2): lower replicationFactor or add brokers")
	_, err = resize([][]int32{{0}}, 0, []Broker{{ID: 0}})
	assert.EqualError(t, err, "replicationFactor = 0: must be at least 1; every partition needs at least one replica")
}

// resize runs ResizeReplicas on one topic's replica lists (element p is
// partition p) and returns the lists after its plan.
func resize(current [][]int32, rf int, brokers []Broker) ([][]int32, error) {
	byID := map[PartitionID][]int32{}
	for p, r := range current {
		byID[PartitionID{"t", int32(p)}] = r
	}
	plan, err := ResizeReplicas(byID, rf, brokers)
	if err != nil {
		return nil, err
	}
	after := apply(byID, plan)
	out := make([][]int32, len(current))
	for p := range out {
		out[p] = after[PartitionID{"t", int32(p)}]
	}
	return out, nil
}

// TestResizeReplicasPlan: the plan holds only the partitions that change and
// counts the replicas added, as PlanRebalance's and PlanDrain's do.
func TestResizeReplicasPlan(t *testing.T) {
	current := map[PartitionID][]int32{{"t", 0}: {0, 1}, {"t", 1}: {1, 2}, {"t", 2}: {2, 0, 1}}
	five := []Broker{{ID: 0}, {ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}}
	grow, err := ResizeReplicas(current, 3, five)
	require.NoError(t, err)
	// Loads before: 0 -> 2, 1 -> 3, 2 -> 2, 3 and 4 -> 0. t-0 takes 3 (the
	// first empty broker after leader 0), t-1 then 4; t-2 has 3 already.
	assert.Equal(t, Plan{Moves: map[PartitionID][]int32{{"t", 0}: {0, 1, 3}, {"t", 1}: {1, 2, 4}}, ReplicasMoved: 2}, grow)
	shrink, err := ResizeReplicas(current, 2, five)
	require.NoError(t, err)
	// t-2 drops 1, the busiest follower; nothing is copied.
	assert.Equal(t, Plan{Moves: map[PartitionID][]int32{{"t", 2}: {2, 0}}}, shrink)
	same, err := ResizeReplicas(current, 3, five)
	require.NoError(t, err)
	assert.Equal(t, grow, same, "deterministic")
}
