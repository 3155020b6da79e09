package loadgen

import (
	"slices"
	"strconv"
	"strings"
)

// DefaultSampleSize is how many lost and duplicated seqs a VerifyResult lists.
const DefaultSampleSize = 20

// VerifyResult compares the acknowledged seqs of a run with what the topic
// holds.
type VerifyResult struct {
	RunID string `json:"runId"`
	// Acked is the number of seqs the producer reported acknowledged.
	Acked int64 `json:"acked"`
	// Found is the number of distinct seqs of the run in the topic.
	Found int64 `json:"found"`
	// Lost counts acknowledged seqs not in the topic.
	Lost int64 `json:"lost"`
	// Duplicated counts seqs stored more than once (acknowledged or not).
	Duplicated int64 `json:"duplicated"`
	// LostSample and DupSample are the lowest lost and duplicated seqs.
	LostSample []int64 `json:"lostSample"`
	DupSample  []int64 `json:"dupSample"`
	// Unacked counts seqs in the topic that were never acknowledged: records
	// in flight when the producer stopped or gave up. Stored without an ack is
	// allowed; it is no loss.
	Unacked int64 `json:"unacked"`
	// Records counts the records of the run read; OtherRecords those of other
	// runs or with a value not of the form "<run-id>:<seq>".
	Records      int64 `json:"records"`
	OtherRecords int64 `json:"otherRecords"`
}

// OK reports whether nothing was lost and nothing duplicated.
func (r VerifyResult) OK() bool { return r.Lost == 0 && r.Duplicated == 0 }

// Compare returns how the acknowledged seqs compare with the seqs found in
// the topic (seq -> times stored). Samples hold the sampleSize lowest seqs.
// Records and OtherRecords are left for the caller, who read the topic.
func Compare(runID string, acked Ranges, found map[int64]int, sampleSize int) VerifyResult {
	r := VerifyResult{RunID: runID, Acked: acked.Count(), Found: int64(len(found)),
		LostSample: []int64{}, DupSample: []int64{}}
	acked.Each(func(seq int64) {
		if found[seq] == 0 {
			r.Lost++
			if len(r.LostSample) < sampleSize {
				r.LostSample = append(r.LostSample, seq)
			}
		}
	})
	var dups []int64
	for seq, n := range found {
		if n > 1 {
			dups = append(dups, seq)
		}
		if !acked.Contains(seq) {
			r.Unacked++
		}
	}
	slices.Sort(dups)
	r.Duplicated = int64(len(dups))
	r.DupSample = append(r.DupSample, dups[:min(len(dups), sampleSize)]...)
	return r
}

// Value is a record value of run runID: "<run-id>:<seq>".
func Value(runID string, seq int64) []byte {
	return strconv.AppendInt([]byte(runID+":"), seq, 10)
}

// ParseValue splits a record value into run id and seq. The run id may
// itself contain ':'; the seq is after the last one.
func ParseValue(v []byte) (runID string, seq int64, ok bool) {
	s := string(v)
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil || seq < 0 {
		return "", 0, false
	}
	return s[:i], seq, true
}
