package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults of ProduceConfig.
const (
	// DefaultMaxInFlight bounds records sent and not yet acked or failed. It
	// is franz-go's own buffer limit: during a stall the sender waits here
	// (and stays stoppable) instead of blocking inside Produce.
	DefaultMaxInFlight = 10000
	// DefaultFlushTimeout bounds the final flush. It is below Kubernetes'
	// default 30 s termination grace period, so a pod that gets SIGTERM still
	// prints its summary before the SIGKILL.
	DefaultFlushTimeout = 25 * time.Second
	// DefaultSetupTimeout bounds reaching the cluster and reading the topic's
	// partitions before the first record.
	DefaultSetupTimeout = time.Minute
	// stopFilePoll is how often the stop file is looked for.
	stopFilePoll = 200 * time.Millisecond
)

// ProduceConfig configures Produce.
type ProduceConfig struct {
	Client ClientConfig
	Topic  string
	RunID  string
	// Duration and Count end the run, whichever comes first; at least one
	// must be set (0 means not set).
	Duration time.Duration
	Count    int64
	// Rate is records per second; 0 means as fast as MaxInFlight allows.
	Rate float64
	// StopFile, when set, ends the run as soon as the file exists.
	StopFile string
	// MaxInFlight bounds unacknowledged records; 0 means DefaultMaxInFlight.
	MaxInFlight int
	// FlushTimeout bounds the final flush; 0 means DefaultFlushTimeout.
	// Records still unacknowledged then are reported as Pending.
	FlushTimeout time.Duration
	// PadBytes adds a header "pad" of this many random bytes to every record, so
	// throughput is measured with realistic record sizes (the value itself is a
	// few bytes). Random, so compression cannot shrink it away.
	PadBytes int
	// Progress, when set, gets a line of counts every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Validate checks the config; messages name the flag and the fix.
func (c ProduceConfig) Validate() error {
	if err := c.Client.Validate(); err != nil {
		return err
	}
	switch {
	case c.Topic == "":
		return errors.New("--topic is empty: give the topic to write to (it must exist)")
	case c.RunID == "":
		return errors.New("--run-id is empty: give an id that tells this run's records from others in the topic")
	case c.Duration < 0:
		return fmt.Errorf("--duration = %s: must be positive", c.Duration)
	case c.Count < 0:
		return fmt.Errorf("--count = %d: must be positive", c.Count)
	case c.Duration == 0 && c.Count == 0:
		return errors.New("neither --duration nor --count is set: give one (or both: the first reached ends the run)")
	case c.Rate < 0:
		return fmt.Errorf("--rate = %g/s: must be positive, or 0 for unthrottled", c.Rate)
	case c.MaxInFlight < 0:
		return fmt.Errorf("--max-in-flight = %d: must be positive", c.MaxInFlight)
	case c.FlushTimeout < 0:
		return fmt.Errorf("--flush-timeout = %s: must be positive", c.FlushTimeout)
	case c.PadBytes < 0 || c.PadBytes > MaxPadBytes:
		return fmt.Errorf("--pad-bytes = %d: must be between 0 and %d (Kafka's default max.message.bytes is about 1 MiB)", c.PadBytes, MaxPadBytes)
	}
	return nil
}

// Produce writes records "<run-id>:<seq>" to the topic until the duration or
// count is reached, the stop file appears or ctx is cancelled (SIGTERM), then
// flushes for at most FlushTimeout and returns the Summary. Seq i goes to
// partition i mod N (N read from the cluster at start), keyed "p<partition>",
// so every partition, and so every broker leading one, carries an equal share.
//
// The producer uses acks=all and idempotence (franz-go's defaults) and
// retries a retriable error without limit: RecordRetries is left unlimited,
// RecordDeliveryTimeout unset and UnknownTopicRetries is -1 (a metadata
// answer from a broker that is still catching up must not fail records; the
// topic's existence is checked once up front instead). A lost broker thus
// becomes a stall and never a failed or lost record; the flush timeout, not a
// record timeout, bounds the wait at the end. Records are produced with a
// context that is never cancelled, because franz-go fails buffered records
// whose context ends: stopping only stops sending.
//
// The error is for setup only (bad config, cluster unreachable, no topic);
// once records flow, the outcome is in the Summary.
func Produce(ctx context.Context, cfg ProduceConfig) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.FlushTimeout == 0 {
		cfg.FlushTimeout = DefaultFlushTimeout
	}
	cl, partitions, err := producerClient(ctx, cfg)
	if err != nil {
		return Summary{}, err
	}
	defer cl.Close()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(runCtx, cfg.Duration)
		defer cancel()
	}
	if cfg.StopFile != "" {
		go watchStopFile(runCtx, cfg.StopFile, stop)
	}
	tally := NewTally(cfg.RunID, cfg.Topic)
	if cfg.Progress != nil && cfg.ProgressEvery > 0 {
		done := make(chan struct{})
		defer close(done)
		go reportProgress(done, tally, cfg.Progress, cfg.ProgressEvery)
	}
	sendAll(runCtx, cl, cfg, partitions, tally)

	flushCtx, cancel := context.WithTimeout(context.Background(), cfg.FlushTimeout)
	defer cancel()
	_ = cl.Flush(flushCtx) // on timeout the unacknowledged records are the summary's Pending
	return tally.Summary(time.Now()), nil
}

