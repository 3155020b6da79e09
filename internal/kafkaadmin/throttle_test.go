package kafkaadmin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestThrottleUsers guards the broker rates shared by parallel reassignments:
// the first one to finish lifts only the rates of brokers no other uses.
func TestThrottleUsers(t *testing.T) {
	var u throttleUsers
	u.acquire([]int32{0, 1, 2})
	u.acquire([]int32{1, 2, 3})
	assert.Equal(t, []int32{0}, u.release([]int32{0, 1, 2}))
	assert.Equal(t, []int32{1, 2, 3}, u.release([]int32{1, 2, 3}))
	assert.Empty(t, u.n)
}

func TestThrottleFor(t *testing.T) {
	got, ok := throttleFor([][]int32{{3, 1}, {1, 3}}, [][]int32{{3, 1, 2}, {1, 3}})
	require.True(t, ok)
	assert.Equal(t, reassignThrottle{Leader: "0:3,0:1", Follower: "0:2", Brokers: []int32{1, 2, 3}}, got)
	_, ok = throttleFor([][]int32{{3, 1, 2}}, [][]int32{{3, 1}})
	assert.False(t, ok, "a shrink copies nothing, so nothing is throttled")
}
