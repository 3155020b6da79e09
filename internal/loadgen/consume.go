package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultVerifyTimeout bounds reading the topic back.
const DefaultVerifyTimeout = 5 * time.Minute

// VerifyConfig configures Verify.
type VerifyConfig struct {
	Client ClientConfig
	Topic  string
	RunID  string
	// Acked are the seqs the producer reported acknowledged.
	Acked Ranges
	// Timeout bounds the read; 0 means DefaultVerifyTimeout.
	Timeout time.Duration
	// SampleSize bounds the samples; 0 means DefaultSampleSize.
	SampleSize int
}

// Validate checks the config; messages name the flag.
func (c VerifyConfig) Validate() error {
	if err := c.Client.Validate(); err != nil {
		return err
	}
	switch {
	case c.Topic == "":
		return errors.New("--topic is empty: give the topic the run wrote to")
	case c.RunID == "":
		return errors.New("--run-id is empty: give the run id the producer used")
	}
	return c.Acked.Validate()
}

// Verify reads every partition of the topic from its start offset to the
// high watermark listed when it begins (every acks=all acknowledgement the
// producer got is below it), counts each seq of the run and Compares. The
// error means the topic could not be read; the outcome is in the result.
func Verify(ctx context.Context, cfg VerifyConfig) (VerifyResult, error) {
	if err := cfg.Validate(); err != nil {
		return VerifyResult{}, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultVerifyTimeout
	}
	if cfg.SampleSize == 0 {
		cfg.SampleSize = DefaultSampleSize
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	base, err := cfg.Client.Opts()
	if err != nil {
		return VerifyResult{}, err
	}
	starts, ends, err := topicBounds(ctx, base, cfg.Topic)
	if err != nil {
		return VerifyResult{}, err
	}
	next := map[int32]int64{} // per partition: the offset still to read
	from := map[int32]kgo.Offset{}
	for p, end := range ends {
		if start := starts[p]; start < end {
			next[p] = start
			from[p] = kgo.NewOffset().At(start)
		}
	}
	r := &verifyRead{runID: cfg.RunID, next: next, ends: ends, found: map[int64]int{}}
	if len(from) > 0 {
		cl, err := kgo.NewClient(append(base,
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: from}))...)
		if err != nil {
			return VerifyResult{}, fmt.Errorf("verify: consumer: %w", err)
		}
		defer cl.Close()
		if err := r.readAll(ctx, cl, cfg.Topic); err != nil {
			return VerifyResult{}, err
		}
	}
	res := Compare(cfg.RunID, cfg.Acked, r.found, cfg.SampleSize)
	res.Records, res.OtherRecords = r.records, r.other
	return res, nil
}

// topicBounds lists the topic's start and end offsets per partition, once
// the cluster answers.
func topicBounds(ctx context.Context, base []kgo.Opt, topic string) (starts, ends map[int32]int64, err error) {
	admin, err := kgo.NewClient(base...)
	if err != nil {
		return nil, nil, fmt.Errorf("verify: client: %w", err)
	}
	defer admin.Close()
	if err := awaitCluster(ctx, admin, DefaultSetupTimeout); err != nil {
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	adm := kadm.NewClient(admin)
	if starts, err = listOffsets(ctx, adm.ListStartOffsets, topic); err != nil {
		return nil, nil, fmt.Errorf("verify: start offsets: %w", err)
	}
	if ends, err = listOffsets(ctx, adm.ListEndOffsets, topic); err != nil {
		return nil, nil, fmt.Errorf("verify: end offsets: %w", err)
	}
	return starts, ends, nil
}

// verifyRead is Verify's reading state: the offset still to read per
// partition, the end listed at the start, and what was found.
type verifyRead struct {
	runID          string
	next, ends     map[int32]int64
	found          map[int64]int
	records, other int64
}

// readAll polls until every partition is read up to its listed end.
func (v *verifyRead) readAll(ctx context.Context, cl *kgo.Client, topic string) error {
	for len(v.next) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("verify: reading %s: %w (still to read, partition: next offset "+
				"-> end: %s)", topic, ctx.Err(), remaining(v.next, v.ends))
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !kerr.IsRetriable(err) {
				ferr = errors.Join(ferr, fmt.Errorf("%s[%d]: %w", t, p, err))
			}
		})
		if ferr != nil {
			return fmt.Errorf("verify: %w", ferr)
		}
		fs.EachRecord(v.count)
	}
	return nil
}

