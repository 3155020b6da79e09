package loadgen

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// A cluster that refuses the first connections (as a NetworkPolicy enforcer
// does until it admits a new pod) is waited for: the first attempts fail with
// connection refused, and awaitCluster returns once a broker listens.
func TestAwaitClusterWaitsOutRefusedConnections(t *testing.T) {
	cl, port := refusedClient(t)

	var listening atomic.Bool
	started := make(chan *kfake.Cluster, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		c, err := kfake.NewCluster(kfake.Ports(port))
		if err != nil {
			started <- nil
			return
		}
		listening.Store(true)
		started <- c
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, awaitCluster(ctx, cl, 20*time.Second))
	assert.True(t, listening.Load(), "awaitCluster returned only once the broker listened")
	if c := <-started; c != nil {
		c.Close()
	}
}

// Nothing listening: it gives up after its timeout and says why.
func TestAwaitClusterGivesUpAndNamesTheCause(t *testing.T) {
	cl, _ := refusedClient(t)
	err := awaitCluster(context.Background(), cl, 2*time.Second)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no broker answered within 2s")
	assert.Contains(t, err.Error(), "connection refused")
	assert.Contains(t, err.Error(), "NetworkPolicy")
}

// refusedClient is a client seeded with a loopback port nothing listens on
// (yet): every connection is refused until a broker takes the port.
func refusedClient(t *testing.T) (*kgo.Client, int) {
	t.Helper()
	port, err := localkafka.FreePort("127.0.0.1")
	require.NoError(t, err)
	cl, err := kgo.NewClient(kgo.SeedBrokers(fmt.Sprintf("127.0.0.1:%d", port)))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl, port
}

// When the timeout is a multiple of the retry interval, the last check can
// start just as the deadline passes and fail with the deadline itself (seen in
// CI on a loaded machine). The error still names the refusal seen before it.
func TestAwaitClusterKeepsTheRefusalOverALateDeadline(t *testing.T) {
	cl, _ := refusedClient(t)
	for i := 0; i < 8; i++ {
		err := awaitCluster(context.Background(), cl, reachRetryInterval)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "connection refused", "run %d", i)
	}
}
