package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// Exit codes of Main.
const (
	// ExitOK: every record acknowledged (produce), nothing lost or duplicated
	// (verify), the consumption committed (consume).
	ExitOK = 0
	// ExitFailed: records failed or pending (produce), lost or duplicated
	// (verify), an authorization error or the final commit failed (consume).
	// The JSON line is printed all the same.
	ExitFailed = 1
	// ExitUsage: bad flags, or the cluster or topic could not be used.
	ExitUsage = 2
)

// Usage is the command line help.
const Usage = `kafka-loadgen: write numbered records to Kafka and check that none is lost;
consume a topic in a consumer group

Usage:
  kafka-loadgen produce --bootstrap host:port[,...] --topic T --run-id ID
                        (--duration 60s | --count N) [--rate 1000/s]
                        [--stop-file PATH] [--report PATH] [--flush-timeout 25s]
                        [--max-in-flight 10000] [--progress 10s] [--dns-server IP:53]
                        [--pad-bytes 1024]
  kafka-loadgen verify  --bootstrap host:port[,...] --topic T --run-id ID
                        --acked-from PATH-or-JSON [--timeout 5m] [--dns-server IP:53]
  kafka-loadgen consume --bootstrap host:port[,...] --topic T --group G
                        [--duration 0] [--progress 1s] [--commit-interval 1s]
                        [--dns-server IP:53]
  kafka-loadgen stop PATH
                        create PATH: a produce run with --stop-file PATH ends (the
                        image has no shell, so a test ends a run with kubectl exec)
Every command but stop also takes --credentials DIR: a service's mounted credentials
Secret (username, password, sasl.mechanism, ca.crt), to connect SASL_SSL as it.

produce writes values "<run-id>:<seq>" (seq 0,1,2,...) round-robin over the
topic's partitions with acks=all and idempotence, retrying forever, until
--duration or --count is reached, --stop-file exists, or SIGTERM/SIGINT; then
it flushes and prints one JSON summary line to stdout (and to --report):
  {"runId","sent","acked","failed","failedErrors","pending","longestStallMs",
   "stallStartedAt","ackedSeqRanges":[[first,last],...],...}
verify reads the topic from the start to the high watermarks it finds, and
prints {"acked","found","lost","duplicated","lostSample","dupSample",...};
--acked-from is produce's summary (a file or the JSON itself).
consume joins consumer group G (classic protocol) and consumes the topic from
the group's committed offsets (from the earliest offset where it has none),
committing every --commit-interval, until --duration ends (0: until SIGTERM or
SIGINT); then it commits what it consumed, leaves the group and prints
  {"topic","group","consumed","committedOffsets":{"<partition>":offset,...},
   "lag","startedAt","durationMs","fetchErrors","error","readError"}
Every --progress it prints to stderr (lag and members are the group's, as the
brokers report them; -1 and a trailing lagError="..." when unreadable):
  kafka-loadgen: consume <s>s consumed=<n> lag=<n> members=<n>
and each distinct error it rides out once, as "kafka-loadgen: consume: <error> ...".

Exit status: 0 all acknowledged / nothing lost or duplicated / consumption
committed; 1 records failed or pending / lost or duplicated / the final commit
or an authorization error failed consume; 2 usage or setup error.
`

// Main runs the command line args (without the program name), writing the
// JSON result to stdout and progress and errors to stderr, and returns the
// exit code. Cancelling ctx (SIGTERM) stops a produce run, which then flushes
// and reports.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, Usage)
		return ExitUsage
	}
	switch args[0] {
	case "produce":
		return mainProduce(ctx, args[1:], stdout, stderr)
	case "verify":
		return mainVerify(ctx, args[1:], stdout, stderr)
	case "consume":
		return mainConsume(ctx, args[1:], stdout, stderr)
	case "stop":
		return mainStop(args[1:], stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, Usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "kafka-loadgen: unknown command %q: want produce, verify, consume or stop\n\n%s", args[0], Usage)
	return ExitUsage
}

// ConnectionFlags registers the flags that say how to reach the cluster
// (--bootstrap, --dns-server, --credentials) into c; ClientConfig.Validate
// checks them. kafka-loadgen and kafka-lag-exporter share them.
func ConnectionFlags(fs *flag.FlagSet, c *ClientConfig) {
	fs.Func("bootstrap", "seed brokers, host:port[,host:port...]", func(s string) error {
		c.Bootstrap = SplitList(s)
		return nil
	})
	fs.StringVar(&c.DNSServer, "dns-server", "", "resolve broker names through this DNS server (ip:port)")
	fs.StringVar(&c.CredentialsDir, "credentials", "", "a service's mounted credentials Secret (username, password, sasl.mechanism, ca.crt): connect SASL_SSL as it")
}

// clientFlags registers the flags both commands share.
func clientFlags(fs *flag.FlagSet, c *ClientConfig, topic, runID *string) {
	ConnectionFlags(fs, c)
	fs.StringVar(topic, "topic", "", "topic")
	fs.StringVar(runID, "run-id", "", "run id, the prefix of every record value")
}

