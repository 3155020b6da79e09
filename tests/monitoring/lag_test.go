//go:build monitoring

package monitoring

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// liveGroup reads raw-messages next to the email-processor group and stays a
// member while it falls behind.
const liveGroup = "audit"

// lagAlert is the alert this file proves on real series.
const lagAlert = "KafkaConsumerGroupLagGrowingWithoutMembers"

// TestLagAlertFromARealExporter runs the lag exporter (cmd/kafka-lag-exporter,
// built from this tree) against a real Kafka 4.1.1 broker, scrapes it with a
// real Prometheus that loads the program's rules (monitoring.alertFor 5s, as
// a live test sets it), and checks the lag alert and the lag panel on what
// the exporter really serves: after email-processor stops (no members) and
// records keep arriving, the alert fires for it on raw-messages, and not for
// the audit group, which lags as much but still has its member.
func TestLagAlertFromARealExporter(t *testing.T) {
	promBin := tool(t, "prometheus", installPrometheus)
	goBin := tool(t, "go", "install Go (scripts/tools.sh env puts it on PATH)")
	libs, err := localkafka.FindLibs()
	require.NoError(t, err, "run scripts/tools.sh kafka")
	stack := stackSpec(t, "dev")
	spec := *stack
	spec.Monitoring.AlertFor = 5 * time.Second
	ns := spec.Namespace
	dir := t.TempDir()
	begin := time.Now()

	exporterBin := filepath.Join(dir, "kafka-lag-exporter")
	build := exec.Command(goBin, "build", "-o", exporterBin, "./cmd/kafka-lag-exporter")
	build.Dir = projectDir
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/kafka-lag-exporter:\n%s", out)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kafka, err := localkafka.Start(ctx, localkafka.Options{Spec: &spec, Dir: filepath.Join(dir, "kafka"), KafkaLibs: libs})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, kafka.Stop()) })

	exporterAddr := fmt.Sprintf("%s:%d", localkafka.Host, freePort(t))
	startExporter(t, exporterBin, filepath.Join(dir, "exporter.log"),
		"--bootstrap", strings.Join(kafka.Bootstrap(), ","), "--listen", exporterAddr, "--interval", "1s")
	prom := startPrometheus(t, promBin, dir, writeRules(t, dir, &spec), scrapeTarget{
		addr: exporterAddr,
		// What the lag exporter's PodMonitor attaches to its series.
		labels: map[string]string{"namespace": ns, "pod": "kafka-lag-exporter-0", "container": components.LagExporterContainerName},
	})
	t.Logf("kafka, lag exporter and prometheus ready in %s", time.Since(begin).Round(100*time.Millisecond))

	adm := kafka.Admin()
	created, err := adm.CreateTopic(ctx, 1, 1, nil, topic)
	require.NoError(t, err)
	require.NoError(t, created.Err, created.ErrMessage)
	require.NoError(t, kafka.WaitInSync(ctx, topic, 1))
	producer, err := kafka.Client(kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	require.NoError(t, err)
	defer producer.Close()
	produce := func(n int) {
		var batch []*kgo.Record
		for i := 0; i < n; i++ {
			batch = append(batch, &kgo.Record{Value: []byte(fmt.Sprintf(`{"n":%d}`, i))})
		}
		require.NoError(t, producer.ProduceSync(ctx, batch...).FirstErr())
	}
	produce(10)

	// Both groups read what is there and commit it; email-processor then
	// leaves (it stopped), audit stays a member without reading on.
	join := func(g string) *kgo.Client {
		c, err := kafka.Client(kgo.ConsumerGroup(g), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(), kgo.FetchMaxWait(500*time.Millisecond))
		require.NoError(t, err)
		var got int
		for got < 10 {
			pollCtx, stop := context.WithTimeout(ctx, 30*time.Second)
			fetches := c.PollFetches(pollCtx)
			stop()
			require.NoError(t, fetches.Err(), "%s consumed %d of 10", g, got)
			got += len(fetches.Records())
		}
		require.NoError(t, c.CommitUncommittedOffsets(ctx))
		return c
	}
	stopped := join(group)
	stopped.LeaveGroup()
	stopped.Close()
	live := join(liveGroup)
	defer live.Close()

	// Records keep arriving: both groups' lag grows.
	writing, stopWriting := context.WithCancel(ctx)
	defer stopWriting()
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-writing.Done():
				return
			case <-tick.C:
				batch := []*kgo.Record{{Value: []byte("more")}, {Value: []byte("more")}}
				if err := producer.ProduceSync(writing, batch...).FirstErr(); err != nil && writing.Err() == nil {
					t.Errorf("produce: %v", err)
					return
				}
			}
		}
	}()
	defer func() { stopWriting(); <-done }()

	members := prom.eventually(t, 30*time.Second, fmt.Sprintf(`%s{namespace=%q}`, components.MetricConsumerGroupMembers, ns),
		func(s []sample) bool { return len(s) == 2 })
	byGroup := map[string]float64{}
	for _, s := range members {
		byGroup[s.Metric["group"]] = s.Value
	}
	assert.Equal(t, map[string]float64{group: 0, liveGroup: 1}, byGroup, "members per group")

	var panel components.Panel
	for _, p := range components.DashboardPanels(&spec) {
		if strings.Contains(p.Expr, components.MetricConsumerGroupLag) {
			panel = p
		}
	}
	require.NotEmpty(t, panel.Expr, "the dashboard has a lag panel")
	lines := prom.eventually(t, 30*time.Second, panel.Expr, func(s []sample) bool {
		return len(s) == 2 && s[0].Value > 0 && s[1].Value > 0
	})
	for _, l := range lines {
		assert.Equal(t, topic, l.Metric["topic"], "panel %q: %v", panel.Title, l)
		t.Logf("%s: group %s topic %s lag %.0f", panel.Title, l.Metric["group"], l.Metric["topic"], l.Value)
	}

	firing := prom.eventually(t, 60*time.Second, fmt.Sprintf(`ALERTS{alertname=%q, alertstate="firing"}`, lagAlert),
		func(s []sample) bool { return len(s) > 0 })
	require.Len(t, firing, 1, "only the stopped group: %v", firing)
	assert.Equal(t, group, firing[0].Metric["group"])
	assert.Equal(t, topic, firing[0].Metric["topic"])
	assert.Equal(t, ns, firing[0].Metric["namespace"])
	assert.Equal(t, "warning", firing[0].Metric["severity"])
	// The live group lags as much and grows as fast, and never even pends.
	pending, err := prom.query(fmt.Sprintf(`ALERTS{alertname=%q, group=%q}`, lagAlert, liveGroup))
	require.NoError(t, err)
	assert.Empty(t, pending, "%s has a member", liveGroup)
	up, err := prom.query(components.MetricLagExporterUp)
	require.NoError(t, err)
	require.Len(t, up, 1)
	assert.Equal(t, 1.0, up[0].Value, "the exporter's last collection worked")
	t.Logf("alert %s firing for group %s after %s in total", lagAlert, group, time.Since(begin).Round(100*time.Millisecond))
}

// startExporter runs the lag exporter binary, logging to logPath, and stops it
// by its pid (SIGTERM, then SIGKILL) when the test ends.
func startExporter(t *testing.T, bin, logPath string, args ...string) {
	t.Helper()
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("lag exporter log:\n%s", b)
		}
	})
}