// producerClient is the acks=all producer, with the topic's partition count.
func producerClient(ctx context.Context, cfg ProduceConfig) (*kgo.Client, int, error) {
	base, err := cfg.Client.Opts()
	if err != nil {
		return nil, 0, err
	}
	cl, err := kgo.NewClient(append(base,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.UnknownTopicRetries(-1),
		kgo.MaxBufferedRecords(cfg.MaxInFlight),
	)...)
	if err != nil {
		return nil, 0, fmt.Errorf("produce: client: %w", err)
	}
	partitions, err := topicPartitions(ctx, cl, cfg.Topic)
	if err != nil {
		cl.Close()
		return nil, 0, fmt.Errorf("produce: %w", err)
	}
	return cl, partitions, nil
}

// sendAll produces records round-robin over the partitions, at most
// cfg.MaxInFlight unacknowledged and paced to cfg.Rate, until cfg.Count are
// sent or runCtx ends; tally records each send and its outcome.
func sendAll(runCtx context.Context, cl *kgo.Client, cfg ProduceConfig, partitions int, tally *Tally) {
	slots := make(chan struct{}, cfg.MaxInFlight)
	keys := make([][]byte, partitions)
	for p := range keys {
		keys[p] = []byte("p" + strconv.Itoa(p))
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	start := time.Now()
	pace := time.NewTimer(0)
	defer pace.Stop()
	for seq := int64(0); cfg.Count == 0 || seq < cfg.Count; seq++ {
		if !waitTurn(runCtx, pace, start, seq, cfg.Rate) {
			return
		}
		select {
		case <-runCtx.Done():
			return
		case slots <- struct{}{}:
		}
		if runCtx.Err() != nil {
			<-slots
			return
		}
		p := int32(seq % int64(partitions))
		tally.Sent(seq, time.Now())
		rec := &kgo.Record{Topic: cfg.Topic, Partition: p, Key: keys[p], Value: Value(cfg.RunID, seq)}
		if cfg.PadBytes > 0 {
			rec.Headers = []kgo.RecordHeader{{Key: "pad", Value: randomBytes(rng, cfg.PadBytes)}}
		}
		cl.Produce(context.Background(), rec, func(_ *kgo.Record, err error) {
			if err != nil {
				tally.Failed(seq, err, time.Now())
			} else {
				tally.Acked(seq, time.Now())
			}
			<-slots
		})
	}
}

// waitTurn waits until record seq is due at rate records per second from
// start (at once with rate 0); false when runCtx ended first.
func waitTurn(runCtx context.Context, pace *time.Timer, start time.Time, seq int64, rate float64) bool {
	if rate <= 0 {
		return true
	}
	due := start.Add(time.Duration(float64(seq) / rate * float64(time.Second)))
	wait := time.Until(due)
	if wait <= 0 {
		return true
	}
	pace.Reset(wait)
	select {
	case <-runCtx.Done():
		return false
	case <-pace.C:
		return true
	}
}

// MaxPadBytes bounds PadBytes below Kafka's default max.message.bytes.
const MaxPadBytes = 1 << 19

// randomBytes returns n fresh pseudo-random bytes.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n+7)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b[:n]
}

// topicPartitions returns the topic's partition count, failing if it does not
// exist: records for a missing topic would otherwise be retried forever.
func topicPartitions(ctx context.Context, cl *kgo.Client, topic string) (int, error) {
	if err := awaitCluster(ctx, cl, DefaultSetupTimeout); err != nil {
		return 0, fmt.Errorf("reading topic %s from the cluster: %w", topic, err)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultSetupTimeout)
	defer cancel()
	tds, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("reading topic %s from the cluster: %w", topic, err)
	}
	td, ok := tds[topic]
	switch {
	case !ok:
		return 0, fmt.Errorf("topic %s: not in the metadata answer", topic)
	case td.Err != nil:
		return 0, fmt.Errorf("topic %s: %w (create it first, e.g. RF 3 and min.insync.replicas 2)", topic, td.Err)
	case len(td.Partitions) == 0:
		return 0, fmt.Errorf("topic %s has no partitions", topic)
	}
	return len(td.Partitions), nil
}

func watchStopFile(ctx context.Context, path string, stop context.CancelFunc) {
	t := time.NewTicker(stopFilePoll)
	defer t.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			stop()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func reportProgress(done <-chan struct{}, tally *Tally, w io.Writer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			s := tally.Summary(time.Now())
			fmt.Fprintf(w, "kafka-loadgen: %.0fs sent=%d acked=%d failed=%d pending=%d longestStallMs=%d\n",
				float64(s.DurationMs)/1000, s.Sent, s.Acked, s.Failed, s.Pending, s.LongestStallMs)
		}
	}
}
