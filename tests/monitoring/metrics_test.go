//go:build monitoring

package monitoring

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

const (
	// topic and group are a real producer/consumer pair of the inventory:
	// Connectors write raw-messages, the EmailProcessor reads them.
	topic = "raw-messages"
	group = "email-processor"
	// records is how many records the test produces.
	records = 400
)

// brokerMetrics are the exporter's series the alerts and dashboard read; every
// one must come out of a real broker under exactly this name.
var brokerMetrics = []string{
	components.MetricMessagesIn,
	components.MetricBytesIn,
	components.MetricBytesOut,
	components.MetricUnderReplicated,
	components.MetricUnderMinISR,
	components.MetricPartitionCount,
	components.MetricActiveController,
	components.MetricOfflinePartitions,
	components.MetricLogSize,
}

// elsewhere are the series that come from somewhere else than the broker's
// JMX agent, by where: nothing here serves them, so queries on them are empty
// locally and promtool covers the rules that read them (TestAlertRules).
var elsewhere = map[string]string{
	components.MetricVolumeUsedBytes:     "the kubelet",
	components.MetricVolumeCapacityBytes: "the kubelet",
	// The lag exporter is a pod of its own (components/lag_exporter.go).
	components.MetricConsumerGroupLag:     "the lag exporter",
	components.MetricConsumerGroupMembers: "the lag exporter",
}

// agentJar returns the JMX exporter java agent built by scripts/tools.sh.
func agentJar(t testing.TB) string {
	t.Helper()
	jar := os.Getenv("UMBRELLA_JMX_EXPORTER_JAR")
	if jar == "" {
		out, err := exec.Command(filepath.Join(projectDir, "scripts", "tools.sh"), "path", "jmx-exporter").Output()
		if err != nil {
			t.Fatalf("the JMX exporter agent is not built: run scripts/tools.sh jmx-exporter (%v)", err)
		}
		jar = strings.TrimSpace(string(out))
	}
	_, err := os.Stat(jar)
	require.NoError(t, err, "the JMX exporter agent jar: run scripts/tools.sh jmx-exporter")
	return jar
}

// comparison splits an alert expression into the series it watches and its
// threshold comparison (`sum(x) > 0` -> `sum(x)`).
var comparison = regexp.MustCompile(`^(.*?)\s*(>=|<=|==|!=|>|<)\s*-?[0-9.]+$`)

// exportedNames returns the metric names of the sample lines of an exposition
// body, with how many series each has.
func exportedNames(body string) map[string]int {
	names := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1024*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]]++
		}
	}
	return names
}

