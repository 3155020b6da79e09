package placement

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlanDrain: replicas on brokers 3 and 4 move in place onto 0-2, the
// least loaded first, partitions on 0-2 stay as they are, and the result is
// the same on every call.
func TestPlanDrain(t *testing.T) {
	current := map[PartitionID][]int32{
		{"a", 0}: {3, 0}, // leader leaves: its slot goes to the least loaded of 1, 2
		{"a", 1}: {0, 1}, // untouched
		{"a", 2}: {4, 3}, // both leave
		{"b", 0}: {1, 2},
	}
	targets := []Broker{{ID: 0}, {ID: 1}, {ID: 2}}
	plan, err := PlanDrain(current, []int32{3, 4}, targets)
	require.NoError(t, err)
	// Loads before: 0 -> 2, 1 -> 2, 2 -> 1. a-0: 2 (least loaded, 1 replica), then
	// a-2: 4 -> 0 (loads 0:2 1:2 2:2, lowest ID), 3 -> 1.
	assert.Equal(t, map[PartitionID][]int32{
		{"a", 0}: {2, 0},
		{"a", 2}: {0, 1},
	}, plan.Moves)
	assert.Equal(t, 3, plan.ReplicasMoved)
	again, err := PlanDrain(current, []int32{3, 4}, targets)
	require.NoError(t, err)
	assert.Equal(t, plan, again, "deterministic")

	_, err = PlanDrain(map[PartitionID][]int32{{"c", 0}: {0, 1, 4}}, []int32{4}, []Broker{{ID: 0}, {ID: 1}})
	assert.EqualError(t, err, "c partition 0 has 3 replicas but only 2 brokers may take them: lower the topic's "+
		"replicationFactor first, or keep more brokers")
}

// TestPlanDrainKeepsRacks: the replacement of a leaving replica is on a
// rack the partition does not use yet, even when a broker of a used rack is
// emptier.
func TestPlanDrainKeepsRacks(t *testing.T) {
	current := map[PartitionID][]int32{
		{"a", 0}: {0, 3}, // racks x (0), z (3)
		{"a", 1}: {2, 1},
		{"a", 2}: {2, 1},
	}
	targets := []Broker{{ID: 0, Rack: "x"}, {ID: 1, Rack: "x"}, {ID: 2, Rack: "y"}}
	plan, err := PlanDrain(current, []int32{3}, targets)
	require.NoError(t, err)
	// Broker 1 (rack x) holds fewer replicas than 2 (rack y), but x is taken.
	assert.Equal(t, map[PartitionID][]int32{{"a", 0}: {0, 2}}, plan.Moves)
}

// TestCheckFits names the topic, its replication factor, the broker count
// and the fix, for a broker count too small and for brokers down.
func TestCheckFits(t *testing.T) {
	current := map[PartitionID][]int32{{"orders", 0}: {0, 1, 2}, {"audit", 0}: {0, 1}}
	all := []PartitionID{{"orders", 0}, {"audit", 0}}
	assert.EqualError(t, CheckFits(current, all, 2, []Broker{{ID: 0}, {ID: 1}}),
		`brokers = 2: topic "orders" has replication factor 3, more than the 2 brokers that would hold its replicas: `+
			`lower the topic's replicationFactor to 2 or less first (and let that update finish), or keep brokers = 3 or more`)
	assert.EqualError(t, CheckFits(current, all, 3, []Broker{{ID: 0}, {ID: 2}}),
		`brokers = 3: topic "orders" has replication factor 3, but only 2 of brokers 0-2 are registered (0, 2): `+
			`start the missing brokers, then run again`)
	assert.NoError(t, CheckFits(current, all, 3, []Broker{{ID: 0}, {ID: 1}, {ID: 2}}))
	assert.NoError(t, CheckFits(current, []PartitionID{{"audit", 0}}, 2, []Broker{{ID: 0}, {ID: 1}}),
		"only the partitions given are judged")
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 3_800_000: "3.8 MB", 52428800: "52.4 MB",
		2_500_000_000: "2.5 GB"} {
		assert.Equal(t, want, HumanBytes(n), "%d", n)
	}
}
