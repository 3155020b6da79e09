package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
	"github.com/umbrella-platform/umbrella-streaming/internal/testkafka"
)

// consume's command line against kfake: records written before the group
// existed are consumed from the earliest offset, records written while it
// runs too; the group's committed offsets reach the end offsets while it
// runs, the progress lines report the consumed count and the group's lag 0
// with one member, and cancelling (SIGTERM) exits 0 with a summary whose
// committed offsets are the end offsets. With the consumer gone the group
// has no member and lags by what was written since; a second run, ended by
// --duration and with no autocommit in its 3 s, consumes only those records
// and its final commit brings the lag back to 0.
func TestGroupConsumeKfake(t *testing.T) {
	const topic, group = "orders", "email-processor"
	c := fakeCluster(t, topic, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := ClientConfig{Bootstrap: c.ListenAddrs()}
	adm := newAdmin(t, client)
	produceN(t, ctx, client, topic, "before", 300)

	run := startConsume(t, ctx, client.Bootstrap, topic, group, "--progress", "100ms", "--commit-interval", "200ms")
	awaitCommittedAtEnd(t, ctx, adm, group, topic, 300)
	produceN(t, ctx, client, topic, "during", 60)
	awaitCommittedAtEnd(t, ctx, adm, group, topic, 360)
	run.awaitProgress(t, ctx, func(p consumeProgress) bool { return p.consumed == 360 && p.lag == 0 && p.members == 1 })

	code, sum := run.stop(t)
	assertCaughtUp(t, ctx, adm, group, topic, 360, code, sum, run.stderr.String())
	lag, members, err := GroupLag(ctx, adm, group, topic)
	require.NoError(t, err)
	assert.Equal(t, [2]int64{0, 0}, [2]int64{lag, int64(members)}, "lag 0, no member once it left")

	produceN(t, ctx, client, topic, "after", 40)
	lag, members, err = GroupLag(ctx, adm, group, topic)
	require.NoError(t, err)
	assert.Equal(t, [2]int64{40, 0}, [2]int64{lag, int64(members)}, "lag grows with no member")

	code, out, errOut := runMain(ctx, "consume", "--bootstrap", strings.Join(client.Bootstrap, ","), "--topic", topic,
		"--group", group, "--duration", "3s", "--progress", "0", "--commit-interval", "1h")
	assert.Empty(t, errOut, "--progress 0: no progress lines")
	var resumed GroupConsumeSummary
	decodeLine(t, out, &resumed)
	// 40: resumed from the committed offsets.
	assertCaughtUp(t, ctx, adm, group, topic, 40, code, resumed, errOut)
	assert.GreaterOrEqual(t, resumed.DurationMs, int64(3000))
}

func TestGroupConsumeUsage(t *testing.T) {
	c := fakeCluster(t, "orders", 1)
	seed := c.ListenAddrs()[0]
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--topic", "t", "--group", "g"},
			"kafka-loadgen consume: --bootstrap is empty: give host:port[,host:port...]\n"},
		{[]string{"--bootstrap", "k:1", "--group", "g"},
			"kafka-loadgen consume: --topic is empty: give the topic to consume (it must exist)\n"},
		{[]string{"--bootstrap", "k:1", "--topic", "t"},
			"kafka-loadgen consume: --group is empty: give the consumer group to join, e.g. email-processor\n"},
		{[]string{"--bootstrap", "k:1", "--topic", "t", "--group", "g", "--duration", "-1s"},
			"kafka-loadgen consume: --duration = -1s: must be positive, or 0 to run until SIGTERM\n"},
		{[]string{"--bootstrap", "k:1", "--topic", "t", "--group", "g", "--progress", "-2s"},
			"kafka-loadgen consume: --progress = -2s: must be positive, or 0 for no progress lines\n"},
		{[]string{"--bootstrap", "k:1", "--topic", "t", "--group", "g", "--commit-interval", "0"},
			"kafka-loadgen consume: --commit-interval = 0s: must be positive, e.g. 1s\n"},
		{[]string{"--bootstrap", "k:1", "--topic", "t", "--group", "g", "--commit-interval", "-1s"},
			"kafka-loadgen consume: --commit-interval = -1s: must be positive, e.g. 1s\n"},
		{[]string{"--bootstrap", "k", "--topic", "t", "--group", "g"},
			"kafka-loadgen consume: --bootstrap \"k\": address k: missing port in address: want host:port\n"},
		{[]string{"--bootstrap", "k:1", "--topic", "t", "--group", "g", "extra"},
			"kafka-loadgen consume: unexpected argument \"extra\" (flags are --name value)\n"},
		{[]string{"--bootstrap", seed, "--topic", "nope", "--group", "g"},
			"kafka-loadgen consume: consume: topic nope: UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition. (create it first, e.g. RF 3 and min.insync.replicas 2)\n"},
	} {
		code, out, errOut := runMain(context.Background(), append([]string{"consume"}, tc.args...)...)
		assert.Equal(t, ExitUsage, code, tc.args)
		assert.Equal(t, tc.want, errOut, tc.args)
		assert.Empty(t, out, tc.args)
	}
	code, out, errOut := runMain(context.Background(), "consume", "--duration", "soon")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `invalid value "soon" for flag -duration`)
	assert.Empty(t, out)
	assert.Contains(t, Usage, "kafka-loadgen consume --bootstrap host:port[,...] --topic T --group G")
	assert.Contains(t, Usage, "kafka-loadgen: consume <s>s consumed=<n> lag=<n> members=<n>")
}

