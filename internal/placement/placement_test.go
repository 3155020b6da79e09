package placement

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func brokers(ids ...int32) []Broker {
	bs := make([]Broker, len(ids))
	for i, id := range ids {
		bs[i] = Broker{ID: id}
	}
	return bs
}

func TestPlaceReplicas(t *testing.T) {
	racked := []Broker{{ID: 1, Rack: "a"}, {ID: 2, Rack: "a"}, {ID: 3, Rack: "b"}, {ID: 4, Rack: "b"}, {ID: 5, Rack: "c"}, {ID: 6, Rack: "c"}}
	tests := []struct {
		name       string
		partitions int
		rf         int
		brokers    []Broker
		want       [][]int32
	}{
		{"1 broker rf1", 3, 1, brokers(0), [][]int32{{0}, {0}, {0}}},
		{"3 brokers rf1 leaders round-robin", 4, 1, brokers(0, 1, 2), [][]int32{{0}, {1}, {2}, {0}}},
		{"3 brokers rf2", 3, 2, brokers(0, 1, 2), [][]int32{{0, 1}, {1, 2}, {2, 0}}},
		{"3 brokers rf3", 3, 3, brokers(0, 1, 2), [][]int32{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}}},
		{"unsorted, non-contiguous IDs are sorted", 3, 2, brokers(7, 3, 5), [][]int32{{3, 5}, {5, 7}, {7, 3}}},
		{"5 brokers rf1", 5, 1, brokers(1, 2, 3, 4, 5), [][]int32{{1}, {2}, {3}, {4}, {5}}},
		{"5 brokers rf2", 5, 2, brokers(1, 2, 3, 4, 5), [][]int32{{1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 1}}},
		{"5 brokers rf3", 6, 3, brokers(1, 2, 3, 4, 5), [][]int32{{1, 2, 3}, {2, 3, 4}, {3, 4, 5}, {4, 5, 1}, {5, 1, 2}, {1, 2, 3}}},
		// Racks a,a,b,b,c,c interleave to 1(a),3(b),5(c),2(a),4(b),6(c).
		{"racks rf3 one replica per rack", 3, 3, racked, [][]int32{{1, 3, 5}, {3, 5, 2}, {5, 2, 4}}},
		{"racks rf2", 6, 2, racked, [][]int32{{1, 3}, {3, 5}, {5, 2}, {2, 4}, {4, 6}, {6, 1}}},
		// Uneven racks: a has 2 brokers, b has 1. Order 1(a),3(b),2(a); partition 2 led by
		// broker 2 (a) must take broker 3 (b) before broker 1 (a).
		{"uneven racks prefer an unused rack", 3, 2, []Broker{{ID: 1, Rack: "a"}, {ID: 2, Rack: "a"}, {ID: 3, Rack: "b"}},
			[][]int32{{1, 3}, {3, 2}, {2, 3}}},
		{"one rack behaves like none", 3, 2, []Broker{{ID: 0, Rack: "r"}, {ID: 1, Rack: "r"}, {ID: 2, Rack: "r"}},
			[][]int32{{0, 1}, {1, 2}, {2, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlaceReplicas(tt.partitions, tt.rf, tt.brokers)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestPlaceReplicasBalanced guards the balance promise: with partitions a
// multiple of the broker count, every broker leads and holds the same number.
func TestPlaceReplicasBalanced(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		for rf := 1; rf <= min(3, n); rf++ {
			got, err := PlaceReplicas(4*n, rf, brokers(0, 1, 2, 3, 4)[:n])
			require.NoError(t, err)
			leaders, replicas := map[int32]int{}, map[int32]int{}
			for _, rs := range got {
				require.Len(t, rs, rf)
				leaders[rs[0]]++
				seen := map[int32]bool{}
				for _, r := range rs {
					assert.False(t, seen[r], "broker %d twice in %v", r, rs)
					seen[r] = true
					replicas[r]++
				}
			}
			for b := range int32(n) {
				assert.Equal(t, 4, leaders[b], "n=%d rf=%d leaders of %d", n, rf, b)
				assert.Equal(t, 4*rf, replicas[b], "n=%d rf=%d replicas of %d", n, rf, b)
			}
		}
	}
}

func TestPlaceReplicasErrors(t *testing.T) {
	tests := []struct {
		name       string
		partitions int
		rf         int
		brokers    []Broker
		want       string
	}{
		{"rf above brokers", 3, 4, brokers(0, 1, 2), "replicationFactor = 4 exceeds brokers (3): lower replicationFactor or add brokers"},
		{"no brokers", 1, 1, nil, "replicationFactor = 1 exceeds brokers (0): lower replicationFactor or add brokers"},
		{"rf zero", 3, 0, brokers(0), "replicationFactor = 0 is below 1: every partition needs at least one replica"},
		{"partitions zero", 0, 1, brokers(0), "partitions = 0 is below 1: a topic needs at least one partition"},
		{"duplicate broker", 1, 1, brokers(2, 2), "broker ID 2 appears twice: broker IDs must be unique"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PlaceReplicas(tt.partitions, tt.rf, tt.brokers)
			require.EqualError(t, err, tt.want)
		})
	}
}
