package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults of GroupConsumeConfig.
const (
	// DefaultCommitInterval is how often a group consumer commits what it
	// consumed: short, so a lag exporter sees lag 0 while it keeps up.
	DefaultCommitInterval = time.Second
	// DefaultConsumeProgress is how often consume prints a progress line.
	DefaultConsumeProgress = time.Second
	// finalTimeout bounds the end of a run: the final commit, reading the
	// committed offsets and lag back, leaving the group. It is below
	// Kubernetes' default 30 s termination grace period.
	finalTimeout = 20 * time.Second
	// lagTimeout bounds the lag query of one progress line.
	lagTimeout = 5 * time.Second
)

// GroupConsumeConfig configures GroupConsume.
type GroupConsumeConfig struct {
	Client ClientConfig
	Topic  string
	// Group is the consumer group joined (classic protocol).
	Group string
	// Duration ends the run; 0 runs until ctx is cancelled (SIGTERM).
	Duration time.Duration
	// CommitInterval is the autocommit interval; 0 means
	// DefaultCommitInterval.
	CommitInterval time.Duration
	// Progress, when set, gets a progress line every ProgressEvery (see
	// GroupConsume for the format).
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Validate checks the config; messages name the flag, the value and the fix.
func (c GroupConsumeConfig) Validate() error {
	if err := c.Client.Validate(); err != nil {
		return err
	}
	switch {
	case c.Topic == "":
		return errors.New("--topic is empty: give the topic to consume (it must exist)")
	case c.Group == "":
		return errors.New("--group is empty: give the consumer group to join, e.g. email-processor")
	case c.Duration < 0:
		return fmt.Errorf("--duration = %s: must be positive, or 0 to run until SIGTERM", c.Duration)
	case c.CommitInterval < 0:
		return fmt.Errorf("--commit-interval = %s: must be positive, e.g. 1s", c.CommitInterval)
	case c.ProgressEvery < 0:
		return fmt.Errorf("--progress = %s: must be positive, or 0 for no progress lines", c.ProgressEvery)
	}
	return nil
}

// GroupConsumeSummary is what a consume run reports, as one JSON line.
type GroupConsumeSummary struct {
	Topic string `json:"topic"`
	Group string `json:"group"`
	// Consumed counts the records of Topic this run consumed.
	Consumed int64 `json:"consumed"`
	// CommittedOffsets are the group's committed offsets of Topic, partition
	// -> offset, read back from the group coordinator after the final commit;
	// null if they could not be read (then ReadError says why).
	CommittedOffsets map[string]int64 `json:"committedOffsets"`
	// Lag is the group's lag on Topic (end offset minus committed offset,
	// summed over partitions) as the brokers report it after the final
	// commit, computed as the lag exporter does; -1 if unknown.
	Lag int64 `json:"lag"`
	// StartedAt is when the run began (RFC 3339, UTC); DurationMs is from
	// then to the summary.
	StartedAt  string `json:"startedAt"`
	DurationMs int64  `json:"durationMs"`
	// FetchErrors counts the errors consuming met and rode out (a broker
	// restart, a rebalance), by text.
	FetchErrors map[string]int64 `json:"fetchErrors"`
	// Error, when not "", is why the run failed: an authorization error
	// consuming, or the final commit failing.
	Error string `json:"error"`
	// ReadError, when not "", is why CommittedOffsets or Lag are unknown.
	ReadError string `json:"readError"`
}

// OK reports whether the run ended cleanly, its consumption committed.
func (s GroupConsumeSummary) OK() bool { return s.Error == "" }

// GroupConsume joins the consumer group (franz-go's classic group protocol,
// cooperative-sticky balancing) on the topic and consumes until the duration
// ends or ctx is cancelled (SIGTERM). Each partition starts at the group's
// committed offset, or at the partition's earliest offset when the group has
// none. What it consumed is autocommitted every CommitInterval, and committed
// once more synchronously at the end, before it leaves the group. Records are
// only counted, whatever their content.
//
// Every ProgressEvery it writes to Progress one line:
//
//	kafka-loadgen: consume <s>s consumed=<n> lag=<n> members=<n>
//
// seconds since the start, records consumed so far, and the group's lag on
// the topic and member count as the brokers report them (kadm's Lag, as the
// lag exporter reads it); lag and members are -1 when they could not be read,
// and the line then ends with ` lagError="<text>"`. Each distinct error
// ridden out while consuming is written once, on a line of its own starting
// "kafka-loadgen: consume: " (note the colon).
//
// The error is for setup only (bad config, unreachable cluster, no topic);
// once the run started, the outcome is in the summary. Retriable errors while
// consuming are counted and ridden out; an authorization error ends the run
// (with Error set).
func GroupConsume(ctx context.Context, cfg GroupConsumeConfig) (GroupConsumeSummary, error) {
	if err := cfg.Validate(); err != nil {
		return GroupConsumeSummary{}, err
	}
	if cfg.CommitInterval == 0 {
		cfg.CommitInterval = DefaultCommitInterval
	}
	cl, err := groupClient(ctx, cfg)
	if err != nil {
		return GroupConsumeSummary{}, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	start := time.Now()
	sum := GroupConsumeSummary{Topic: cfg.Topic, Group: cfg.Group, Lag: -1,
		StartedAt: start.UTC().Format(time.RFC3339Nano), FetchErrors: map[string]int64{}}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		var cancelT context.CancelFunc
		runCtx, cancelT = context.WithTimeout(runCtx, cfg.Duration)
		defer cancelT()
	}
	var consumed atomic.Int64
	progressCtx, stopProgress := context.WithCancel(runCtx)
	var progress sync.WaitGroup
	if cfg.Progress != nil && cfg.ProgressEvery > 0 {
		progress.Add(1)
		go func() {
			defer progress.Done()
			reportConsumeProgress(progressCtx, adm, cfg, start, &consumed)
		}()
	}
	consumeUntilDone(runCtx, cl, cfg, &sum, &consumed)
	stopProgress()
	progress.Wait()
	sum.Consumed = consumed.Load()
	finishGroupConsume(cl, adm, cfg, &sum)
	sum.DurationMs = time.Since(start).Milliseconds()
	return sum, nil
}

// groupClient is the group member's client, checked to see the topic.
func groupClient(ctx context.Context, cfg GroupConsumeConfig) (*kgo.Client, error) {
	base, err := cfg.Client.Opts()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(base,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitInterval(cfg.CommitInterval),
	)...)
	if err != nil {
		return nil, fmt.Errorf("consume: client: %w", err)
	}
	if _, err := topicPartitions(ctx, cl, cfg.Topic); err != nil {
		cl.Close()
		return nil, fmt.Errorf("consume: %w", err)
	}
	return cl, nil
}