// TestMetricsFromARealBroker attaches the JMX exporter agent with the program's
// own rules to a real Kafka 4.1.1 broker (the dev stack's configuration),
// scrapes it with a real Prometheus that loads the program's alert rules, moves
// real records through raw-messages with the email-processor group, and checks
// that every series, alert and dashboard query the program ships works on what
// the broker actually exports.
func TestMetricsFromARealBroker(t *testing.T) {
	promBin := tool(t, "prometheus", installPrometheus)
	jar := agentJar(t)
	libs, err := localkafka.FindLibs()
	require.NoError(t, err, "run scripts/tools.sh kafka")
	spec := stackSpec(t, "dev")
	ns := spec.Namespace
	dir := t.TempDir()
	begin := time.Now()

	// One source of truth: the rules file is the ConfigMap's text.
	exporterRules := filepath.Join(dir, components.ExporterRules)
	require.NoError(t, os.WriteFile(exporterRules, []byte(components.ExporterRulesYAML), 0o644))
	agentAddr := fmt.Sprintf("%s:%d", localkafka.Host, freePort(t))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kafka, err := localkafka.Start(ctx, localkafka.Options{
		Spec:         spec,
		Dir:          filepath.Join(dir, "kafka"),
		KafkaLibs:    libs,
		ExtraJVMOpts: []string{fmt.Sprintf("-javaagent:%s=%s:%s", jar, agentAddr, exporterRules)},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, kafka.Stop())
		for id := 0; id < kafka.Nodes(); id++ {
			assert.False(t, kafka.Running(id), "kafka node %d still runs after Stop", id)
		}
	})
	t.Logf("kafka (1 node, JMX exporter agent on %s) ready in %s", agentAddr, time.Since(begin).Round(100*time.Millisecond))

	promStart := time.Now()
	prom := startPrometheus(t, promBin, dir, writeRules(t, dir, spec), scrapeTarget{
		addr: agentAddr,
		// What Prometheus Operator's PodMonitor attaches to a broker's series.
		labels: map[string]string{"namespace": ns, "pod": components.PodName(0), "container": components.ContainerName},
	})
	t.Logf("prometheus on %s ready in %s", prom.addr, time.Since(promStart).Round(100*time.Millisecond))
	prom.eventually(t, 30*time.Second, `up{job="kafka"}`, func(s []sample) bool { return len(s) == 1 && s[0].Value == 1 })

	t.Run("records through raw-messages and consumer lag of email-processor", func(t *testing.T) {
		// Two rounds with a scrape between them: a per-topic counter is born with
		// the first round's count, so only the second round shows up in rate().
		counter := fmt.Sprintf(`%s{namespace=%q, topic=%q}`, components.MetricMessagesIn, ns, topic)
		moveRecords(t, ctx, kafka, spec, func() {
			prom.eventually(t, 30*time.Second, counter, func(s []sample) bool { return len(s) == 1 && s[0].Value == records/2 })
		})
	})

	t.Run("exporter metric names", func(t *testing.T) {
		body, err := fetch(ctx, "http://"+agentAddr+"/metrics")
		require.NoError(t, err)
		names := exportedNames(body)
		var kafkaNames []string
		for n, count := range names {
			if strings.HasPrefix(n, "kafka_") {
				kafkaNames = append(kafkaNames, fmt.Sprintf("%s (%d)", n, count))
			}
		}
		sort.Strings(kafkaNames)
		t.Logf("the exporter's kafka_* metrics (series):\n  %s", strings.Join(kafkaNames, "\n  "))
		for _, m := range brokerMetrics {
			assert.Positive(t, names[m], "the exporter rules do not produce %s", m)
		}
	})

	t.Run("broker series in prometheus", func(t *testing.T) {
		sel := func(metric, extra string) string {
			if extra != "" {
				extra = ", " + extra
			}
			return fmt.Sprintf(`%s{namespace=%q%s}`, metric, ns, extra)
		}
		one := func(want float64) func([]sample) bool {
			return func(s []sample) bool { return len(s) == 1 && s[0].Value == want }
		}
		// Every record the test produced, counted by the broker.
		prom.eventually(t, 30*time.Second, sel(components.MetricMessagesIn, `topic="raw-messages"`), one(records))
		rate := prom.eventually(t, 30*time.Second, fmt.Sprintf(`rate(%s[1m])`, sel(components.MetricMessagesIn, `topic="raw-messages"`)),
			func(s []sample) bool { return len(s) == 1 && s[0].Value > 0 })
		t.Logf("messages-in rate of raw-messages: %.2f/s", rate[0].Value)
		// Every BrokerTopicMetrics series is per topic: a broker-wide series under
		// the same name would make every sum() over the metric count traffic twice.
		for _, m := range []string{components.MetricMessagesIn, components.MetricBytesIn, components.MetricBytesOut} {
			got, err := prom.query(sel(m, `topic=""`))
			require.NoError(t, err)
			assert.Empty(t, got, "%s has a series without a topic label", m)
			prom.eventually(t, 30*time.Second, sel(m, `topic="raw-messages"`), func(s []sample) bool { return len(s) == 1 && s[0].Value > 0 })
		}
		size := prom.eventually(t, 30*time.Second, sel(components.MetricLogSize, `topic="raw-messages"`),
			func(s []sample) bool { return len(s) == topicPartitions(t, spec) && s[0].Value > 0 })
		for _, s := range size {
			t.Logf("log size of raw-messages partition %s: %.0f bytes", s.Metric["partition"], s.Value)
		}
		prom.eventually(t, 30*time.Second, sel(components.MetricUnderReplicated, ""), one(0))
		prom.eventually(t, 30*time.Second, sel(components.MetricUnderMinISR, ""), one(0))
		prom.eventually(t, 30*time.Second, sel(components.MetricActiveController, ""), one(1))
		prom.eventually(t, 30*time.Second, sel(components.MetricOfflinePartitions, ""), one(0))
	})

	t.Run("alert rules evaluate on the broker's series", func(t *testing.T) {
		alerts := components.Alerts(spec)
		// Prometheus evaluated every rule without error (health ok), and none fires
		// on a healthy broker.
		deadline := time.Now().Add(30 * time.Second)
		var loaded []ruleState
		for {
			groups, err := prom.rules()
			require.NoError(t, err)
			loaded = groups["umbrella-streaming.kafka"]
			evaluated := len(loaded) == len(alerts)
			for _, r := range loaded {
				evaluated = evaluated && r.Health != "unknown"
			}
			if evaluated || time.Now().After(deadline) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		require.Len(t, loaded, len(alerts), "rules prometheus loaded: %+v", loaded)
		for i, a := range alerts {
			assert.Equal(t, a.Name, loaded[i].Name)
			assert.Equal(t, "ok", loaded[i].Health, "%s: %s", a.Name, loaded[i].LastError)
			assert.Equal(t, "inactive", loaded[i].State, "%s fires on a healthy broker", a.Name)
		}
		for _, a := range alerts {
			got, err := prom.query(a.Expr)
			require.NoError(t, err, a.Name)
			assert.Empty(t, got, "%s: %s is true on a healthy broker", a.Name, a.Expr)

			m := comparison.FindStringSubmatch(a.Expr)
			require.NotNil(t, m, "%s: %s is not `<series> <op> <number>`", a.Name, a.Expr)
			watched, err := prom.query(m[1])
			require.NoError(t, err, a.Name)
			if from := servedBy(a.Expr); from != "" {
				// kubelet_volume_stats_* come from the kubelet's volume stats,
				// umbrella_consumergroup_* from the lag exporter; neither runs
				// here, so those alerts' series are absent locally.
				assert.Empty(t, watched, "%s: %s", a.Name, m[1])
				t.Logf("%-32s %s -> no data locally (served by %s)", a.Name, m[1], from)
				continue
			}
			if assert.Len(t, watched, 1, "%s: %s returns no data from the broker", a.Name, m[1]) {
				t.Logf("%-32s %s -> %v", a.Name, m[1], watched[0].Value)
			}
		}
	})

	t.Run("dashboard panel queries", func(t *testing.T) {
		for _, p := range components.DashboardPanels(spec) {
			if from := servedBy(p.Expr); from != "" {
				t.Logf("%-36s no data locally (served by %s)", p.Title, from)
				continue
			}
			// rate() needs two samples of a series, and a per-topic series is
			// born at the first scrape after the topic's first traffic.
			got := prom.eventually(t, 30*time.Second, p.Expr, func(s []sample) bool { return len(s) > 0 })
			if strings.Contains(p.Expr, "by (topic)") {
				for _, s := range got {
					assert.NotEmpty(t, s.Metric["topic"], "panel %q: a line without a topic: %v", p.Title, s)
				}
			}
			if assert.NotEmpty(t, got, "panel %q: %s returns no data", p.Title, p.Expr) {
				var vals []string
				for _, s := range got {
					vals = append(vals, fmt.Sprintf("%v=%.4g", s.Metric, s.Value))
				}
				t.Logf("%-36s %s", p.Title, strings.Join(vals, " "))
			}
		}
	})
	t.Run("every scrape succeeded", func(t *testing.T) {
		// includeObjectNames keeps a scrape far below the 2 s timeout; reading
		// every MBean of the JVM did not (~1 s, some timeouts).
		failed := prom.eventually(t, 5*time.Second, `count_over_time(up{job="kafka"}[10m]) - sum_over_time(up{job="kafka"}[10m])`,
			func(s []sample) bool { return len(s) == 1 })
		assert.Zero(t, failed[0].Value, "failed scrapes of the exporter")
		median := prom.eventually(t, 5*time.Second, `quantile_over_time(0.5, scrape_duration_seconds{job="kafka"}[10m])`,
			func(s []sample) bool { return len(s) == 1 })
		slowest := prom.eventually(t, 5*time.Second, `max_over_time(scrape_duration_seconds{job="kafka"}[10m])`,
			func(s []sample) bool { return len(s) == 1 })
		t.Logf("scrapes of the exporter: median %.3fs, slowest %.3fs", median[0].Value, slowest[0].Value)
	})
	t.Logf("total %s", time.Since(begin).Round(100*time.Millisecond))
}

