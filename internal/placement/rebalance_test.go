package placement

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func brokersWithRacks(racks ...string) []Broker {
	out := make([]Broker, len(racks))
	for i, r := range racks {
		out[i] = Broker{ID: int32(i), Rack: r}
	}
	return out
}

// clusterOn places topics×partitions at rf on brokers (sorted by ID) as
// Kafka's own placement does without racks, and as the topics of a smaller
// cluster were placed: partition p led by broker p mod n, its followers the
// brokers that follow.
func clusterOn(t *testing.T, topics, partitions, rf int, brokers []Broker) map[PartitionID][]int32 {
	t.Helper()
	require.LessOrEqual(t, rf, len(brokers))
	out := map[PartitionID][]int32{}
	for i := range topics {
		for p := range partitions {
			r := make([]int32, rf)
			for j := range r {
				r[j] = brokers[(p+j)%len(brokers)].ID
			}
			out[PartitionID{fmt.Sprintf("topic-%d", i), int32(p)}] = r
		}
	}
	return out
}

func apply(current map[PartitionID][]int32, plan Plan) map[PartitionID][]int32 {
	out := maps.Clone(current)
	maps.Copy(out, plan.Moves)
	return out
}

// loads counts replicas and preferred leaders per broker.
func loads(a map[PartitionID][]int32, brokers []Broker) (replicas, leaders map[int32]int) {
	replicas, leaders = map[int32]int{}, map[int32]int{}
	for _, b := range brokers {
		replicas[b.ID], leaders[b.ID] = 0, 0
	}
	for _, r := range a {
		leaders[r[0]]++
		for _, id := range r {
			replicas[id]++
		}
	}
	return replicas, leaders
}

func spread(m map[int32]int) int {
	v := slices.Collect(maps.Values(m))
	return slices.Max(v) - slices.Min(v)
}

// checkValid: same replication factor, no broker twice, only listed brokers.
func checkValid(t *testing.T, before, after map[PartitionID][]int32, brokers []Broker) {
	t.Helper()
	ids := map[int32]bool{}
	for _, b := range brokers {
		ids[b.ID] = true
	}
	for p, r := range after {
		assert.Len(t, r, len(before[p]), "%v keeps its replication factor", p)
		assert.Len(t, slices.Compact(slices.Sorted(slices.Values(r))), len(r), "%v: a broker twice in %v", p, r)
		for _, id := range r {
			assert.True(t, ids[id], "%v on broker %d, which is not in the cluster", p, id)
		}
	}
}

func TestPlanRebalanceScaleOutSpreadsReplicasAndLeaders(t *testing.T) {
	three, five := brokersWithRacks("", "", ""), brokersWithRacks("", "", "", "", "")
	before := clusterOn(t, 7, 3, 3, three)
	plan, err := PlanRebalance(before, five)
	require.NoError(t, err)
	after := apply(before, plan)
	checkValid(t, before, after, five)
	replicas, leaders := loads(after, five)
	t.Logf("replicas %v, leaders %v, %d replicas moved, %d partitions changed", replicas, leaders, plan.ReplicasMoved, len(plan.Moves))
	assert.LessOrEqual(t, spread(replicas), 1, "replicas per broker: %v", replicas)
	assert.LessOrEqual(t, spread(leaders), 1, "preferred leaders per broker: %v", leaders)
	// 63 replicas over 5 brokers: the two new ones get 12 or 13 each, and only
	// those replicas move.
	assert.Equal(t, replicas[3]+replicas[4], plan.ReplicasMoved)

	again, err := PlanRebalance(after, five)
	require.NoError(t, err)
	assert.Empty(t, again.Moves, "a balanced cluster needs no move: the next up changes nothing")
	same, err := PlanRebalance(before, five)
	require.NoError(t, err)
	assert.Equal(t, plan, same, "deterministic")
}

func TestPlanRebalanceScaleInEmptiesTheLeavingBrokers(t *testing.T) {
	five, three := brokersWithRacks("", "", "", "", ""), brokersWithRacks("", "", "")
	before := clusterOn(t, 7, 3, 3, five)
	plan, err := PlanRebalance(before, three)
	require.NoError(t, err)
	after := apply(before, plan)
	checkValid(t, before, after, three)
	replicas, leaders := loads(after, three)
	assert.Equal(t, map[int32]int{0: 21, 1: 21, 2: 21}, replicas)
	assert.LessOrEqual(t, spread(leaders), 1, "preferred leaders per broker: %v", leaders)
	old, _ := loads(before, five)
	assert.Equal(t, old[3]+old[4], plan.ReplicasMoved, "exactly the replicas of brokers 3 and 4 move")

	_, err = PlanRebalance(clusterOn(t, 1, 1, 3, three), brokersWithRacks("", ""))
	require.ErrorContains(t, err, "topic-0 partition 0 has 3 replicas but only 2 brokers would be left")
	assert.ErrorContains(t, err, "lower the topic's replicationFactor first, or keep more brokers")
}

// Racks: a partition on three racks stays on three racks when brokers are
// added to each rack or removed from one.
func TestPlanRebalanceKeepsRackSpread(t *testing.T) {
	three := brokersWithRacks("a", "b", "c")
	six := brokersWithRacks("a", "b", "c", "a", "b", "c")
	before := clusterOn(t, 5, 6, 3, three)
	plan, err := PlanRebalance(before, six)
	require.NoError(t, err)
	after := apply(before, plan)
	checkValid(t, before, after, six)
	rack := map[int32]string{}
	for _, b := range six {
		rack[b.ID] = b.Rack
	}
	for p, r := range after {
		assert.Equal(t, 3, racksOf(r, rack), "%v on %v", p, r)
	}
	replicas, _ := loads(after, six)
	assert.LessOrEqual(t, spread(replicas), 1, "%v", replicas)

	back, err := PlanRebalance(after, three)
	require.NoError(t, err)
	for p, r := range apply(after, back) {
		assert.Equal(t, 3, racksOf(r, rack), "%v on %v after scale-in", p, r)
	}
}