// consumeUntilDone polls until runCtx ends or a fetch error waiting cannot
// fix (recorded in sum.Error), counting the topic's records in consumed and
// each distinct fetch error in sum.FetchErrors.
func consumeUntilDone(runCtx context.Context, cl *kgo.Client, cfg GroupConsumeConfig, sum *GroupConsumeSummary, consumed *atomic.Int64) {
	for runCtx.Err() == nil {
		fs := cl.PollFetches(runCtx)
		var fatal error
		fs.EachError(func(t string, p int32, err error) {
			fatal = errors.Join(fatal, fetchError(runCtx, cfg, sum, t, p, err))
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Topic == cfg.Topic {
				consumed.Add(1)
			}
		})
		if fatal != nil {
			sum.Error = fatal.Error()
			return
		}
	}
}

// fetchError counts one fetch error in sum.FetchErrors (reporting its first
// sighting) and returns it when it ends the run: a closed client or an
// authorization error. Errors of the run ending are ignored.
func fetchError(runCtx context.Context, cfg GroupConsumeConfig, sum *GroupConsumeSummary, t string, p int32, err error) error {
	if runCtx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return nil // the run ending
	}
	if errors.Is(err, kgo.ErrClientClosed) {
		return err
	}
	text := err.Error()
	if t != "" {
		text = fmt.Sprintf("%s[%d]: %v", t, p, err)
	}
	sum.FetchErrors[text]++
	if sum.FetchErrors[text] == 1 && cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "kafka-loadgen: consume: %s (counted in fetchErrors; going on unless it is an authorization error)\n", text)
	}
	if isAuthError(err) {
		return fmt.Errorf("%s: give the user Read on topic %s and on group %s", text, cfg.Topic, cfg.Group)
	}
	return nil
}

