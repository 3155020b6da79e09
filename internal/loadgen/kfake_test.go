package loadgen

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func fakeCluster(t *testing.T, topic string, partitions int32) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(partitions, topic))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// A 2 s run against kfake: every record sent is acknowledged, spread evenly
// over the partitions, and read back exactly once.
func TestProduceVerifyKfake(t *testing.T) {
	c := fakeCluster(t, "load", 3)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := ClientConfig{Bootstrap: c.ListenAddrs()}
	sum, err := Produce(ctx, ProduceConfig{Client: client, Topic: "load", RunID: "kfake-1",
		Duration: 2 * time.Second, Rate: 1000})
	require.NoError(t, err)
	t.Logf("sent %d, acked %d, longest stall %d ms", sum.Sent, sum.Acked, sum.LongestStallMs)
	assert.InDelta(t, 2000, sum.Sent, 300, "about rate x duration")
	assert.Equal(t, sum.Sent, sum.Acked)
	assert.Zero(t, sum.Failed)
	assert.Zero(t, sum.Pending)
	assert.Empty(t, sum.FailedErrors)
	assert.Equal(t, Ranges{{0, sum.Sent - 1}}, sum.AckedSeqRanges)
	assert.True(t, sum.OK())

	res, err := Verify(ctx, VerifyConfig{Client: client, Topic: "load", RunID: "kfake-1", Acked: sum.AckedSeqRanges})
	require.NoError(t, err)
	assert.Equal(t, VerifyResult{RunID: "kfake-1", Acked: sum.Acked, Found: sum.Acked, Records: sum.Acked,
		LostSample: []int64{}, DupSample: []int64{}}, res)
	assert.True(t, res.OK())

	// A second run in the same topic: verify tells the runs apart, and a seq
	// claimed acknowledged that was never written is reported lost.
	sum2, err := Produce(ctx, ProduceConfig{Client: client, Topic: "load", RunID: "kfake-2", Count: 30, Rate: 0})
	require.NoError(t, err)
	require.Equal(t, Ranges{{0, 29}}, sum2.AckedSeqRanges)
	res, err = Verify(ctx, VerifyConfig{Client: client, Topic: "load", RunID: "kfake-2", Acked: Ranges{{0, 29}, {40, 41}}})
	require.NoError(t, err)
	assert.Equal(t, VerifyResult{RunID: "kfake-2", Acked: 32, Found: 30, Lost: 2, Records: 30, OtherRecords: sum.Acked,
		LostSample: []int64{40, 41}, DupSample: []int64{}}, res)
}

func TestProduceStopFileAndCancel(t *testing.T) {
	c := fakeCluster(t, "load", 2)
	client := ClientConfig{Bootstrap: c.ListenAddrs()}
	stopFile := filepath.Join(t.TempDir(), "stop")
	time.AfterFunc(500*time.Millisecond, func() { _ = os.WriteFile(stopFile, nil, 0o644) })
	start := time.Now()
	sum, err := Produce(context.Background(), ProduceConfig{Client: client, Topic: "load", RunID: "r",
		Duration: time.Minute, Rate: 200, StopFile: stopFile})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "the stop file ends the run")
	assert.True(t, sum.OK())
	assert.Equal(t, sum.Sent, sum.Acked)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel) // SIGTERM in the command
	sum, err = Produce(ctx, ProduceConfig{Client: client, Topic: "load", RunID: "r2", Duration: time.Minute, Rate: 200})
	require.NoError(t, err)
	assert.True(t, sum.OK(), "cancelling stops sending, and what was sent is still flushed: %+v", sum)
	assert.Positive(t, sum.Acked)
}

func TestProduceMissingTopic(t *testing.T) {
	c := fakeCluster(t, "load", 1)
	_, err := Produce(context.Background(), ProduceConfig{Client: ClientConfig{Bootstrap: c.ListenAddrs()},
		Topic: "nope", RunID: "r", Count: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "produce: topic nope: UNKNOWN_TOPIC_OR_PARTITION")
}

// The command line end to end, with the seed broker named through
// --dns-server: "kafka.loadgen.test" exists only in a tiny DNS server on the
// loopback, so the run only works if the client resolves through it.
func TestMainThroughDNSServer(t *testing.T) {
	c := fakeCluster(t, "load", 3)
	_, port, err := net.SplitHostPort(c.ListenAddrs()[0])
	require.NoError(t, err)
	dns := startDNS(t, "kafka.loadgen.test.", net.IPv4(127, 0, 0, 1))
	seed := "kafka.loadgen.test:" + port
	report := filepath.Join(t.TempDir(), "report.json")
	ctx := context.Background()

	code, out, errOut := runMain(ctx, "produce", "--bootstrap", seed, "--dns-server", dns, "--topic", "load",
		"--run-id", "cli", "--count", "500", "--rate", "0", "--report", report)
	require.Equal(t, ExitOK, code, errOut)
	var sum Summary
	decodeLine(t, out, &sum)
	assert.Equal(t, int64(500), sum.Sent)
	assert.Equal(t, Ranges{{0, 499}}, sum.AckedSeqRanges)
	fromFile, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Equal(t, out, string(fromFile), "--report holds the same line")

	code, out, errOut = runMain(ctx, "verify", "--bootstrap", seed, "--dns-server", dns, "--topic", "load",
		"--run-id", "cli", "--acked-from", report)
	require.Equal(t, ExitOK, code, errOut)
	assert.JSONEq(t, `{"runId":"cli","acked":500,"found":500,"lost":0,"duplicated":0,"lostSample":[],"dupSample":[],
		"unacked":0,"records":500,"otherRecords":0}`, out)

	// Claiming a seq that was never written fails verify with exit code 1.
	code, out, _ = runMain(ctx, "verify", "--bootstrap", seed, "--dns-server", dns, "--topic", "load",
		"--run-id", "cli", "--acked-from", `{"runId":"cli","ackedSeqRanges":[[0,500]]}`)
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, out, `"lost":1,"duplicated":0,"lostSample":[500]`)
}

