package kafkaadmin

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfirmGoneAsksGoneChecksTimes guards the rule that absence is
// confirmed only after goneChecks rounds that all found nothing, and that only
// the final round is told it is the last.
func TestConfirmGoneAsksGoneChecksTimes(t *testing.T) {
	var lasts []bool
	err := confirmGone(context.Background(), `topic "t"`, func(_ context.Context, last bool) (bool, error) {
		lasts = append(lasts, last)
		return false, nil
	})
	require.NoError(t, err)
	assert.Equal(t, []bool{false, false, false, false, true}, lasts)
}

func TestConfirmGoneStopsWhenFound(t *testing.T) {
	calls := 0
	err := confirmGone(context.Background(), `topic "t"`, func(context.Context, bool) (bool, error) {
		calls++
		return calls == 2, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, calls)
}

func TestConfirmGoneReturnsFindErrorsAsTheyAre(t *testing.T) {
	final := errors.New("UNKNOWN_SERVER_ERROR")
	err := confirmGone(context.Background(), `topic "t"`, func(context.Context, bool) (bool, error) {
		return false, final
	})
	assert.Same(t, final, err)
}

func TestConfirmGoneNamesTheWaitWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	err := confirmGone(ctx, `topic "t"`, func(context.Context, bool) (bool, error) {
		cancel()
		return false, nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.EqualError(t, err, `topic "t": confirming that it is gone: context canceled`)
}
