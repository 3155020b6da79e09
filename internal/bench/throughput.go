package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// Kafka's own performance tools (kafka-producer-perf-test.sh,
// kafka-consumer-perf-test.sh, kafka-e2e-latency.sh).
const (
	ProducerPerfClass = "org.apache.kafka.tools.ProducerPerformance"
	ConsumerPerfClass = "org.apache.kafka.tools.ConsumerPerformance"
	EndToEndClass     = "org.apache.kafka.tools.EndToEndLatency"
)

// Topics the throughput benchmark writes; the same shape as the platform's
// prod topics (3 partitions, RF 3) on every cluster it runs against.
const (
	PerfTopic = "perf-throughput"
	E2ETopic  = "perf-e2e"
)

// toolJVM are the perf tools' JVM options: the heap their Kafka scripts set
// (KAFKA_HEAP_OPTS=-Xmx512M) and the JIT left at its default (C2 on), since
// the tools measure steady-state speed.
var toolJVM = []string{"-Xmx512M", "-XX:+UseG1GC"}

// PerfOptions configure RunPerf.
type PerfOptions struct {
	// Records and RecordSize size the produce and consume runs.
	Records, RecordSize int
	// E2ERecords is how many records EndToEndLatency sends, one at a time.
	E2ERecords int
	// Timeout bounds each tool run.
	Timeout time.Duration
	// Progress receives one line per finished tool; nil discards them.
	Progress io.Writer
}

// ProduceStats is ProducerPerformance's final summary line.
type ProduceStats struct {
	Records                    int
	RecordsPerSec, MiBPerSec   float64
	AvgMs, MaxMs, P50Ms, P99Ms float64
	Wall                       time.Duration
}

// ConsumeStats is ConsumerPerformance's summary. Its overall rates include
// joining the consumer group (the broker's group.initial.rebalance.delay.ms,
// 3 s by default, on both clusters); the fetch rates exclude it.
type ConsumeStats struct {
	Records                            int
	RecordsPerSec, MiBPerSec           float64
	FetchRecordsPerSec, FetchMiBPerSec float64
	RebalanceMs                        float64
	Wall                               time.Duration
}

// LatencyStats is EndToEndLatency's summary: each record produced (acks as
// asked) and consumed before the next is sent.
type LatencyStats struct {
	Records                     int
	AvgMs, P50Ms, P99Ms, P999Ms float64
	Wall                        time.Duration
}

// PerfResult is one cluster's throughput figures.
type PerfResult struct {
	// Name says which broker configuration the cluster ran.
	Name                  string
	Produce               ProduceStats
	Consume               ConsumeStats
	E2E                   LatencyStats
	LoadBefore, LoadAfter string
}

// RunPerf creates the perf topics (3 partitions, RF 3) on c and runs
// ProducerPerformance (acks=all, gzip, RecordSize-byte records, unthrottled),
// then ConsumerPerformance over the same records, then EndToEndLatency
// (acks=all, gzip), each as `java -cp <libs>/* <class>` like Kafka's scripts.
func RunPerf(ctx context.Context, name string, c *localkafka.Cluster, o PerfOptions) (PerfResult, error) {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	res := PerfResult{Name: name, LoadBefore: LoadAvg()}
	cl, err := c.Client()
	if err != nil {
		return res, err
	}
	defer cl.Close()
	if err := createPerfTopics(ctx, name, cl); err != nil {
		return res, err
	}
	t := perfTools{
		ctx: ctx, name: name, timeout: o.Timeout, dir: c.Dir(), libs: c.Libs(),
		bootstrap: strings.Join(c.Bootstrap(), ","),
		logCfg:    filepath.Join(c.Dir(), "tools-log4j2.properties"), // written by localkafka.Start
	}
	if res.Produce, err = t.produce(o); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Progress, "throughput: %s: produce done (load %s)\n", name, LoadAvg())
	if res.Consume, err = t.consume(o); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Progress, "throughput: %s: consume done (load %s)\n", name, LoadAvg())
	if res.E2E, err = t.endToEnd(o); err != nil {
		return res, err
	}
	res.LoadAfter = LoadAvg()
	fmt.Fprintf(o.Progress, "throughput: %s: end-to-end latency done (load %s)\n", name, res.LoadAfter)
	return res, nil
}

