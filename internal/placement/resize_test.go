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
			got, err := ResizeReplicas(tt.current, tt.rf, tt.brokers)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestResizeReplicasRefuses(t *testing.T) {
	_, err := ResizeReplicas([][]int32{{0}}, 3, []Broker{{ID: 0}, {ID: 1}})
	assert.EqualError(t, err, "replicationFactor = 3 exceeds brokers (2): lower replicationFactor or add brokers")
	_, err = ResizeReplicas([][]int32{{0}}, 0, []Broker{{ID: 0}})
	assert.EqualError(t, err, "replicationFactor = 0 is below 1: every partition needs at least one replica")
}
