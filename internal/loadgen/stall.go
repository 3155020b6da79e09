package loadgen

import "time"

// StallTracker measures the longest produce stall: the longest time the
// producer waited for an acknowledgement while at least one record was
// outstanding. A wait starts at the later of the previous acknowledgement
// and the moment a record was sent with nothing outstanding, so idle time
// between records of a slow rate is not a stall; it ends at the next
// acknowledgement, or when the last outstanding record fails. A wait still
// open when Longest is asked counts up to that moment.
//
// It is pure: callers pass the time of each event. The zero value is ready.
type StallTracker struct {
	outstanding  int64
	since        time.Time // start of the current wait; meaningful while outstanding > 0
	longest      time.Duration
	longestStart time.Time
}

// Sent records a record handed to the producer at t.
func (s *StallTracker) Sent(t time.Time) {
	if s.outstanding == 0 {
		s.since = t
	}
	s.outstanding++
}

// Acked records an acknowledgement at t.
func (s *StallTracker) Acked(t time.Time) {
	if s.outstanding == 0 {
		return // an ack for nothing sent: ignore rather than go negative
	}
	s.observe(t)
	s.outstanding--
	s.since = t
}

// Failed records a record that failed at t. A failure is not an
// acknowledgement, so the wait goes on unless nothing is outstanding any more.
func (s *StallTracker) Failed(t time.Time) {
	if s.outstanding == 0 {
		return
	}
	s.outstanding--
	if s.outstanding == 0 {
		s.observe(t)
	}
}

// Outstanding is the number of records sent and neither acked nor failed.
func (s *StallTracker) Outstanding() int64 { return s.outstanding }

// Longest returns the longest stall and when it started, counting a wait
// still open at now. It returns zeros if no record was ever waited for.
func (s *StallTracker) Longest(now time.Time) (time.Duration, time.Time) {
	if s.outstanding > 0 {
		if d := now.Sub(s.since); d > s.longest {
			return d, s.since
		}
	}
	return s.longest, s.longestStart
}

func (s *StallTracker) observe(t time.Time) {
	if d := t.Sub(s.since); d > s.longest {
		s.longest, s.longestStart = d, s.since
	}
}