// createPerfTopics creates PerfTopic and E2ETopic (3 partitions, RF 3) and
// waits until every broker knows them, so that no tool's first requests
// measure metadata propagation.
func createPerfTopics(ctx context.Context, name string, cl *kgo.Client) error {
	topics := []string{PerfTopic, E2ETopic}
	created, err := kadm.NewClient(cl).CreateTopics(ctx, TopicPartitions, TopicReplicationFactor, nil, topics...)
	if err == nil {
		err = itemErrors(func(yield func(string, error)) {
			for _, r := range created {
				yield(r.Topic, r.Err)
			}
		})
	}
	if err != nil {
		return fmt.Errorf("bench: %s: creating %v: %w", name, topics, err)
	}
	return waitBrokers(ctx, cl, topics, true)
}

// perfTools runs Kafka's perf tools against one cluster of RunPerf. It is
// split out of RunPerf so that each tool's arguments and parsing read as one
// step; name labels errors, dir is the cluster's folder.
type perfTools struct {
	ctx                          context.Context
	name                         string
	timeout                      time.Duration
	dir, libs, bootstrap, logCfg string
}

// run runs class as `java -cp <libs>/* <class> args...` like Kafka's
// scripts, bounded by the timeout, and returns its stdout and wall time; an
// error carries the tails of stdout and stderr.
func (t perfTools) run(class string, args ...string) (string, time.Duration, error) {
	tctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	defer cancel()
	full := append(append([]string{}, toolJVM...), "-Dlog4j2.configurationFile="+t.logCfg,
		"-cp", filepath.Join(t.libs, "*"), class)
	cmd := exec.CommandContext(tctx, "java", append(full, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return out.String(), d, fmt.Errorf("bench: %s: %s: %w\n%s\n%s", t.name, class, err,
			tail(out.String(), 2000), tail(errOut.String(), 2000))
	}
	return out.String(), d, nil
}

// produce runs ProducerPerformance: o.Records records of o.RecordSize bytes
// to PerfTopic, acks=all, gzip, unthrottled.
func (t perfTools) produce(o PerfOptions) (ProduceStats, error) {
	out, wall, err := t.run(ProducerPerfClass, "--topic", PerfTopic, "--num-records", strconv.Itoa(o.Records),
		"--throughput", "-1", "--record-size", strconv.Itoa(o.RecordSize),
		"--producer-props", "acks=all", "compression.type=gzip", "bootstrap.servers="+t.bootstrap)
	if err != nil {
		return ProduceStats{}, err
	}
	s, err := parseProduce(out)
	if err != nil {
		return s, fmt.Errorf("bench: %s: %w", t.name, err)
	}
	s.Wall = wall
	return s, nil
}

// consume runs ConsumerPerformance over the records produce wrote, in a
// fresh consumer group, and fails if it read fewer than o.Records.
func (t perfTools) consume(o PerfOptions) (ConsumeStats, error) {
	out, wall, err := t.run(ConsumerPerfClass, "--bootstrap-server", t.bootstrap, "--topic", PerfTopic,
		"--messages", strconv.Itoa(o.Records), "--group", "bench-consumer-"+strconv.FormatInt(time.Now().UnixNano(), 36),
		"--timeout", "30000")
	if err != nil {
		return ConsumeStats{}, err
	}
	s, err := parseConsume(out)
	if err != nil {
		return s, fmt.Errorf("bench: %s: %w", t.name, err)
	}
	if s.Records < o.Records {
		return s, fmt.Errorf("bench: %s: ConsumerPerformance read %d records, want %d", t.name, s.Records, o.Records)
	}
	s.Wall = wall
	return s, nil
}

// endToEnd runs EndToEndLatency on E2ETopic: o.E2ERecords records of
// o.RecordSize bytes, acks=all, gzip (through a producer properties file,
// the tool's only way to set it).
func (t perfTools) endToEnd(o PerfOptions) (LatencyStats, error) {
	props := filepath.Join(t.dir, "e2e.properties")
	if err := os.WriteFile(props, []byte("compression.type=gzip\n"), 0o644); err != nil {
		return LatencyStats{}, err
	}
	out, wall, err := t.run(EndToEndClass, t.bootstrap, E2ETopic, strconv.Itoa(o.E2ERecords), "all",
		strconv.Itoa(o.RecordSize), props)
	if err != nil {
		return LatencyStats{}, err
	}
	s, err := parseE2E(out)
	if err != nil {
		return s, fmt.Errorf("bench: %s: %w", t.name, err)
	}
	s.Records, s.Wall = o.E2ERecords, wall
	return s, nil
}

var produceLine = regexp.MustCompile(`(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ` +
	`([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th`)

// parseProduce reads ProducerPerformance's final line ("N records sent, R
// records/sec (M MB/sec), A ms avg latency, X ms max latency, P50 ms 50th, …").
func parseProduce(out string) (ProduceStats, error) {
	m := produceLine.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return ProduceStats{}, fmt.Errorf("no summary line in ProducerPerformance's output:\n%s", tail(out, 2000))
	}
	f := m[len(m)-1]
	num := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
	return ProduceStats{Records: int(num(1)), RecordsPerSec: num(2), MiBPerSec: num(3), AvgMs: num(4), MaxMs: num(5),
		P50Ms: num(6), P99Ms: num(8)}, nil
}

