// Command umbrella-bench runs the benchmarks of issues 3 and 5 against real
// local Kafka clusters and prints their tables as Markdown (scripts/bench.sh
// runs it; see package bench).
//
//	go run ./cmd/umbrella-bench [-sizes 50,200,500] [-records 200000] [-skip-topics] [-skip-throughput]
//
// It starts a 3-node localkafka cluster with the prod stack's spec (its
// broker settings and heap, C2 on as in production), measures topics through
// the engine there (next to the raw floor, the engine with a do-nothing
// provider and a plain kafkaadmin client making the provider's calls, issue
// 26), then produce/consume throughput, stops it, and measures throughput
// again on a second 3-node cluster whose broker settings are Kafka's
// defaults.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/bench"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// brokerJVM are added to every broker's JVM options on both clusters:
// localkafka runs C1 only (fast start, slow steady state), so C2 is switched
// back on (the later -XX flag wins), plus the G1 settings kafka-server-start.sh
// adds (KAFKA_JVM_PERFORMANCE_OPTS) that localkafka leaves out.
var brokerJVM = []string{"-XX:TieredStopAtLevel=4", "-XX:InitiatingHeapOccupancyPercent=35",
	"-XX:+ExplicitGCInvokesConcurrent"}

// kafkaDefaultHeap is kafka-server-start.sh's KAFKA_HEAP_OPTS when unset.
const kafkaDefaultHeap = "-Xmx1G -Xms1G"

