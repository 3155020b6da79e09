package provider

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// requestCounter counts the requests of some keys a kfake cluster gets, and
// the topics in each CreateTopics and DeleteTopics.
type requestCounter struct {
	mu       sync.Mutex
	requests map[int16]int
	largest  map[int16]int // most topics in one request
}

func countRequests(t *testing.T, c *kfake.Cluster, keys ...kmsg.Key) *requestCounter {
	t.Helper()
	rc := &requestCounter{requests: map[int16]int{}, largest: map[int16]int{}}
	for _, key := range keys {
		c.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			topics := 0
			switch r := req.(type) {
			case *kmsg.CreateTopicsRequest:
				topics = len(r.Topics)
			case *kmsg.DeleteTopicsRequest:
				topics = max(len(r.Topics), len(r.TopicNames))
			}
			rc.mu.Lock()
			defer rc.mu.Unlock()
			rc.requests[int16(key)]++
			rc.largest[int16(key)] = max(rc.largest[int16(key)], topics)
			return nil, nil, false
		})
	}
	return rc
}

func (rc *requestCounter) get(key kmsg.Key) (requests, largest int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests[int16(key)], rc.largest[int16(key)]
}

// batchCluster is a 3-broker kfake cluster whose requests are counted.
func batchCluster(t *testing.T) (*testServer, *testCluster, *requestCounter) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	raw, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	require.NoError(t, err)
	t.Cleanup(raw.Close)
	tc := &testCluster{addrs: c.ListenAddrs(), adm: kadm.NewClient(raw), raw: raw}
	rc := countRequests(t, c, kmsg.CreateTopics, kmsg.DeleteTopics, kmsg.Metadata, kmsg.DescribeConfigs)
	return server(t, c.ListenAddrs(), nil), tc, rc
}

// concurrently runs f for every name at once, as the engine runs Creates and
// Deletes up to its --parallel, and returns each name's error.
func concurrently(names []string, f func(name string) error) map[string]error {
	var mu sync.Mutex
	errs := map[string]error{}
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f(name)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errs
}

func batchNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("batched-%02d", i)
	}
	return names
}

// Concurrent Creates share CreateTopics requests and the wait until every
// broker shows them; concurrent Deletes share DeleteTopics requests. One by
// one, n topics took n CreateTopics and five metadata requests each (the
// controller lookup, then the broker list and one per broker).
func TestConcurrentCreatesAndDeletesAreBatched(t *testing.T) {
	const n = 40
	s, tc, rc := batchCluster(t)
	names := batchNames(n)
	states := sync.Map{}

	errs := concurrently(names, func(name string) error {
		resp, err := tryCreate(s, topicProps(name, 3, 1, map[string]string{"retention.ms": "3600000"}))
		states.Store(name, resp.Properties)
		return err
	})
	creates, largest := rc.get(kmsg.CreateTopics)
	metadata, _ := rc.get(kmsg.Metadata)
	describes, _ := rc.get(kmsg.DescribeConfigs)
	for _, name := range names {
		require.NoError(t, errs[name], name)
		m := tc.direct(t, name)
		require.Zero(t, m.ErrorCode, name)
		assert.Len(t, m.Partitions, 3, name)
	}
	t.Logf("%d creates: %d CreateTopics requests (largest %d topics), %d Metadata, %d DescribeConfigs",
		n, creates, largest, metadata, describes)
	assert.Less(t, creates, n/2, "CreateTopics requests for %d concurrent creates", n)
	assert.Greater(t, largest, 1, "topics in the largest CreateTopics request")
	assert.Less(t, metadata, 2*n, "Metadata requests for %d concurrent creates", n)
	assert.Less(t, describes, n, "DescribeConfigs requests for %d concurrent creates", n)

	errs = concurrently(names, func(name string) error {
		state, _ := states.Load(name)
		return del(s, name, state.(property.Map))
	})
	for _, name := range names {
		require.NoError(t, errs[name], name)
		assert.Equal(t, kerr.UnknownTopicOrPartition.Code, tc.direct(t, name).ErrorCode, name)
	}
	deletes, largest := rc.get(kmsg.DeleteTopics)
	t.Logf("%d deletes: %d DeleteTopics requests (largest %d topics)", n, deletes, largest)
	assert.Less(t, deletes, n/2, "DeleteTopics requests for %d concurrent deletes", n)
}

// One topic's Kafka error in a batch is that topic's alone: the others of
// the same CreateTopics request are created.
func TestBatchedCreateFailsOnlyTheRefusedTopic(t *testing.T) {
	s, tc, rc := batchCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := tc.adm.CreateTopic(ctx, 1, 1, nil, "batched-05")
	require.NoError(t, err)

	names := batchNames(12)
	errs := concurrently(names, func(name string) error {
		_, err := tryCreate(s, topicProps(name, 1, 1, nil))
		return err
	})
	for _, name := range names {
		if name == "batched-05" {
			require.ErrorIs(t, errs[name], kerr.TopicAlreadyExists)
			assert.ErrorContains(t, errs[name], `topic "batched-05"`)
			assert.ErrorContains(t, errs[name], "adopt")
			continue
		}
		assert.NoError(t, errs[name], name)
	}
	_, largest := rc.get(kmsg.CreateTopics)
	assert.Greater(t, largest, 1, "the topics did not share a request, so this proves nothing")
}

// A topic named twice in one CreateTopics request makes Kafka refuse both:
// the second Create of a name waits for the next batch and gets its own answer.
func TestSameTopicNeverSharesABatch(t *testing.T) {
	s, _, rc := batchCluster(t)
	names := []string{"twice", "twice", "other-1", "other-2"}
	var mu sync.Mutex
	var got []error
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tryCreate(s, topicProps(name, 1, 1, nil))
			mu.Lock()
			got = append(got, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	exists := 0
	for _, err := range got {
		if err != nil {
			require.ErrorIs(t, err, kerr.TopicAlreadyExists)
			exists++
		}
	}
	assert.Equal(t, 1, exists, "exactly one of the two Creates of %q finds it existing: %v", "twice", got)
	creates, _ := rc.get(kmsg.CreateTopics)
	assert.GreaterOrEqual(t, creates, 2)
}
