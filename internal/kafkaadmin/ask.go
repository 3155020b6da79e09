package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// brokerAnswer is one broker's answer to a request sent to it alone.
type brokerAnswer[T any] struct {
	Broker int32
	Answer T
}

// askEveryBroker sends ask to every broker of the cluster alone, in ID
// order, and returns their answers. The broker list comes from a fresh
// metadata request. It stops at the first broker that gives no answer.
func askEveryBroker[T any](ctx context.Context, k *Client, topic string,
	ask func(context.Context, kmsg.Requestor, string) (T, error),
) ([]brokerAnswer[T], error) {
	cluster, err := k.metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	if len(cluster.Brokers) == 0 {
		return nil, fmt.Errorf("topic %q: the metadata answer lists no brokers", topic)
	}
	answers := make([]brokerAnswer[T], 0, len(cluster.Brokers))
	for _, b := range cluster.Brokers {
		a, err := askOne(ctx, k, b.ID, topic, ask)
		if err != nil {
			return nil, fmt.Errorf("broker %d: %w", b.ID, err)
		}
		answers = append(answers, brokerAnswer[T]{b.ID, a})
	}
	return answers, nil
}

// askOne asks one broker, and asks again while the request got no answer at
// all (a connection that died, as when a port-forward tunnel is cut), up to the
// request timeout: a request sent to one broker alone is not retried by
// franz-go. An answer from Kafka, error code or not, is final.
func askOne[T any](ctx context.Context, k *Client, id int32, topic string,
	ask func(context.Context, kmsg.Requestor, string) (T, error),
) (T, error) {
	var a T
	var last error
	err := Poll(ctx, k.timeout, fmt.Sprintf("topic %q: asking broker %d", topic, id), func(ctx context.Context) (bool, error) {
		var err error
		a, err = ask(ctx, k.Broker(id), topic)
		if err != nil && !isKafkaError(err) && ctx.Err() == nil {
			last = err
			return false, nil
		}
		return true, err
	})
	if err != nil && last != nil && !isKafkaError(err) {
		return a, fmt.Errorf("%w (the last attempt: %v)", err, last)
	}
	return a, err
}

// waitEveryBroker polls every broker of the cluster alone until each one's
// answer satisfies done, the context ends or the request timeout passes.
//
// Brokers apply the controller's metadata records one by one, each at its
// own pace, so right after a change one broker answers with the new state
// and another with the old: on 3 nodes, UNKNOWN_TOPIC_OR_PARTITION right
// after CreateTopics; on 1 and 3 nodes, the previous configs right after
// IncrementalAlterConfigs. A change counts as done only when every broker
// shows it, so that any later request, wherever it lands, sees it too.
// done gets each broker's answer and the first broker's answer of the same
// round, and returns false with what the lagging broker shows, for the error.
func waitEveryBroker[T any](ctx context.Context, k *Client, topic, what string,
	ask func(context.Context, kmsg.Requestor, string) (T, error),
	done func(answer, first T) (bool, string),
) error {
	var lag string
	err := Poll(ctx, k.timeout, fmt.Sprintf("topic %q: waiting until every broker shows %s", topic, what),
		func(ctx context.Context) (bool, error) {
			answers, err := askEveryBroker(ctx, k, topic, ask)
			if err != nil {
				if isKafkaError(err) {
					return false, err
				}
				lag = err.Error() // a broker that did not answer may be restarting: ask again
				return false, nil
			}
			for _, a := range answers {
				if ok, seen := done(a.Answer, answers[0].Answer); !ok {
					lag = fmt.Sprintf("broker %d shows %s", a.Broker, seen)
					return false, nil
				}
			}
			return true, nil
		})
	if err != nil && lag != "" && !isKafkaError(err) {
		return fmt.Errorf("%w; last, %s", err, lag)
	}
	return err
}

// Poll calls check until it reports done, the context ends or timeout passes.
// It backs off from 50 ms to 1 s between calls.
func Poll(ctx context.Context, timeout time.Duration, what string, check func(context.Context) (bool, error)) error {
	var checkErr error
	err := poll.Backoff(ctx, 50*time.Millisecond, time.Second, timeout, func(ctx context.Context) (bool, error) {
		done, err := check(ctx)
		checkErr = err
		return done, err
	})
	// A check cut short by the deadline (a request in flight when it
	// passed) is giving up too, and says what it waited for.
	if err != nil && (checkErr == nil || ctxEnded(checkErr)) {
		return fmt.Errorf("%s: gave up after %s: %w", what, timeout, err)
	}
	return err
}

// ctxEnded reports an error that is a context's end, not Kafka's answer.
func ctxEnded(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
