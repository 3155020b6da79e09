package kafkaadmin

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestReassignScopeLines guards the lines and errors of the one apply path:
// a replication factor change keeps the words it had before it shared the
// path with ReplicaPlacement and Rebalance, and those keep theirs (their
// real-Kafka tests watch for "submitted " and "still reassigning").
func TestReassignScopeLines(t *testing.T) {
	var lines []string
	topic := topicScope("orders", 3, func(s string) { lines = append(lines, s) })
	cluster := clusterScope(0, func(s string) { lines = append(lines, s) })

	assert.Equal(t, `topic "orders": reassigning 6 partitions to replication factor 3`, topic.submitted(6))
	assert.Equal(t, "submitted the moves of 6 partitions", cluster.submitted(6))
	assert.Equal(t, `topic "orders": 2 of 6 partitions still reassigning`, topic.moving(2, 6))
	assert.Equal(t, "2 partitions still reassigning", cluster.moving(2, 6))
	topic.done()
	cluster.done()
	assert.Equal(t, []string{`topic "orders": reassignment to replication factor 3 done`}, lines)

	assert.EqualError(t, topic.gaveUp(2, context.Canceled), `topic "orders": waiting for the reassignment to `+
		`replication factor 3: context canceled (it continues in the cluster; check it with kafka-reassign-partitions --verify)`)
	assert.EqualError(t, cluster.gaveUp(2, context.Canceled), "waiting for 2 partition reassignments: context canceled "+
		"(they continue in the cluster; the next run waits for them and goes on)")
	assert.Equal(t, 5*time.Second, topic.maxDelay(), "one wait per topic runs side by side: ask less often")
	assert.Equal(t, 2*time.Second, cluster.maxDelay())
}