// servedBy returns who serves the series an expression reads when that is not
// the broker's JMX agent (see elsewhere), or "".
func servedBy(expr string) string {
	for m, from := range elsewhere {
		if strings.Contains(expr, m) {
			return from
		}
	}
	return ""
}

// topicSpec returns the stack's raw-messages topic.
func topicSpec(t testing.TB, spec *config.Spec) config.TopicSpec {
	t.Helper()
	for _, tp := range spec.Topics {
		if tp.Name == topic {
			return tp
		}
	}
	t.Fatalf("stack %s has no topic %s", spec.Stack, topic)
	return config.TopicSpec{}
}

func topicPartitions(t testing.TB, spec *config.Spec) int { return topicSpec(t, spec).Partitions }

// moveRecords creates raw-messages as the stack defines it, produces records
// in two rounds (calling betweenRounds after the first), commits half of them for email-processor (lag = the other half), consumes the
// rest as that group and checks the lag is zero.
func moveRecords(t *testing.T, ctx context.Context, kafka *localkafka.Cluster, spec *config.Spec, betweenRounds func()) {
	tp := topicSpec(t, spec)
	require.Equal(t, 1, tp.Partitions, "the lag arithmetic below assumes one partition (dev)")
	adm := kafka.Admin()
	cfg := map[string]*string{}
	for k, v := range tp.Config {
		cfg[k] = &v
	}
	created, err := adm.CreateTopic(ctx, int32(tp.Partitions), int16(tp.ReplicationFactor), cfg, topic)
	require.NoError(t, err)
	require.NoError(t, created.Err, created.ErrMessage)
	require.NoError(t, kafka.WaitInSync(ctx, topic, tp.ReplicationFactor))

	producer, err := kafka.Client(kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	require.NoError(t, err)
	var batch []*kgo.Record
	for i := 0; i < records; i++ {
		batch = append(batch, &kgo.Record{
			Key:   []byte(fmt.Sprintf("raw_message_id-%03d", i)),
			Value: []byte(fmt.Sprintf(`{"raw_message_id":"%03d","body":"message %d"}`, i, i)),
		})
	}
	require.NoError(t, producer.ProduceSync(ctx, batch[:records/2]...).FirstErr())
	betweenRounds()
	require.NoError(t, producer.ProduceSync(ctx, batch[records/2:]...).FirstErr())
	producer.Close()

	// The group has read the first half.
	half := int64(records / 2)
	offsets := kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: topic, Partition: 0, At: half, LeaderEpoch: -1})
	committed, err := adm.CommitOffsets(ctx, group, offsets)
	require.NoError(t, err)
	require.NoError(t, committed.Error())
	lag := groupLag(t, ctx, adm)
	assert.Equal(t, records-half, lag.Total(), "lag after committing %d of %d", half, records)

	// The EmailProcessor consumes the rest and commits.
	consumer, err := kafka.Client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(500*time.Millisecond))
	require.NoError(t, err)
	defer consumer.Close()
	var got []*kgo.Record
	for int64(len(got)) < records-half {
		pollCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		fetches := consumer.PollFetches(pollCtx)
		cancel()
		require.NoError(t, fetches.Err(), "consumed %d of %d", len(got), records-half)
		got = append(got, fetches.Records()...)
	}
	require.Len(t, got, int(records-half))
	assert.Equal(t, half, got[0].Offset, "the group resumed at its committed offset")
	assert.Equal(t, fmt.Sprintf("raw_message_id-%03d", records-1), string(got[len(got)-1].Key))
	require.NoError(t, consumer.CommitUncommittedOffsets(ctx))
	consumer.LeaveGroup()

	lag = groupLag(t, ctx, adm)
	assert.Equal(t, int64(0), lag.Total(), "lag after consuming everything")
	m, ok := lag.Lookup(topic, 0)
	require.True(t, ok)
	assert.Equal(t, int64(records), m.End.Offset, "end offset")
	assert.Equal(t, int64(records), m.Commit.At, "committed offset")

	// The same answer from the two requests underneath: the group's committed
	// offsets and the topic's end offsets.
	fetched, err := adm.FetchOffsets(ctx, group)
	require.NoError(t, err)
	require.NoError(t, fetched.Error())
	ends, err := adm.ListEndOffsets(ctx, topic)
	require.NoError(t, err)
	require.NoError(t, ends.Error())
	// Both must be found: two missing answers would compare equal (0 == 0).
	c, ok := fetched.Lookup(topic, 0)
	require.True(t, ok, "group %s has no committed offset for %s[0]", group, topic)
	e, ok := ends.Lookup(topic, 0)
	require.True(t, ok, "no end offset for %s[0]", topic)
	assert.Equal(t, int64(records), e.Offset, "end offset")
	assert.Equal(t, e.Offset, c.At, "committed == end offset")
	t.Logf("group %s on %s: committed %d, end offset %d, lag %d", group, topic, c.At, e.Offset, lag.Total())
}

// groupLag returns email-processor's lag, failing on any error.
func groupLag(t testing.TB, ctx context.Context, adm *kadm.Client) kadm.GroupLag {
	t.Helper()
	lags, err := adm.Lag(ctx, group)
	require.NoError(t, err)
	require.NoError(t, lags.Error())
	l, ok := lags[group]
	require.True(t, ok, "no lag for group %s", group)
	for _, ml := range l.Lag.Sorted() {
		require.NoError(t, ml.Err, "%s/%d", ml.Topic, ml.Partition)
	}
	return l.Lag
}