// parseConsume reads ConsumerPerformance's header line and the value line
// after it ("start.time, end.time, data.consumed.in.MB, MB.sec, …").
func parseConsume(out string) (ConsumeStats, error) {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "start.time") || i+1 >= len(lines) {
			continue
		}
		keys := strings.Split(l, ",")
		vals := strings.Split(lines[i+1], ",")
		if len(vals) != len(keys) {
			break
		}
		v := map[string]float64{}
		for j, k := range keys {
			if x, err := strconv.ParseFloat(strings.TrimSpace(vals[j]), 64); err == nil {
				v[strings.TrimSpace(k)] = x
			}
		}
		return ConsumeStats{Records: int(v["data.consumed.in.nMsg"]), RecordsPerSec: v["nMsg.sec"], MiBPerSec: v["MB.sec"],
			FetchRecordsPerSec: v["fetch.nMsg.sec"], FetchMiBPerSec: v["fetch.MB.sec"], RebalanceMs: v["rebalance.time.ms"]}, nil
	}
	return ConsumeStats{}, fmt.Errorf("no summary in ConsumerPerformance's output:\n%s", tail(out, 2000))
}

var (
	e2eAvg = regexp.MustCompile(`Avg latency: ([\d.]+) ms`)
	e2ePct = regexp.MustCompile(`Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)`)
)

// parseE2E reads EndToEndLatency's "Avg latency: A ms" and "Percentiles:
// 50th = P50, 99th = P99, 99.9th = P999" lines.
func parseE2E(out string) (LatencyStats, error) {
	a, p := e2eAvg.FindStringSubmatch(out), e2ePct.FindStringSubmatch(out)
	if a == nil || p == nil {
		return LatencyStats{}, fmt.Errorf("no summary in EndToEndLatency's output:\n%s", tail(out, 2000))
	}
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	return LatencyStats{AvgMs: num(a[1]), P50Ms: num(p[1]), P99Ms: num(p[2]), P999Ms: num(p[3])}, nil
}

// PrintPerf writes the throughput table as Markdown.
func PrintPerf(w io.Writer, rs []PerfResult, o PerfOptions) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### Throughput: Kafka's perf tools, acks=all, compression.type=gzip, %d-byte records, topic 3 partitions RF 3\n\n",
		o.RecordSize)
	fmt.Fprintln(w, "| broker config | test | records/s | MiB/s | avg latency ms | p99 latency ms | wall s | load before → after |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		p, c, e := r.Produce, r.Consume, r.E2E
		fmt.Fprintf(w, "| %s | produce %d (ProducerPerformance) | %.0f | %.2f | %.1f | %.0f | %.1f | %s → %s |\n", r.Name,
			p.Records, p.RecordsPerSec, p.MiBPerSec, p.AvgMs, p.P99Ms, p.Wall.Seconds(), r.LoadBefore, r.LoadAfter)
		fmt.Fprintf(w, "| %s | consume %d (ConsumerPerformance, fetch only) | %.0f | %.2f | – | – | %.1f | |\n", r.Name,
			c.Records, c.FetchRecordsPerSec, c.FetchMiBPerSec, c.Wall.Seconds())
		fmt.Fprintf(w, "| %s | consume incl. group join (%.0f ms) | %.0f | %.2f | – | – | | |\n", r.Name,
			c.RebalanceMs, c.RecordsPerSec, c.MiBPerSec)
		fmt.Fprintf(w, "| %s | end-to-end %d, one at a time (EndToEndLatency) | – | – | %.2f | %.0f | %.1f | |\n", r.Name,
			e.Records, e.AvgMs, e.P99Ms, e.Wall.Seconds())
	}
}
