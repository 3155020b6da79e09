//go:build realkafka

package realkafka

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// restoreNodes restarts every node of c that is not running (tests that stop
// nodes call it in cleanup, so the shared cluster is whole for the next test).
func restoreNodes(t *testing.T, c *localkafka.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, c.Nodes())
	for id := 0; id < c.Nodes(); id++ {
		if c.Running(id) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[id] = c.Restart(ctx, id)
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...), "restoring the cluster")
}

// With two of three brokers down, acks=all writes to an RF 3 topic are
// refused with NOT_ENOUGH_REPLICAS instead of being acknowledged on a single
// copy. One broker crashes and, once the controller has fenced it, a second
// shuts down cleanly: with all three nodes voting in the quorum, a second
// crash would also take the quorum's majority, so no controller could ever
// shrink the ISR and the producer would only time out.
//
// The producer has its producer id before the failures. Without a quorum the
// surviving broker cannot get a block of producer ids from the controller, so
// a producer that starts only now fails earlier, in InitProducerId, with
// COORDINATOR_LOAD_IN_PROGRESS (seen on Kafka 4.1.1).
func TestAcksAllRefusedWithTwoBrokersDown(t *testing.T) {
	c := cluster(t, "prod")
	t.Cleanup(func() { restoreNodes(t, c) })
	ctx := testCtx(t, 3*time.Minute)
	const topic = "two-brokers-down"
	createTopic(t, c, topic, 1, 3, nil)
	ts, err := c.Describe(ctx, topic)
	require.NoError(t, err)
	// The partition's leader survives, so the producer's leader never moves.
	survivor := int(ts.Partitions[0].Leader)
	crashed, stopped := (survivor+1)%3, (survivor+2)%3

	producer, err := c.Client(kgo.DefaultProduceTopic(topic), kgo.RecordRetries(3),
		kgo.RecordDeliveryTimeout(30*time.Second))
	require.NoError(t, err)
	defer producer.Close()
	require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Value: []byte("three copies")}).FirstErr())

	require.NoError(t, c.Kill(crashed))
	fenced := time.Now()
	require.NoError(t, waitISR(ctx, c, topic, func(isr []int32) bool { return !slices.Contains(isr, int32(crashed)) }))
	t.Logf("node %d fenced and out of the ISR %s after SIGKILL", crashed, time.Since(fenced).Round(100*time.Millisecond))
	require.NoError(t, c.StopNode(stopped))
	// The controlled shutdown took the stopped broker out of the ISR; the
	// survivor's metadata shows it once it has applied that record.
	require.NoError(t, waitISR(ctx, c, topic, func(isr []int32) bool { return slices.Equal(isr, []int32{int32(survivor)}) }),
		"the ISR shrinks to the survivor %d alone after node %d shut down", survivor, stopped)
	ts, err = c.Describe(ctx, topic)
	require.NoError(t, err)
	require.Equal(t, []localkafka.PartitionState{{Partition: 0, Leader: int32(survivor), Replicas: []int32{0, 1, 2},
		ISR: []int32{int32(survivor)}}}, ts.Partitions)

	pctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	err = producer.ProduceSync(pctx, &kgo.Record{Value: []byte("one copy is not enough")}).FirstErr()
	require.Error(t, err)
	assert.True(t, errors.Is(err, kerr.NotEnoughReplicas) || errors.Is(err, kerr.NotEnoughReplicasAfterAppend),
		"want NOT_ENOUGH_REPLICAS, got %v", err)
	t.Logf("produce with two brokers down: %v", err)
}

// waitISR polls until the topic has partitions and every partition's ISR
// satisfies ok.
func waitISR(ctx context.Context, c *localkafka.Cluster, topic string, ok func([]int32) bool) error {
	return c.WaitPartitions(ctx, topic, "the ISR condition", func(p localkafka.PartitionState) bool { return ok(p.ISR) })
}
