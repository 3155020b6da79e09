package loadgen

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestStallTracker(t *testing.T) {
	tests := []struct {
		name      string
		events    func(s *StallTracker)
		now       int
		wantMs    int
		wantStart int
	}{
		{"nothing sent", func(s *StallTracker) {}, 100, 0, -1},
		{"steady acks: the longest gap", func(s *StallTracker) {
			s.Sent(at(0))
			s.Sent(at(1))
			s.Sent(at(2))
			s.Acked(at(10)) // waited 10 since the first send
			s.Acked(at(50)) // 40 since the previous ack
			s.Acked(at(55)) // 5
		}, 1000, 40, 10},
		{"idle time with nothing outstanding is no stall", func(s *StallTracker) {
			s.Sent(at(0))
			s.Acked(at(5))
			s.Sent(at(500)) // 495 ms idle: the wait starts here
			s.Acked(at(520))
		}, 1000, 20, 500},
		{"a wait still open counts up to now", func(s *StallTracker) {
			s.Sent(at(0))
			s.Acked(at(5))
			s.Sent(at(10))
		}, 3010, 3000, 10},
		{"a failure is no ack: the wait goes on", func(s *StallTracker) {
			s.Sent(at(0))
			s.Sent(at(0))
			s.Failed(at(100))
			s.Acked(at(300))
		}, 1000, 300, 0},
		{"the last outstanding record failing ends the wait", func(s *StallTracker) {
			s.Sent(at(0))
			s.Failed(at(70))
			s.Sent(at(900))
		}, 910, 70, 0},
		{"an ack with nothing outstanding is ignored", func(s *StallTracker) {
			s.Acked(at(5))
			s.Failed(at(6))
		}, 100, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s StallTracker
			tt.events(&s)
			d, start := s.Longest(at(tt.now))
			assert.Equal(t, time.Duration(tt.wantMs)*time.Millisecond, d)
			if tt.wantStart < 0 {
				assert.True(t, start.IsZero(), "start = %s", start)
			} else {
				assert.Equal(t, at(tt.wantStart), start)
			}
			assert.GreaterOrEqual(t, s.Outstanding(), int64(0))
		})
	}
}

func TestTallySummary(t *testing.T) {
	tl := NewTally("run-1", "load")
	for seq := int64(0); seq < 10; seq++ {
		tl.Sent(seq, at(int(seq)))
	}
	for _, seq := range []int64{0, 1, 2, 3, 5, 6, 7} {
		tl.Acked(seq, at(20))
	}
	tl.Failed(4, errors.New("MESSAGE_TOO_LARGE"), at(21))
	tl.Failed(8, errors.New("MESSAGE_TOO_LARGE"), at(22))
	tl.Acked(7, at(23)) // an ack counted once even if reported twice

	s := tl.Summary(at(1020))
	assert.Equal(t, Summary{
		RunID:          "run-1",
		Topic:          "load",
		Sent:           10,
		Acked:          7,
		Failed:         2,
		FailedErrors:   map[string]int64{"MESSAGE_TOO_LARGE": 2},
		Pending:        1, // seq 9
		LongestStallMs: 1000,
		StallStartedAt: "2026-01-02T03:04:05.02Z", // the last ack; seq 9 is still outstanding
		StartedAt:      "2026-01-02T03:04:05Z",
		DurationMs:     1020,
		AckedSeqRanges: Ranges{{0, 3}, {5, 7}},
	}, s)
	assert.Equal(t, s.Sent, s.Acked+s.Failed+s.Pending)
	assert.False(t, s.OK())

	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"runId":"run-1","topic":"load","sent":10,"acked":7,"failed":2,
		"failedErrors":{"MESSAGE_TOO_LARGE":2},"pending":1,"longestStallMs":1000,
		"stallStartedAt":"2026-01-02T03:04:05.02Z","startedAt":"2026-01-02T03:04:05Z","durationMs":1020,
		"ackedSeqRanges":[[0,3],[5,7]]}`, string(b))
}

func TestTallyEmptySummary(t *testing.T) {
	s := NewTally("r", "t").Summary(at(5))
	assert.True(t, s.OK())
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{"runId":"r","topic":"t","sent":0,"acked":0,"failed":0,"failedErrors":{},"pending":0,
		"longestStallMs":0,"stallStartedAt":"","startedAt":"","durationMs":0,"ackedSeqRanges":[]}`, string(b))
}
