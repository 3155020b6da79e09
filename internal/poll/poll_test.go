package poll

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUntilChecksAtOnceAndStopsWhenDone(t *testing.T) {
	calls := 0
	start := time.Now()
	err := Until(context.Background(), time.Hour, 0, func(context.Context) (bool, error) {
		calls++
		return true, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	assert.Less(t, time.Since(start), time.Second, "the first check does not wait for the interval")
}

func TestUntilRetriesUntilDone(t *testing.T) {
	calls := 0
	err := Until(context.Background(), time.Millisecond, 0, func(context.Context) (bool, error) {
		calls++
		return calls == 3, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, calls)
}

func TestUntilReturnsCheckErrorsAtOnce(t *testing.T) {
	final := errors.New("node 0 stopped")
	calls := 0
	err := Until(context.Background(), time.Millisecond, time.Minute, func(context.Context) (bool, error) {
		calls++
		return false, final
	})
	assert.Same(t, final, err)
	assert.Equal(t, 1, calls)
}

func TestUntilGivesUpAfterTheTimeout(t *testing.T) {
	var checkCtx context.Context
	start := time.Now()
	err := Until(context.Background(), 10*time.Millisecond, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		checkCtx = ctx
		return false, nil
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	_, hasDeadline := checkCtx.Deadline()
	assert.True(t, hasDeadline, "check gets the context bounded by the timeout")
}

func TestUntilEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Until(ctx, time.Hour, 0, func(context.Context) (bool, error) {
		calls++
		cancel()
		return false, nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, calls, "a context that ends cuts the wait short")
}

// TestBackoffWaitsLongerEachTime: the waits between checks grow from first.
func TestBackoffWaitsLongerEachTime(t *testing.T) {
	var at []time.Time
	err := Backoff(context.Background(), 10*time.Millisecond, 40*time.Millisecond, 0, func(context.Context) (bool, error) {
		at = append(at, time.Now())
		return len(at) == 4, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []time.Duration{10, 20, 40} {
		if got := at[i+1].Sub(at[i]); got < w*time.Millisecond {
			t.Errorf("wait %d: %s, want at least %dms", i, got, w)
		}
	}
}

// TestNextIntervalDoublesUpToTheLimit: the interval sequence itself, without
// a clock: doubling, capped at limit, and a limit below the first interval
// keeps the first.
func TestNextIntervalDoublesUpToTheLimit(t *testing.T) {
	cur := 50 * time.Millisecond
	var got []time.Duration
	for range 6 {
		cur = next(cur, time.Second)
		got = append(got, cur)
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("intervals %v, want %v ms", got, want)
		}
	}
	if n := next(time.Second, 10*time.Millisecond); n != time.Second {
		t.Errorf("a limit below the interval shortened it to %s", n)
	}
}

// With the timeout a multiple of the interval, the last wait and the deadline
// end together; the check is still never started on an ended context (it
// would fail with the deadline and hide what earlier checks saw).
func TestUntilNeverChecksOnAnEndedContext(t *testing.T) {
	for i := 0; i < 20; i++ {
		var ended int
		err := Until(context.Background(), 10*time.Millisecond, 30*time.Millisecond, func(ctx context.Context) (bool, error) {
			deadline, ok := ctx.Deadline()
			require.True(t, ok, "the check gets the context bounded by the timeout")
			if !time.Now().Before(deadline) {
				ended++
			}
			return false, nil
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Zero(t, ended, "run %d: checks started after the deadline", i)
	}
}
