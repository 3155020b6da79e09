package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// reachRetryInterval is how often awaitCluster asks again.
const reachRetryInterval = 500 * time.Millisecond

// awaitCluster asks the cluster for its brokers until it answers, for up to
// timeout. A pod's first connections can be refused for a moment after it
// starts: the cluster's NetworkPolicy enforcer (kube-router, Calico, …) admits
// a new pod's address only once it has seen the pod (seen on the real node
// tier: "connect: connection refused" 3 s into a pod's life, while a pod of
// the same namespace a second later got in). Only network errors are waited
// out; Kafka's own answers (authentication, authorization) fail at once.
func awaitCluster(ctx context.Context, cl *kgo.Client, timeout time.Duration) error {
	var last error
	err := poll.Until(ctx, reachRetryInterval, timeout, func(ctx context.Context) (bool, error) {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := kadm.NewClient(cl).ListBrokers(attempt)
		switch {
		case err == nil:
			return true, nil
		case isNetworkError(err) || errors.Is(err, context.DeadlineExceeded):
			last = err
			return false, nil
		default:
			return false, err
		}
	})
	if err != nil && last != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return fmt.Errorf("no broker answered within %s (last: %w); check --bootstrap and that a NetworkPolicy admits this pod", timeout, last)
	}
	return err
}

// isNetworkError reports a refused, reset or unreachable connection.
func isNetworkError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}