func main() {
	var (
		sizes      = flag.String("sizes", "50,200,500", "topic counts N for the topics benchmark")
		records    = flag.Int("records", 200000, "records for ProducerPerformance and ConsumerPerformance")
		recordSize = flag.Int("record-size", 1024, "record size in bytes")
		e2e        = flag.Int("e2e-records", 1000, "records for EndToEndLatency")
		projectDir = flag.String("project", ".", "folder holding Pulumi.prod.yaml")
		pluginDir  = flag.String("plugin-dir", "bin", "folder holding pulumi-resource-umbrellakafka")
		work       = flag.String("work", "", "folder for clusters and state (default: a new temp folder, removed after)")
		skipTopics = flag.Bool("skip-topics", false, "skip the topics benchmark")
		skipPerf   = flag.Bool("skip-throughput", false, "skip the throughput benchmark")
		parallel   = flag.Int("parallel", 0, "engine --parallel, and the concurrency of the provider alone and of the kafkaadmin client floor (0: the CLI's default, 4 × GOMAXPROCS)")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *sizes, *records, *recordSize, *e2e, *parallel, *projectDir, *pluginDir, *work, *skipTopics,
		*skipPerf); err != nil {
		fmt.Fprintln(os.Stderr, "umbrella-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, sizeList string, records, recordSize, e2e, parallel int, projectDir, pluginDir, work string,
	skipTopics, skipPerf bool,
) error {
	var ns []int
	for _, s := range strings.Split(sizeList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-sizes: %q is not a positive count", s)
		}
		ns = append(ns, n)
	}
	pluginDir, err := filepath.Abs(pluginDir)
	if err != nil {
		return err
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "umbrella-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	prod, err := localkafka.LoadStack(projectDir, "prod")
	if err != nil {
		return err
	}
	// The benchmarks' clients dial the plaintext client port.
	prod = localkafka.Plaintext(prod)
	progress := os.Stderr
	began := time.Now()
	fmt.Printf("# umbrella-streaming benchmarks, %s\n\n", began.Format(time.RFC3339))
	fmt.Printf("Machine: %d cores (GOMAXPROCS %d), %s, Kafka %s; load average (1/5/15 min) at start: %s. "+
		"The load average counts every process, this run's brokers and tools included.\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), localkafka.KafkaVersion, bench.LoadAvg())

	fmt.Fprintf(progress, "starting 3-node cluster, prod spec (heap %s)…\n", prod.Broker.HeapOpts)
	cluster, err := startCluster(ctx, prod, filepath.Join(work, "kafka-prod"))
	if err != nil {
		return err
	}
	defer cluster.Stop()

	perfOpts := bench.PerfOptions{Records: records, RecordSize: recordSize, E2ERecords: e2e, Progress: progress}
	var perf []bench.PerfResult
	if !skipTopics {
		if err := topics(ctx, cluster, prod, ns, parallel, pluginDir, filepath.Join(work, "pulumi"), progress); err != nil {
			return err
		}
	}
	if skipPerf {
		return cluster.Stop()
	}
	r, err := bench.RunPerf(ctx, "prod", cluster, perfOpts)
	if err != nil {
		return err
	}
	perf = append(perf, r)
	if err := cluster.Stop(); err != nil {
		return err
	}

	defaults := kafkaDefaults(prod)
	fmt.Fprintf(progress, "starting 3-node cluster, Kafka's default broker settings (heap %s)…\n", defaults.Broker.HeapOpts)
	dc, err := startCluster(ctx, defaults, filepath.Join(work, "kafka-defaults"))
	if err != nil {
		return err
	}
	defer dc.Stop()
	if r, err = bench.RunPerf(ctx, "Kafka defaults", dc, perfOpts); err != nil {
		return err
	}
	perf = append(perf, r)
	if err := dc.Stop(); err != nil {
		return err
	}
	bench.PrintPerf(os.Stdout, perf, perfOpts)
	printDifferences(os.Stdout, prod, defaults, cluster.Network())
	fmt.Printf("\nTotal %.0f s; load average at the end: %s\n", time.Since(began).Seconds(), bench.LoadAvg())
	return nil
}

func startCluster(ctx context.Context, spec *config.Spec, dir string) (*localkafka.Cluster, error) {
	start := time.Now()
	c, err := localkafka.Start(ctx, localkafka.Options{
		Spec: spec, Dir: dir, HeapOpts: spec.Broker.HeapOpts, ExtraJVMOpts: brokerJVM,
		StartTimeout: 3 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "cluster %s ready in %.1f s: %s\n", spec.Stack, time.Since(start).Seconds(),
		strings.Join(c.Bootstrap(), ","))
	return c, nil
}

func topics(ctx context.Context, c *localkafka.Cluster, prod *config.Spec, ns []int, parallel int, pluginDir, dir string,
	progress io.Writer,
) error {
	port, err := bench.ServeNoop(ctx)
	if err != nil {
		return err
	}
	ws, err := bench.NewWorkspace(dir, pluginDir, port)
	if err != nil {
		return err
	}
	cl, err := c.Client()
	if err != nil {
		return err
	}
	defer cl.Close()
	rs, err := bench.RunTopics(ctx, bench.TopicsOptions{
		Bootstrap: c.Bootstrap(), Client: cl, Sizes: ns, Workspace: ws, Parallel: parallel, Progress: progress,
	})
	label := fmt.Sprintf("3-node localkafka, prod spec: %d controllers+brokers, min.insync.replicas %d, heap %s",
		prod.Brokers, prod.Broker.MinInsyncReplicas, prod.Broker.HeapOpts)
	bench.PrintTopics(os.Stdout, label, rs)
	return err
}

// kafkaDefaults is the prod spec with the broker settings Kafka uses when
// server.properties leaves them out, and kafka-server-start.sh's heap. The
// nodes, quorum and cluster id stay the prod ones.
func kafkaDefaults(prod *config.Spec) *config.Spec {
	d := *prod
	d.Stack = "kafka-defaults"
	d.Broker = config.BrokerSpec{
		MinInsyncReplicas:        1,
		DefaultReplicationFactor: 1,
		NumPartitions:            1,
		RetentionHours:           168,
		RetentionBytes:           -1,
		CompressionType:          "producer",
		AutoCreateTopics:         true,
		HeapOpts:                 kafkaDefaultHeap,
	}
	return &d
}

// printDifferences lists the server.properties keys whose values differ
// between the two specs (rendered by the same builder on the same network),
// and the heap.
func printDifferences(w io.Writer, prod, defaults *config.Spec, net components.Network) {
	a := map[string]string{}
	for _, p := range components.NodeProperties(prod, net, 0) {
		a[p.Key] = p.Value
	}
	fmt.Fprintln(w, "\nWhat differs between the two clusters (node 0's server.properties; both run 3 combined nodes):")
	for _, p := range components.NodeProperties(defaults, net, 0) {
		if a[p.Key] != p.Value {
			fmt.Fprintf(w, "- %s: prod %s, defaults %s\n", p.Key, a[p.Key], p.Value)
		}
	}
	fmt.Fprintf(w, "- heap: prod %s, defaults %s\n", prod.Broker.HeapOpts, defaults.Broker.HeapOpts)
}
