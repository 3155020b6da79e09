package loadgen

import (
	"sync"
	"time"
)

// Summary is what a produce run reports, as one JSON line. Sent = Acked +
// Failed + Pending always holds.
type Summary struct {
	RunID string `json:"runId"`
	Topic string `json:"topic"`
	// Sent counts records handed to the producer (seq 0 .. Sent-1).
	Sent int64 `json:"sent"`
	// Acked counts records acknowledged by the cluster (acks=all).
	Acked int64 `json:"acked"`
	// Failed counts records the producer gave up on: only non-retriable
	// errors, since retries are unlimited.
	Failed int64 `json:"failed"`
	// FailedErrors counts failed records by error text.
	FailedErrors map[string]int64 `json:"failedErrors"`
	// Pending counts records neither acked nor failed when the summary was
	// taken: the final flush ran out of time. They may or may not be stored.
	Pending int64 `json:"pending"`
	// LongestStallMs is the longest wait for an acknowledgement while records
	// were outstanding (see StallTracker), in milliseconds.
	LongestStallMs int64 `json:"longestStallMs"`
	// StallStartedAt is when that wait began (RFC 3339, UTC); "" if none.
	StallStartedAt string `json:"stallStartedAt"`
	// StartedAt is when the first record was sent (RFC 3339, UTC).
	StartedAt string `json:"startedAt"`
	// DurationMs is from StartedAt to when the summary was taken.
	DurationMs int64 `json:"durationMs"`
	// AckedSeqRanges are the acknowledged seqs.
	AckedSeqRanges Ranges `json:"ackedSeqRanges"`
}

// OK reports whether every record sent was acknowledged.
func (s Summary) OK() bool { return s.Failed == 0 && s.Pending == 0 }

// Tally counts a produce run's events. Its methods take the event's time and
// are safe for concurrent use (acknowledgements arrive on franz-go's
// goroutines); the counting itself is pure.
type Tally struct {
	mu       sync.Mutex
	runID    string
	topic    string
	started  time.Time
	sent     int64
	acked    SeqSet
	failed   int64
	failures map[string]int64
	stall    StallTracker
}

// NewTally returns an empty tally for a run.
func NewTally(runID, topic string) *Tally {
	return &Tally{runID: runID, topic: topic, failures: map[string]int64{}}
}

// Sent records that seq was handed to the producer at t. Seqs are sent in
// order from 0, so Sent is a count.
func (t *Tally) Sent(seq int64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sent == 0 {
		t.started = at
	}
	t.sent = max(t.sent, seq+1)
	t.stall.Sent(at)
}

// Acked records seq's acknowledgement at t.
func (t *Tally) Acked(seq int64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.acked.Has(seq) {
		return // counted already: a repeat must not shorten the outstanding count
	}
	t.acked.Add(seq)
	t.stall.Acked(at)
}

// Failed records that the producer gave up on seq at t with err.
func (t *Tally) Failed(seq int64, err error, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed++
	t.failures[err.Error()]++
	t.stall.Failed(at)
}

// Summary returns the counts as of now.
func (t *Tally) Summary(now time.Time) Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Summary{
		RunID:          t.runID,
		Topic:          t.topic,
		Sent:           t.sent,
		Acked:          t.acked.Len(),
		Failed:         t.failed,
		FailedErrors:   make(map[string]int64, len(t.failures)),
		AckedSeqRanges: t.acked.Ranges(),
	}
	s.Pending = s.Sent - s.Acked - s.Failed
	for k, v := range t.failures {
		s.FailedErrors[k] = v
	}
	if d, at := t.stall.Longest(now); d > 0 {
		s.LongestStallMs = d.Milliseconds()
		s.StallStartedAt = at.UTC().Format(time.RFC3339Nano)
	}
	if !t.started.IsZero() {
		s.StartedAt = t.started.UTC().Format(time.RFC3339Nano)
		s.DurationMs = now.Sub(t.started).Milliseconds()
	}
	return s
}
