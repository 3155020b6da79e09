//go:build realkafka

package realkafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// Sizes of the durability run. Records are produced at a steady pace so the
// crash and the restart both happen while records are in flight; production
// goes on until at least minRecords are written and restartTail records were
// written after the crashed broker came back.
const (
	minRecords  = 20000
	restartTail = 2000
	maxRecords  = 200000
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

// consumeAll reads every partition of topic from the start to its current
// end offset and returns how often each record number was seen.
func consumeAll(t *testing.T, ctx context.Context, c *localkafka.Cluster, topic string) (seen map[int]int, total int) {
	t.Helper()
	ends, err := c.Admin().ListEndOffsets(ctx, topic)
	require.NoError(t, err)
	require.NoError(t, ends.Error())
	want := map[int32]int64{}
	starts := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		want[o.Partition] = o.Offset
		starts[o.Partition] = kgo.NewOffset().AtStart()
	})
	cl, err := c.Client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}))
	require.NoError(t, err)
	defer cl.Close()
	next := map[int32]int64{}
	done := func() bool {
		for p, end := range want {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	seen = map[int]int{}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consuming %s: %v (reached %v of %v)", topic, ctx.Err(), next, want)
		}
		require.NoError(t, errors.Join(fetchErrs(fs)...))
		fs.EachRecord(func(r *kgo.Record) {
			n, err := strconv.Atoi(string(r.Value))
			require.NoError(t, err)
			seen[n]++
			total++
			next[r.Partition] = r.Offset + 1
		})
	}
	return seen, total
}

func fetchErrs(fs kgo.Fetches) []error {
	var errs []error
	fs.EachError(func(topic string, p int32, err error) {
		errs = append(errs, fmt.Errorf("%s[%d]: %w", topic, p, err))
	})
	return errs
}

// An acks=all, idempotent producer (franz-go's defaults) loses and duplicates
// nothing when a broker of the prod configuration (RF 3, min ISR 2) crashes
// mid-run and comes back: every acknowledged record is read back exactly once.
func TestAcksAllSurvivesBrokerCrash(t *testing.T) {
	c := cluster(t, "prod")
	t.Cleanup(func() { restoreNodes(t, c) })
	ctx := testCtx(t, 5*time.Minute)
	const topic = "durability"
	createTopic(t, c, topic, 3, 3, nil)
	minISR := topicConfig(t, c.Admin(), topic, "min.insync.replicas")
	require.Equal(t, "2", minISR.MaybeValue(),
		"the topic takes min.insync.replicas from the prod broker config")
	ts, err := c.Describe(ctx, topic)
	require.NoError(t, err)
	victim := int(ts.Partitions[0].Leader) // its leaderships must move

	producer, err := c.Client(kgo.DefaultProduceTopic(topic), kgo.RecordDeliveryTimeout(2*time.Minute))
	require.NoError(t, err)
	defer producer.Close()

	var (
		mu        sync.Mutex
		acked     = map[int]bool{}
		failed    = map[string]int{}
		nAcked    atomic.Int64
		nProduced atomic.Int64
		restartAt atomic.Int64 // records produced when the restart finished; 0 = not yet
		produced  = make(chan int, 1)
	)
	start := time.Now()
	// The producer goroutine ends with the test: an early failure cancels it and
	// the test waits for it to return, so it never produces into a later test.
	pctx, stopProducing := context.WithCancel(ctx)
	exited := make(chan struct{})
	t.Cleanup(func() {
		stopProducing()
		<-exited
	})
	go func() {
		defer close(exited)
		i := 0
		for ; pctx.Err() == nil && i < maxRecords; i++ {
			if r := restartAt.Load(); r > 0 && i >= minRecords && i >= int(r)+restartTail {
				break
			}
			n := i
			producer.Produce(pctx, &kgo.Record{Key: []byte(strconv.Itoa(n)), Value: []byte(strconv.Itoa(n))},
				func(_ *kgo.Record, err error) {
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						failed[err.Error()]++
						return
					}
					acked[n] = true
					nAcked.Add(1)
				})
			nProduced.Store(int64(i + 1))
			if n%20 == 19 {
				time.Sleep(10 * time.Millisecond) // ~2000 records/s
			}
		}
		produced <- i
	}()
	waitAcked := func(n int64, why string) {
		t.Helper()
		for nAcked.Load() < n {
			select {
			case <-ctx.Done():
				t.Fatalf("%s: only %d of %d records acknowledged", why, nAcked.Load(), n)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}

	waitAcked(minRecords/4, "before the crash")
	killedAt := nAcked.Load()
	require.NoError(t, c.Kill(victim))
	crash := time.Now()
	t.Logf("SIGKILLed node %d (leader of %s[0]) after %d acks, %s into the run", victim, topic, killedAt,
		time.Since(start).Round(100*time.Millisecond))
	waitAcked(killedAt+minRecords/4, "with one broker down")
	t.Logf("acks continued on two brokers: %d more records acknowledged %s after the crash", minRecords/4,
		time.Since(crash).Round(100*time.Millisecond))
	require.NoError(t, c.Restart(ctx, victim))
	restartAt.Store(nProduced.Load())
	t.Logf("node %d restarted and serving %s after the crash, at record %d", victim,
		time.Since(crash).Round(100*time.Millisecond), restartAt.Load())

	total := <-produced
	require.NoError(t, producer.Flush(ctx))
	require.NoError(t, c.WaitInSync(ctx, topic, 3), "the restarted broker rejoins every ISR")
	t.Logf("produced %d records in %s", total, time.Since(start).Round(100*time.Millisecond))

	seen, consumed := consumeAll(t, ctx, c, topic)
	mu.Lock()
	defer mu.Unlock()
	var lost, duplicated, unackedStored []int
	for n := range acked {
		if seen[n] == 0 {
			lost = append(lost, n)
		}
	}
	for n, k := range seen {
		if k > 1 {
			duplicated = append(duplicated, n)
		}
		if !acked[n] {
			unackedStored = append(unackedStored, n)
		}
	}
	sort.Ints(lost)
	sort.Ints(duplicated)
	nFailed := 0
	for _, k := range failed {
		nFailed += k
	}
	t.Logf("durability: produced %d, acked %d, failed %d %v, consumed %d, lost %d, duplicated %d, stored but not acked %d",
		total, len(acked), nFailed, failed, consumed, len(lost), len(duplicated), len(unackedStored))
	assert.GreaterOrEqual(t, total, minRecords)
	assert.Empty(t, lost, "acknowledged records missing after the crash")
	assert.Empty(t, duplicated, "records stored twice despite idempotence")
	assert.Equal(t, len(seen), consumed)
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