// consumeRun is `kafka-loadgen consume` running in a goroutine.
type consumeRun struct {
	cancel context.CancelFunc
	done   chan int
	stdout bytes.Buffer
	stderr testkafka.SyncBuffer
}

// startConsume runs Main consume until stop; a test that fails early still
// stops it (before the cluster goes).
func startConsume(t *testing.T, ctx context.Context, bootstrap []string, topic, group string, extra ...string) *consumeRun {
	t.Helper()
	r := &consumeRun{done: make(chan int, 1)}
	var rctx context.Context
	rctx, r.cancel = context.WithCancel(ctx)
	args := append([]string{"consume", "--bootstrap", strings.Join(bootstrap, ","), "--topic", topic, "--group", group}, extra...)
	go func() { r.done <- Main(rctx, args, &r.stdout, &r.stderr) }()
	t.Cleanup(func() {
		r.cancel()
		select {
		case code := <-r.done:
			r.done <- code
		case <-time.After(time.Minute):
			t.Errorf("consume did not stop within a minute of its cancel")
		}
	})
	return r
}

// stop cancels the run as SIGTERM does and returns its exit code and summary.
func (r *consumeRun) stop(t *testing.T) (int, GroupConsumeSummary) {
	t.Helper()
	r.cancel()
	var code int
	select {
	case code = <-r.done:
		r.done <- code
	case <-time.After(time.Minute):
		t.Fatalf("consume did not stop within a minute of its cancel; stderr:\n%s", r.stderr.String())
	}
	var sum GroupConsumeSummary
	decodeLine(t, r.stdout.String(), &sum)
	return code, sum
}

type consumeProgress struct{ consumed, lag, members int64 }

// progressRE is the documented progress line, whole.
var progressRE = regexp.MustCompile(`^kafka-loadgen: consume \d+s consumed=(\d+) lag=(-?\d+) members=(-?\d+)( lagError=".*")?$`)

func parseProgress(line string) (consumeProgress, bool) {
	m := progressRE.FindStringSubmatch(line)
	if m == nil {
		return consumeProgress{}, false
	}
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	return consumeProgress{n(m[1]), n(m[2]), n(m[3])}, true
}