// count records one fetched record: a seq of the run, or another record.
func (v *verifyRead) count(r *kgo.Record) {
	if _, ok := v.next[r.Partition]; !ok || r.Offset >= v.ends[r.Partition] {
		return // past the end listed at the start: written after Verify began
	}
	if run, seq, ok := ParseValue(r.Value); ok && run == v.runID {
		v.found[seq]++
		v.records++
	} else {
		v.other++
	}
	if v.next[r.Partition] = r.Offset + 1; v.next[r.Partition] >= v.ends[r.Partition] {
		delete(v.next, r.Partition)
	}
}

// listOffsets returns partition -> offset of one topic, failing on any
// partition's error.
func listOffsets(ctx context.Context, list func(context.Context, ...string) (kadm.ListedOffsets, error),
	topic string) (map[int32]int64, error) {
	lo, err := list(ctx, topic)
	if err != nil {
		return nil, err
	}
	if err := lo.Error(); err != nil {
		return nil, fmt.Errorf("topic %s: %w", topic, err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	if len(out) == 0 {
		return nil, fmt.Errorf("topic %s: no partitions listed (does it exist?)", topic)
	}
	return out, nil
}

func remaining(next, ends map[int32]int64) string {
	var b strings.Builder
	for p, n := range next {
		fmt.Fprintf(&b, " %d: %d -> %d", p, n, ends[p])
	}
	return strings.TrimSpace(b.String())
}

// ParseAcked reads the acknowledged seqs from arg: inline JSON (starting with
// '{' or '['), or else the path of a file holding it. The JSON is a Summary
// (its runId must be runID when both are set) or a bare Ranges array. A file
// with several lines, such as a captured stdout, is read from its last line
// that parses.
func ParseAcked(arg, runID string) (Ranges, error) {
	text := strings.TrimSpace(arg)
	if !strings.HasPrefix(text, "{") && !strings.HasPrefix(text, "[") {
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("--acked-from: %w", err)
		}
		text = strings.TrimSpace(string(b))
	}
	lines := strings.Split(text, "\n")
	var firstErr error
	for i := len(lines) - 1; i >= 0; i-- {
		r, err := parseAckedJSON(strings.TrimSpace(lines[i]), runID)
		if err == nil {
			return r, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if len(lines) > 1 { // maybe one JSON document over several lines
		if r, err := parseAckedJSON(text, runID); err == nil {
			return r, nil
		}
	}
	return nil, fmt.Errorf("--acked-from: %w", firstErr)
}

func parseAckedJSON(text, runID string) (Ranges, error) {
	var r Ranges
	if strings.HasPrefix(text, "[") {
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			return nil, fmt.Errorf("not a JSON array of [first,last] pairs: %w", err)
		}
	} else {
		var s struct {
			RunID  string  `json:"runId"`
			Ranges *Ranges `json:"ackedSeqRanges"`
		}
		if err := json.Unmarshal([]byte(text), &s); err != nil {
			return nil, fmt.Errorf("not a produce summary: %w", err)
		}
		if s.Ranges == nil {
			return nil, errors.New("the JSON has no ackedSeqRanges: give the produce summary (stdout or --report)")
		}
		if s.RunID != "" && runID != "" && s.RunID != runID {
			return nil, fmt.Errorf("the summary is of run %q, not --run-id %q", s.RunID, runID)
		}
		r = *s.Ranges
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}
