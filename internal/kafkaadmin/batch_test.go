package kafkaadmin

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A caller that gives up while its op is still queued (every worker busy)
// takes it back: nothing is sent for it.
func TestGroupCommitCallerLeavingTheQueue(t *testing.T) {
	release := make(chan struct{})
	var sent atomic.Int32
	var g groupCommit[string]
	g.run = func(ops []*pendingOp[string]) {
		for _, op := range ops {
			if op.arg != "second" {
				<-release
			}
			sent.Add(1)
			op.finish(nil)
		}
	}
	done := make(chan error, maxInFlight)
	for i := range maxInFlight {
		go func() { done <- g.do(context.Background(), fmt.Sprint(i), fmt.Sprint(i)) }()
	}
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.running == maxInFlight && len(g.queue) == 0
	}, 5*time.Second, 5*time.Millisecond, "every worker runs one op")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, g.do(ctx, "second", "second"), context.Canceled)
	close(release)
	for range maxInFlight {
		require.NoError(t, <-done)
	}
	assert.Equal(t, int32(maxInFlight), sent.Load(), "the op whose caller left was not sent")
}
