package kafkaadmin

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A request to one broker that gets no answer (a cut tunnel: the connection
// died) is asked again; an answer from Kafka, even an error code, is final. The
// tunnel chaos test in tests/integration found the single attempt failing an
// update whose validation step met the cut.
func TestAskOneRetriesOnlyRequestsWithoutAnswer(t *testing.T) {
	raw, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
	require.NoError(t, err)
	defer raw.Close()
	k := &Client{raw: raw, timeout: 5 * time.Second}
	ctx := context.Background()

	calls := 0
	got, err := askOne(ctx, k, 1, "t", func(context.Context, kmsg.Requestor, string) (string, error) {
		calls++
		if calls < 3 {
			return "", requestError("t", "DescribeConfigs", io.ErrUnexpectedEOF)
		}
		return "answer", nil
	})
	require.NoError(t, err)
	assert.Equal(t, "answer", got)
	assert.Equal(t, 3, calls)

	calls = 0
	_, err = askOne(ctx, k, 1, "t", func(context.Context, kmsg.Requestor, string) (string, error) {
		calls++
		return "", TopicError("t", "DescribeConfigs", kerr.TopicAuthorizationFailed, "")
	})
	assert.True(t, errors.Is(err, kerr.TopicAuthorizationFailed))
	assert.Equal(t, 1, calls, "Kafka's answer is final")

	k.timeout = 300 * time.Millisecond
	_, err = askOne(ctx, k, 1, "t", func(context.Context, kmsg.Requestor, string) (string, error) {
		return "", requestError("t", "DescribeConfigs", io.ErrUnexpectedEOF)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `topic "t": asking broker 1: gave up after 300ms`)
	assert.Contains(t, err.Error(), "the last attempt: topic \"t\": DescribeConfigs request failed: unexpected EOF")
}

// A check whose request is still in flight when the deadline passes fails with
// the deadline; Poll still says what it waited for and for how long.
func TestPollNamesWhatItWaitedForWhenTheDeadlineCutsACheck(t *testing.T) {
	err := Poll(context.Background(), 50*time.Millisecond, "waiting for the test", func(ctx context.Context) (bool, error) {
		<-ctx.Done()
		return false, ctx.Err()
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "waiting for the test: gave up after 50ms")
}

// Kafka's own answer stays as it is: waiting would not change it.
func TestPollReturnsACheckFailureAsItIs(t *testing.T) {
	failure := errors.New("kafka said no")
	err := Poll(context.Background(), time.Second, "waiting for the test", func(context.Context) (bool, error) {
		return false, failure
	})
	assert.Same(t, failure, err)
}