// finishGroupConsume makes the final commit of everything polled, reads the
// group's view back while still a member, then leaves; all within
// finalTimeout, so a pod that got SIGTERM is done before its grace period
// ends.
func finishGroupConsume(cl *kgo.Client, adm *kadm.Client, cfg GroupConsumeConfig, sum *GroupConsumeSummary) {
	fctx, fcancel := context.WithTimeout(context.Background(), finalTimeout)
	defer fcancel()
	if err := cl.CommitUncommittedOffsets(fctx); err != nil {
		sum.Error = joinText(sum.Error, fmt.Sprintf("final commit: %v", err))
	}
	var readErrs []error
	if offs, err := adm.FetchOffsets(fctx, cfg.Group); err != nil {
		readErrs = append(readErrs, fmt.Errorf("committed offsets: %w", err))
	} else if err := offs.Error(); err != nil {
		readErrs = append(readErrs, fmt.Errorf("committed offsets: %w", err))
	} else {
		sum.CommittedOffsets = map[string]int64{}
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Topic == cfg.Topic {
				sum.CommittedOffsets[strconv.Itoa(int(o.Partition))] = o.At
			}
		})
	}
	if lag, _, err := GroupLag(fctx, adm, cfg.Group, cfg.Topic); err != nil {
		readErrs = append(readErrs, fmt.Errorf("lag: %w", err))
	} else {
		sum.Lag = lag
	}
	if err := errors.Join(readErrs...); err != nil {
		sum.ReadError = err.Error()
	}
	_ = cl.LeaveGroupContext(fctx) // the broker also drops a silent member after the session timeout
}

// GroupLag returns the group's lag on the topic (the sum over its partitions
// of end offset minus committed offset, each at least 0) and its member count
// (0 when the group is Empty or Dead), as the brokers report them through
// kadm's Lag, the way the lag exporter reads them.
func GroupLag(ctx context.Context, adm *kadm.Client, group, topic string) (lag int64, members int, err error) {
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		return -1, -1, err
	}
	l, ok := lags[group]
	switch {
	case !ok:
		return -1, -1, fmt.Errorf("group %s: not in the answer", group)
	case l.DescribeErr != nil:
		return -1, -1, fmt.Errorf("group %s: describe: %w", group, l.DescribeErr)
	case l.FetchErr != nil:
		return -1, -1, fmt.Errorf("group %s: committed offsets: %w", group, l.FetchErr)
	}
	switch l.State {
	case "Empty", "Dead":
	default:
		members = len(l.Members)
	}
	parts := l.Lag[topic]
	ids := make([]int32, 0, len(parts))
	for p := range parts {
		ids = append(ids, p)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, p := range ids {
		if pl := parts[p]; pl.Err != nil {
			err = errors.Join(err, fmt.Errorf("%s[%d]: %w", topic, p, pl.Err))
		} else {
			lag += pl.Lag
		}
	}
	if err != nil {
		return -1, members, err
	}
	return lag, members, nil
}

func reportConsumeProgress(ctx context.Context, adm *kadm.Client, cfg GroupConsumeConfig, start time.Time, consumed *atomic.Int64) {
	t := time.NewTicker(cfg.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		lctx, cancel := context.WithTimeout(ctx, min(lagTimeout, cfg.ProgressEvery*5))
		lag, members, err := GroupLag(lctx, adm, cfg.Group, cfg.Topic)
		cancel()
		if ctx.Err() != nil {
			return
		}
		line := fmt.Sprintf("kafka-loadgen: consume %.0fs consumed=%d lag=%d members=%d",
			time.Since(start).Seconds(), consumed.Load(), lag, members)
		if err != nil {
			line += fmt.Sprintf(" lagError=%q", err.Error())
		}
		fmt.Fprintln(cfg.Progress, line)
	}
}

// isAuthError reports whether err is one a retry cannot fix: the user may
// not read the topic or the group, or could not authenticate.
func isAuthError(err error) bool {
	for _, e := range []error{kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed,
		kerr.ClusterAuthorizationFailed, kerr.SaslAuthenticationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func joinText(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