func mainProduce(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg ProduceConfig
	var report string
	clientFlags(fs, &cfg.Client, &cfg.Topic, &cfg.RunID)
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long to produce, e.g. 60s")
	fs.Int64Var(&cfg.Count, "count", 0, "how many records to produce")
	cfg.Rate = 1000
	fs.Func("rate", "records per second, e.g. 500 or 500/s; 0 for unthrottled (default 1000/s)", func(s string) error {
		r, err := ParseRate(s)
		cfg.Rate = r
		return err
	})
	fs.StringVar(&cfg.StopFile, "stop-file", "", "stop when this file exists")
	fs.StringVar(&report, "report", "", "also write the JSON summary to this file")
	fs.DurationVar(&cfg.FlushTimeout, "flush-timeout", DefaultFlushTimeout, "how long the final flush may wait")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", DefaultMaxInFlight, "most records sent and not yet acknowledged")
	fs.IntVar(&cfg.PadBytes, "pad-bytes", 0, "add a header of this many random bytes to every record (throughput runs)")
	fs.DurationVar(&cfg.ProgressEvery, "progress", 10*time.Second, "print counts to stderr this often; 0 for never")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	cfg.Progress = stderr
	sum, err := Produce(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-loadgen produce: %v\n", err)
		return ExitUsage
	}
	line, err := json.Marshal(sum)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-loadgen produce: %v\n", err)
		return ExitUsage
	}
	fmt.Fprintf(stdout, "%s\n", line)
	if report != "" {
		if err := os.WriteFile(report, append(line, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "kafka-loadgen produce: --report: %v\n", err)
			return ExitFailed
		}
	}
	if !sum.OK() {
		return ExitFailed
	}
	return ExitOK
}

func mainVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg VerifyConfig
	var ackedFrom string
	clientFlags(fs, &cfg.Client, &cfg.Topic, &cfg.RunID)
	fs.StringVar(&ackedFrom, "acked-from", "", "produce's JSON summary: a file, or the JSON itself")
	fs.DurationVar(&cfg.Timeout, "timeout", DefaultVerifyTimeout, "how long reading the topic may take")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if ackedFrom == "" {
		fmt.Fprintln(stderr, "kafka-loadgen verify: --acked-from is empty: give produce's summary (its --report file or stdout)")
		return ExitUsage
	}
	acked, err := ParseAcked(ackedFrom, cfg.RunID)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-loadgen verify: %v\n", err)
		return ExitUsage
	}
	cfg.Acked = acked
	res, err := Verify(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-loadgen verify: %v\n", err)
		return ExitUsage
	}
	line, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", line)
	if !res.OK() {
		return ExitFailed
	}
	return ExitOK
}

func mainConsume(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg GroupConsumeConfig
	ConnectionFlags(fs, &cfg.Client)
	fs.StringVar(&cfg.Topic, "topic", "", "topic to consume")
	fs.StringVar(&cfg.Group, "group", "", "consumer group to join, e.g. email-processor")
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long to consume, e.g. 60s; 0 until SIGTERM")
	fs.DurationVar(&cfg.CommitInterval, "commit-interval", DefaultCommitInterval, "how often to commit what was consumed")
	fs.DurationVar(&cfg.ProgressEvery, "progress", DefaultConsumeProgress, "print counts and the group's lag to stderr this often; 0 for never")
	if err := parseFlags(fs, args); err != nil {
		return ExitUsage
	}
	if cfg.CommitInterval == 0 {
		fmt.Fprintln(stderr, "kafka-loadgen consume: --commit-interval = 0s: must be positive, e.g. 1s")
		return ExitUsage
	}
	cfg.Progress = stderr
	sum, err := GroupConsume(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-loadgen consume: %v\n", err)
		return ExitUsage
	}
	line, _ := json.Marshal(sum)
	fmt.Fprintf(stdout, "%s\n", line)
	if !sum.OK() {
		fmt.Fprintf(stderr, "kafka-loadgen consume: %s\n", sum.Error)
		return ExitFailed
	}
	return ExitOK
}

// parseFlags parses args and rejects leftover arguments, which are most
// often a flag given without its "--".
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q (flags are --name value)", fs.Arg(0))
		fmt.Fprintf(fs.Output(), "kafka-loadgen %s: %v\n", fs.Name(), err)
		return err
	}
	return nil
}

// ParseRate reads a rate in records per second: "500", "500/s" or "2.5/s".
func ParseRate(s string) (float64, error) {
	num := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	r, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("want records per second, e.g. 500 or 500/s")
	}
	if r < 0 {
		return 0, errors.New("must be positive, or 0 for unthrottled")
	}
	return r, nil
}

// SplitList splits a comma-separated list, dropping empty items and spaces
// (rules.SplitList).
func SplitList(s string) []string { return rules.SplitList(s) }

// mainStop creates the stop file a produce run watches (--stop-file).
func mainStop(args []string, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" {
		fmt.Fprintf(stderr, "kafka-loadgen stop: want one argument, the --stop-file PATH of the run to end (got %q)\n", args)
		return ExitUsage
	}
	if err := os.WriteFile(args[0], nil, 0o644); err != nil {
		fmt.Fprintf(stderr, "kafka-loadgen stop: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}
