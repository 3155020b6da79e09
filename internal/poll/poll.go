// Package poll waits for a condition by checking it again and again: the one
// retry loop of the tooling packages, so each caller states only what it
// checks, how often, for how long, and what to say when it gives up.
package poll

import (
	"context"
	"time"
)

// Until calls check at once, then every interval after the previous call
// returned, until check reports done, check fails, ctx ends or timeout passes
// (0: only ctx bounds the wait). check gets the context bounded by timeout,
// and is never started once that context has ended.
//
// Until returns nil when check reported done, check's error as it is when
// check failed (a failure that waiting cannot fix), and otherwise the
// context's error (context.DeadlineExceeded when timeout passed). A check
// that is not yet satisfied returns (false, nil); callers keep what they
// want to report about the last attempt themselves.
func Until(ctx context.Context, interval, timeout time.Duration, check func(ctx context.Context) (done bool, err error)) error {
	return Backoff(ctx, interval, interval, timeout, check)
}

// Backoff is Until with a growing interval: first after the first check,
// doubling after each later one up to limit. It suits waits on a cluster
// that usually settles at once but can take seconds, without asking it
// hundreds of times meanwhile.
func Backoff(ctx context.Context, first, limit, timeout time.Duration, check func(ctx context.Context) (done bool, err error)) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	interval := first
	for {
		done, err := check(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
		// The interval and the deadline can end together; select then picks
		// either. A check started on an ended context would only fail with
		// the deadline and hide what the checks before it saw.
		if err := ended(ctx); err != nil {
			return err
		}
		interval = next(interval, limit)
	}
}

// ended is ctx's error, or context.DeadlineExceeded once its deadline has
// passed: the timer that cancels a context runs in its own goroutine, so on a
// busy machine ctx.Err() can still be nil for a moment after the deadline.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// next is the interval after cur: doubled, at most limit, never below cur.
func next(cur, limit time.Duration) time.Duration { return max(min(2*cur, limit), cur) }