// awaitProgress waits for a progress line that ok accepts; every stderr line
// must be a progress line or the line of an error ridden out.
func (r *consumeRun) awaitProgress(t *testing.T, ctx context.Context, ok func(consumeProgress) bool) {
	t.Helper()
	var last string
	err := poll.Until(ctx, 50*time.Millisecond, time.Minute, func(context.Context) (bool, error) {
		for _, line := range strings.Split(strings.TrimSpace(r.stderr.String()), "\n") {
			if line == "" || strings.HasPrefix(line, "kafka-loadgen: consume: ") { // an error ridden out
				continue
			}
			p, parsed := parseProgress(line)
			if !parsed {
				return false, fmt.Errorf("stderr line %q is no progress line", line)
			}
			last = line
			if ok(p) {
				return true, nil
			}
		}
		return false, nil
	})
	require.NoError(t, err, "last progress line %q", last)
}

func newAdmin(t *testing.T, c ClientConfig) *kadm.Client {
	t.Helper()
	opts, err := c.Opts()
	require.NoError(t, err)
	cl, err := kgo.NewClient(opts...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func produceN(t *testing.T, ctx context.Context, c ClientConfig, topic, runID string, n int64) {
	t.Helper()
	sum, err := Produce(ctx, ProduceConfig{Client: c, Topic: topic, RunID: runID, Count: n, Rate: 0})
	require.NoError(t, err)
	require.Equal(t, n, sum.Acked)
}

// groupOffsets returns the group's committed offsets of the topic and the
// topic's end offsets, partition -> offset.
func groupOffsets(t *testing.T, ctx context.Context, adm *kadm.Client, group, topic string) (committed, ends map[int32]int64) {
	t.Helper()
	committed, ends, err := readGroupOffsets(ctx, adm, group, topic)
	require.NoError(t, err)
	return committed, ends
}

func readGroupOffsets(ctx context.Context, adm *kadm.Client, group, topic string) (committed, ends map[int32]int64, err error) {
	committed = map[int32]int64{}
	offs, err := adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) { // no member has joined yet
		offs, err = nil, nil
	}
	if err == nil {
		err = offs.Error()
	}
	if err != nil {
		return nil, nil, err
	}
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			committed[o.Partition] = o.At
		}
	})
	ends, err = listOffsets(ctx, adm.ListEndOffsets, topic)
	return committed, ends, err
}

// awaitCommittedAtEnd waits until the topic holds total records and the
// group's committed offsets are its end offsets. Retriable errors (the
// coordinator still loading) are waited out.
func awaitCommittedAtEnd(t *testing.T, ctx context.Context, adm *kadm.Client, group, topic string, total int64) {
	t.Helper()
	var committed, ends map[int32]int64
	var last error
	err := poll.Until(ctx, 100*time.Millisecond, time.Minute, func(ctx context.Context) (bool, error) {
		committed, ends, last = readGroupOffsets(ctx, adm, group, topic)
		if last != nil {
			if kerr.IsRetriable(last) {
				return false, nil
			}
			return false, last
		}
		var sum int64
		for _, e := range ends {
			sum += e
		}
		return sum == total && fmt.Sprint(committed) == fmt.Sprint(ends), nil
	})
	require.NoError(t, err, "group %s committed %v, end offsets %v (want %d records); last error %v",
		group, committed, ends, total, last)
}

// assertCaughtUp checks a consume run that ended: exit 0, the group's
// committed offsets are the topic's end offsets, and the summary says just
// that: consumed records, those offsets committed, lag 0, no error.
func assertCaughtUp(t *testing.T, ctx context.Context, adm *kadm.Client, group, topic string, consumed int64,
	code int, sum GroupConsumeSummary, stderr string) {
	t.Helper()
	require.Equal(t, ExitOK, code, stderr)
	committed, ends := groupOffsets(t, ctx, adm, group, topic)
	assert.Equal(t, ends, committed, "committed offsets == end offsets")
	assert.Equal(t, GroupConsumeSummary{Topic: topic, Group: group, Consumed: consumed, CommittedOffsets: stringKeys(ends),
		Lag: 0, FetchErrors: map[string]int64{}}, withoutTimes(sum))
}

func stringKeys(m map[int32]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		out[strconv.Itoa(int(k))] = v
	}
	return out
}

func withoutTimes(s GroupConsumeSummary) GroupConsumeSummary {
	s.StartedAt, s.DurationMs = "", 0
	return s
}