// A bad command line exits 2 with the message on stderr and nothing on stdout.
func TestMainUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, Usage},
		{[]string{"produce", "--topic", "t", "--run-id", "r", "--count", "1"},
			"kafka-loadgen produce: --bootstrap is empty: give host:port[,host:port...]\n"},
		{[]string{"verify", "--bootstrap", "k:1", "--topic", "t", "--run-id", "r"},
			"kafka-loadgen verify: --acked-from is empty: give produce's summary (its --report file or stdout)\n"},
		{[]string{"produce", "topic"},
			"kafka-loadgen produce: unexpected argument \"topic\" (flags are --name value)\n"},
	} {
		code, out, errOut := runMain(context.Background(), tc.args...)
		assert.Equal(t, ExitUsage, code, tc.args)
		assert.Equal(t, tc.want, errOut, tc.args)
		assert.Empty(t, out, tc.args)
	}
}

// startDNS serves one name's A record over UDP on the loopback and returns
// its address. Every other question gets an empty NOERROR answer (as an AAAA
// query for the name should). Just enough DNS for Go's resolver.
func startDNS(t *testing.T, name string, ip net.IP) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], name, ip.To4()); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

// dnsAnswer builds the response to a one-question query (RFC 1035 4.1).
func dnsAnswer(q []byte, name string, ip net.IP) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	end := i + 1 + 4 // the root label, QTYPE and QCLASS
	if end > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	match := strings.EqualFold(strings.Join(labels, ".")+".", name) && qtype == 1
	resp := append([]byte{}, q[:2]...)          // ID
	resp = append(resp, 0x81, 0x80)             // response, recursion desired and available, NOERROR
	resp = append(resp, 0, 1, 0, 0, 0, 0, 0, 0) // 1 question; counts below
	resp = append(resp, q[12:end]...)
	if match {
		resp[7] = 1                               // ANCOUNT
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1) // name (pointer to the question), type A, class IN
		resp = append(resp, 0, 0, 0, 60, 0, 4)    // TTL 60, 4 bytes
		resp = append(resp, ip...)
	}
	return resp
}

// --pad-bytes: every record carries a header of exactly that many bytes, which
// differ between records (so compression cannot shrink a throughput run), and
// verify still reads the records back.
func TestProducePadBytes(t *testing.T) {
	c := fakeCluster(t, "padded", 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := ClientConfig{Bootstrap: c.ListenAddrs()}
	sum, err := Produce(ctx, ProduceConfig{Client: client, Topic: "padded", RunID: "pad", Count: 20, PadBytes: 1000})
	require.NoError(t, err)
	require.Equal(t, int64(20), sum.Acked)

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("padded"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	seen := map[string]bool{}
	for len(seen) < 20 {
		fs := cl.PollFetches(ctx)
		require.NoError(t, fs.Err0())
		fs.EachRecord(func(r *kgo.Record) {
			require.Len(t, r.Headers, 1)
			assert.Equal(t, "pad", r.Headers[0].Key)
			assert.Len(t, r.Headers[0].Value, 1000)
			seen[string(r.Headers[0].Value)] = true
		})
	}
	assert.Len(t, seen, 20, "every record's padding differs")
	res, err := Verify(ctx, VerifyConfig{Client: client, Topic: "padded", RunID: "pad", Acked: sum.AckedSeqRanges})
	require.NoError(t, err)
	assert.True(t, res.OK())

	_, err = Produce(ctx, ProduceConfig{Client: client, Topic: "padded", RunID: "pad", Count: 1, PadBytes: MaxPadBytes + 1})
	require.EqualError(t, err, "--pad-bytes = 524289: must be between 0 and 524288 (Kafka's default max.message.bytes is about 1 MiB)")
}
