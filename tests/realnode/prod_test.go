//go:build realnode

package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// prodOverrides change only what three JVMs on one small machine need (heap and
// requests) and how the deploy machine reaches the brokers; the topology, probes,
// security context, policy and disruption budget stay as Pulumi.prod.yaml ships them.
func prodOverrides() map[string]string {
	o := devOverrides()
	o["resources"] = `{"requests":{"cpu":"200m","memory":"1Gi"},"limits":{"cpu":"2","memory":"2Gi"}}`
	o["broker"] = `{"minInsyncReplicas":2,"defaultReplicationFactor":3,"retentionHours":168,"retentionBytes":-1,"compressionType":"producer","heapOpts":"-Xms512m -Xmx768m"}`
	o["topics"] = `{"manager":"provider","access":"kubernetes","protect":true,"allowReplace":false}`
	o["monitoring"] = monitoringOverrides()
	return o
}

// rolledOverrides are prodOverrides with the retention change the roll subtest
// deploys; the subtests after it start from there.
func rolledOverrides() map[string]string {
	o := prodOverrides()
	o["security"] = `{"mode":"sasl-scram","certificateRotation":1}`
	o["broker"] = strings.Replace(o["broker"], `"retentionHours":168`, `"retentionHours":120`, 1)
	for key, v := range releaseOverrides {
		o[key] = v
	}
	return o
}

// releaseOverrides are the Kafka release the upgrade story leaves the stack
// on (kafka and image), for the stories after it; empty before it.
var releaseOverrides = map[string]string{}

// The prod stack on three real nodes: quorum, topics, then a broker lost and the
// controller leader killed while a producer (acks=all, idempotent) runs in a client
// pod; every acknowledged record is read back exactly once.
func TestProdStackOnThreeRealNodes(t *testing.T) {
	if nodes < 3 {
		t.Skip("needs 3 real nodes (UMBRELLA_REALNODE_NODES=3)")
	}
	ctx := harness.Context(t, 55*time.Minute)
	stateDir := t.TempDir()
	k := kafkaStack{secure: true} // Pulumi.prod.yaml: security.mode sasl-scram
	// The topics are protected (Pulumi.prod.yaml), so the stack is not destroyed:
	// its namespaces go when the test ends, pass or fail.
	ownNamespaces(t, append(serviceNamespaces(), clientNS)...)
	createServiceNamespaces(t)
	st := openStack(t, ctx, "prod", stateDir, prodOverrides())
	start := time.Now()
	_, err := st.Up(ctx)
	require.NoError(t, err, "up of the prod stack on three real nodes")
	t.Logf("FIGURE prod up -> three brokers Ready and topics created: %.1fs", time.Since(start).Seconds())

	t.Run("three pods on three nodes, three voters and a leader, every topic RF 3 ISR 3 min ISR 2", func(t *testing.T) {
		seen := map[string]bool{}
		for i := 0; i < 3; i++ {
			pod := components.PodName(i)
			require.True(t, podReady(ns, pod), pod)
			node, err := kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.spec.nodeName}")
			require.NoError(t, err)
			seen[node] = true
		}
		assert.Len(t, seen, 3, "spread: required puts each broker on its own node")
		quorum := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status")
		assert.Regexp(t, `(?m)^LeaderId:\s+[012]$`, quorum)
		assert.Len(t, regexp.MustCompile(`"id":\s*\d`).FindAllString(lineOf(quorum, "CurrentVoters:"), -1), 3, quorum)
		desc := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe --exclude-internal")
		for _, topic := range config.Inventory {
			assert.Regexp(t, fmt.Sprintf(`(?m)^Topic:\s+%s\s.*ReplicationFactor:\s+3\s.*min.insync.replicas=2`, regexp.QuoteMeta(topic.Name)), desc)
		}
		// Every partition line is checked, and there is one per partition the
		// topic lines announce (issue 24 item 3: a regex that matched nothing
		// passed this loop).
		announced := 0
		for _, m := range regexp.MustCompile(`(?m)^Topic:\s+\S+\s+TopicId:\s+\S+\s+PartitionCount:\s+(\d+)`).FindAllStringSubmatch(desc, -1) {
			n, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			announced += n
		}
		require.GreaterOrEqual(t, announced, len(config.Inventory), "partitions announced:\n%s", desc)
		lines := regexp.MustCompile(`(?m)^\s+Topic: \S+\s+Partition: \d+\s+Leader: \d+\s+Replicas: (\S+)\s+Isr: (\S+)`).FindAllStringSubmatch(desc, -1)
		require.Len(t, lines, announced, "one line per partition:\n%s", desc)
		for _, m := range lines {
			assert.Len(t, strings.Split(m[2], ","), 3, "ISR of %s", m[0])
		}
	})

	// Checks that change nothing and mostly wait (on pods starting, scrapes, an alert's `for`)
	// run side by side.
	spec := stackSpec(t, "prod", prodOverrides())
	t.Run("read-only checks, side by side", func(t *testing.T) {
		t.Run("the NetworkPolicy measured with packets in secure mode equals the expected table: brokers reach each other on 9093 and 9094", func(t *testing.T) {
			t.Parallel()
			t.Log("\n" + assertPolicyTable(t, k, 3))
		})
		t.Run("the platform Prometheus scrapes every broker through the shipped PodMonitor and loads the shipped rules; the kubelets' volume stats fire the lowered disk-fill alert", func(t *testing.T) {
			t.Parallel()
			assertPrometheusFindsTheBrokers(t, spec, 3)
			assertDiskFillFires(t, 3)
		})
		t.Run("a Prometheus in an unlabelled namespace cannot scrape the brokers' metrics port", func(t *testing.T) {
			t.Parallel()
			assertOtherNamespacePrometheusRefused(t, 3)
		})
		t.Run("authenticated and encrypted: each service's credentials from its Secret, least privilege, no plaintext", func(t *testing.T) {
			t.Parallel()
			securedListeners(t, k)
		})
	})

	t.Run("a broker pod force-deleted under load: 0 acknowledged records lost or duplicated", func(t *testing.T) {
		run := startProducer(t, k, "broker-loss", 60*time.Second)
		acked := run.waitAcked(t, faultAfterAcked)
		_, err := kubectl("-n", ns, "delete", "pod", "kafka-1", "--grace-period=0", "--force")
		require.NoError(t, err)
		lostAt := time.Now()
		waitFor(t, 4*time.Minute, "kafka-1 back and Ready", func() bool { return podReady(ns, "kafka-1") })
		waitFor(t, 3*time.Minute, "ISR back to 3 everywhere", func() bool {
			out, err := k.execErr("kafka-0", "/opt/kafka/bin/kafka-topics.sh "+plainToolBootstrap+" --describe --under-replicated-partitions")
			return err == nil && strings.TrimSpace(out) == ""
		})
		t.Logf("FIGURE broker kafka-1 force-deleted (%d records acknowledged before): back Ready with ISR 3 after %.1fs", acked, time.Since(lostAt).Seconds())
		s := run.wait(t)
		verifyProduced(t, k, run, s)
	})

	t.Run("the controller leader's JVM killed: a new leader, produce goes on, the controller-count alert stays quiet", func(t *testing.T) {
		quietFrom := time.Now()
		leader := quorumLeader(t, k, "kafka-0")
		run := startProducer(t, k, "leader-kill", 45*time.Second)
		acked := run.waitAcked(t, faultAfterAcked)
		killJVM(t, components.PodName(leader))
		killedAt := time.Now()
		var newLeader int
		waitFor(t, 2*time.Minute, "a new controller leader", func() bool {
			for i := 0; i < 3; i++ {
				if i == leader {
					continue
				}
				out, err := k.execErr(components.PodName(i), "/opt/kafka/bin/kafka-metadata-quorum.sh "+plainToolBootstrap+" describe --status")
				if err != nil {
					continue
				}
				if m := regexp.MustCompile(`(?m)^LeaderId:\s+(\d+)$`).FindStringSubmatch(out); m != nil {
					newLeader, _ = strconv.Atoi(m[1])
					return newLeader != leader
				}
			}
			return false
		})
		t.Logf("FIGURE controller leader %d killed (%d records acknowledged before): leader %d after %.1fs", leader, acked, newLeader, time.Since(killedAt).Seconds())
		s := run.wait(t)
		verifyProduced(t, k, run, s)
		waitFor(t, 4*time.Minute, "the killed broker Ready again", func() bool { return podReady(ns, components.PodName(leader)) })
		assertAlertQuietSince(t, "KafkaActiveControllerCount", quietFrom)
	})

	// The two alert stories run one after the other: side by side, in a cold CI of 2026-12-07, the
	// lag alert never went pending while kafka-2 was away (side by side warm, it did; the cause is
	// not found yet, so they are not taken as independent).
	t.Run("a node drained under load: the disruption budget refuses a second eviction, and the under-replicated and under-min-ISR alerts go pending, fire, and resolve once the broker is back", func(t *testing.T) {
		brokerAwayRaisesAlerts(t, k)
	})

	t.Run("consumer lag from the brokers' side: email-processor stopped under load fires the lag alert, restarted it drains to 0 and the alert resolves", func(t *testing.T) {
		lagAlertStory(t, k)
	})

	t.Run("every panel of the shipped dashboard answers from the platform Prometheus", func(t *testing.T) {
		assertDashboardAnswers(t, spec)
	})

	t.Run("a retention change and a certificate rotation roll the brokers one at a time under load", func(t *testing.T) {
		before := servedSerials(t, 3)
		changed := openStack(t, ctx, "prod", stateDir, rolledOverrides())
		run := startProducer(t, k, "roll", 130*time.Second)
		acked := run.waitAcked(t, faultAfterAcked)
		_, f := watchedUp(t, ctx, changed, "retention and certificates")
		t.Logf("FIGURE up (started with %d records acknowledged) returned after %.1fs; the roll finished after %.1fs", acked, f.upTook.Seconds(), f.roll.Seconds())
		s := run.wait(t)
		v := verifyProduced(t, k, run, s)
		t.Logf("FIGURE roll of three brokers: %.1fs, longest broker restart %.1fs, longest stretch with partitions under min ISR %.1fs, longest produce stall %d ms",
			f.roll.Seconds(), f.longestRestart.Seconds(), f.res.longestUnderMinISR.Seconds(), s.LongestStallMs)
		out := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-configs.sh --bootstrap-server localhost:9092 --describe --entity-type brokers --entity-name 0 --all")
		assert.Regexp(t, `(?m)^\s*log.retention.hours=120\s`, out)
		after := servedSerials(t, 3)
		for pod, serial := range after {
			assert.NotEqual(t, before[pod], serial, "%s serves the re-issued certificate", pod)
		}
		t.Logf("FIGURE certificate rotation under load: serials %v -> %v, longest produce stall %d ms; acknowledged %d, read back %d, lost %d, duplicated %d",
			before, after, s.LongestStallMs, v.Acked, v.ReadBack(), v.Lost, v.Duplicated)
	})

	// Right after the certificate roll, where the stack is at rolledOverrides. The stories
	// after it run the newest release (releaseOverrides); brokers 3 -> 5 -> 3 then checks that
	// the removed brokers are unregistered (this story found that they stayed registered and
	// held metadata.version at their release; see README).
	t.Run("Kafka 4.1.1 -> 4.1.2 -> 4.4.0 and back and forth by stack config under load, then metadata.version in an up of its own; the unsafe changes refused at preview", func(t *testing.T) {
		kafkaUpgradeStory(t, ctx, k, stateDir)
	})

	t.Run("a pod delete is a controlled shutdown: leadership leaves the broker before its process exits, and the restart recovers no log", func(t *testing.T) {
		controlledShutdown(t, ctx)
	})

	t.Run("brokers 3 -> 5 -> 3 under load: the data follows (balance after the pods come, drain before they go)", func(t *testing.T) {
		brokersFiveAndBack(t, ctx, k, stateDir)
	})

	t.Run("controllers 3 -> 1 -> 3 under load: voters leave before the roll and join after it", func(t *testing.T) {
		controllersOneAndBack(t, ctx, k, stateDir)
	})

	// A benchmark, not a check: it writes gigabytes as fast as the brokers take them (and on a
	// full disk the kubelet evicted its second producer). scripts/bench-throughput.sh sets the
	// variable; .ci/run drops every UMBRELLA_* variable, so CI never registers it.
	if os.Getenv("UMBRELLA_BENCH_THROUGHPUT") == "1" {
		t.Run("produce throughput through the client Service: prod settings vs Kafka defaults", func(t *testing.T) {
			throughput(t, k, 20*time.Second)
		})
	}
}

// faultAfterAcked is how many records a producer must have acknowledged
// before a test injects its fault (issue 24 item 4: a fixed sleep let the
// fault land before any record was): 10 s of the 300/s load.
const faultAfterAcked = 3000

// serviceNamespaces are the namespaces the prod stack writes credentials
// Secrets into (the stack's own among them).
func serviceNamespaces() []string {
	var out []string
	for _, s := range config.Services {
		if !slices.Contains(out, s.Namespace) {
			out = append(out, s.Namespace)
		}
	}
	return out
}

// rollFigures is what one watched roll measured.
type rollFigures struct {
	upTook, roll, longestRestart time.Duration
	res                          rollResult
	// gates are the pre-stop hook's lines, per pod: how long each stop
	// waited for every partition to be in sync.
	gates []string
}

// watchedUp runs an up whose change rolls the three brokers, watching the
// roll, and returns once every broker restarted and serves again. It checks
// what every roll must keep: one broker away at a time (the next is deleted
// only once the last serves again), and partitions under min ISR no longer
// than one broker's restart.
func watchedUp(t *testing.T, ctx context.Context, st *deploy.Stack, what string) (auto.UpResult, rollFigures) {
	t.Helper()
	w := watchRoll(t, ctx)
	// Each broker's log up to its stop, for the pre-stop hook's line.
	logs := map[string]*logStream{}
	for i := 0; i < 3; i++ {
		logs[components.PodName(i)] = followLogs(t, ctx, components.PodName(i))
	}
	rollStart := time.Now()
	up, err := st.Up(ctx)
	require.NoError(t, err, "up: %s", what)
	f := rollFigures{upTook: time.Since(rollStart)}
	// pulumi-kubernetes 4.25 reported the StatefulSet updated 0.4 s into the roll,
	// before the controller had even observed the new spec (seen here): wait for the
	// rollout the way kubectl does (observedGeneration, then revisions and replicas).
	_, err = kubectl("-n", ns, "rollout", "status", "statefulset/"+components.StatefulSetName, "--timeout=10m")
	require.NoError(t, err, "%s: rollout status", what)
	f.roll = time.Since(rollStart)
	waitFor(t, time.Minute, what+": the watch to see the last broker serve", func() bool { return w.count() == 3 })
	f.res = w.stop()
	res := f.res
	require.Len(t, res.replaced, 3, "%s: every broker restarted once: %v", what, res.replaced)
	for i := 1; i < len(res.replaced); i++ {
		prev, next := res.replaced[i-1], res.replaced[i]
		assert.False(t, next.gone.Before(prev.ready), "%s: %s was deleted (%s) before %s served again (%s)", what, next.pod, next.gone, prev.pod, prev.ready)
	}
	// The min-ISR figure rests on the brokers' own gauges: every broker must
	// have answered (issue 24 item 3: an agent never reached counted as 0).
	for i := 0; i < 3; i++ {
		pod := components.PodName(i)
		require.Positive(t, res.scraped[pod], "%s: %s's JMX agent answered the watch (missed %d while Ready)", what, pod, res.missed[pod])
	}
	require.Positive(t, res.completeRounds, "%s: rounds in which every Ready broker answered", what)
	for _, r := range res.replaced {
		f.longestRestart = max(f.longestRestart, r.ready.Sub(r.gone))
	}
	assert.LessOrEqual(t, res.longestUnderMinISR, f.longestRestart, "%s: below min ISR no longer than one broker restart", what)
	// The gate: each broker stopped only once every partition was in sync
	// (components.PreStopScriptText), so the roll never took a second replica
	// of a partition away.
	for pod, l := range logs {
		line := lineOf(l.wait(time.Minute), "[pre-stop] ")
		assert.Regexp(t, `^\[pre-stop\] every partition in sync after \d+ s: stopping$`, line, "%s: %s stopped once every partition was in sync", what, pod)
		f.gates = append(f.gates, pod+": "+strings.TrimPrefix(line, "[pre-stop] "))
	}
	slices.Sort(f.gates)
	t.Logf("FIGURE %s, roll watch: %d rounds (%d with every Ready broker answering), scrapes answered %v, missed while Ready %v, a stretch under min ISR still open at the end: %v; pre-stop gates: %s",
		what, res.rounds, res.completeRounds, res.scraped, res.missed, res.openAtStop, strings.Join(f.gates, "; "))
	return up, f
}

// rollWatch follows the broker pods while a roll runs: when each one went away and
// when its replacement was Ready, and how long partitions stayed below min ISR
// (the brokers' own UnderMinIsrPartitionCount, read from their JMX agents).
type rollWatch struct {
	mu       sync.Mutex
	res      rollResult
	pending  map[string]*podRestart
	uids     map[string]string
	under    time.Time // since when partitions are under min ISR; zero if not
	sampling *sampler
}

// rollResult is what a roll watch saw.
type rollResult struct {
	replaced           []podRestart
	longestUnderMinISR time.Duration
	// openAtStop: partitions were still under min ISR when the watch stopped
	// (that stretch is counted up to then).
	openAtStop bool
	// rounds the API answered in; completeRounds those in which every Ready
	// broker's agent answered too.
	rounds, completeRounds int
	// scraped and missed count, per pod, the agent's answers and its failures
	// to answer while the pod was Ready.
	scraped, missed map[string]int
}

type podRestart struct {
	pod         string
	gone, ready time.Time
}

// watchRoll starts the watch; it ends with stop, with ctx, or when the test
// ends, whichever comes first (issue 24 item 5).
func watchRoll(t *testing.T, ctx context.Context) *rollWatch {
	t.Helper()
	w := &rollWatch{pending: map[string]*podRestart{}, uids: map[string]string{},
		res: rollResult{scraped: map[string]int{}, missed: map[string]int{}}}
	for i := 0; i < 3; i++ {
		uid, err := kubectl("-n", ns, "get", "pod", components.PodName(i), "-o", "jsonpath={.metadata.uid}")
		require.NoError(t, err)
		require.NotEmpty(t, uid)
		w.uids[components.PodName(i)] = uid
	}
	w.sampling = startSampler(t, ctx, 300*time.Millisecond, w.round)
	return w
}

// round is one look at the pods and their gauges.
func (w *rollWatch) round(now time.Time) {
	pods, err := brokerPods()
	if err != nil {
		return // the API did not answer: no news, not a deletion
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.res.rounds++
	for i := 0; i < 3; i++ {
		pod := components.PodName(i)
		p, ok := pods[pod]
		changed := !ok || p.uid != w.uids[pod] || p.deleting
		if r := w.pending[pod]; r == nil && changed && w.uids[pod] != "" {
			w.pending[pod] = &podRestart{pod: pod, gone: now}
		}
		if r := w.pending[pod]; r != nil && ok && p.uid != w.uids[pod] && p.ready {
			r.ready = now
			w.res.replaced = append(w.res.replaced, *r)
			delete(w.pending, pod)
			w.uids[pod] = ""
		}
	}
	under, complete := 0, true
	for name, p := range pods {
		if p.ip == "" {
			continue
		}
		v, err := metricValue(p.ip, components.MetricUnderMinISR)
		if err != nil {
			if p.ready {
				w.res.missed[name]++
				complete = false
			}
			continue
		}
		w.res.scraped[name]++
		under += v
	}
	if complete {
		w.res.completeRounds++
	}
	switch {
	case under > 0 && w.under.IsZero():
		w.under = now
	case under == 0 && complete && !w.under.IsZero():
		// Only a round in which every Ready broker answered may close a stretch.
		w.res.longestUnderMinISR = max(w.res.longestUnderMinISR, now.Sub(w.under))
		w.under = time.Time{}
	}
}

func (w *rollWatch) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.res.replaced)
}

// stop ends the watch and returns what it saw; a stretch under min ISR still
// open counts up to now (issue 24 item 3: it was dropped).
func (w *rollWatch) stop() rollResult {
	w.sampling.stop()
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.under.IsZero() {
		w.res.longestUnderMinISR = max(w.res.longestUnderMinISR, now.Sub(w.under))
		w.res.openAtStop = true
	}
	return w.res
}

// brokerPod is what the roll watch needs of a broker pod.
type brokerPod struct {
	uid, ip         string
	deleting, ready bool
}

// brokerPods reads every broker pod in one API call (name -> state).
func brokerPods() (map[string]brokerPod, error) {
	out, err := kubectl("-n", ns, "get", "pods", "-l", components.LabelName+"="+components.AppName, "-o", "json")
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name, UID         string
				DeletionTimestamp *string
			}
			Status struct {
				PodIP      string
				Conditions []struct{ Type, Status string }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, err
	}
	pods := map[string]brokerPod{}
	for _, it := range list.Items {
		p := brokerPod{uid: it.Metadata.UID, ip: it.Status.PodIP, deleting: it.Metadata.DeletionTimestamp != nil}
		for _, c := range it.Status.Conditions {
			p.ready = p.ready || (c.Type == "Ready" && c.Status == "True")
		}
		pods[it.Metadata.Name] = p
	}
	return pods, nil
}

// producerRun is a kafka-loadgen produce pod.
type producerRun struct {
	name, runID, topic string
	// client is who produces: the connectors, which own raw-messages.
	client loadgenClient
	// reader is who reads the topic back: the email processor, which reads
	// raw-messages (the connectors may not).
	reader loadgenClient
}

const loadTopic = "raw-messages"

func loadgenImage() string {
	out, err := exec.Command("bash", filepath.Join(repoRoot, "scripts/images.sh"), "ref", "kafka-loadgen", registry).Output()
	if err != nil {
		panic(fmt.Sprintf("scripts/images.sh ref kafka-loadgen: %v", err))
	}
	return strings.TrimSpace(string(out))
}

// startProducer starts a producer pod writing raw-messages at 300/s for d.
func startProducer(t *testing.T, k kafkaStack, name string, d time.Duration) producerRun {
	t.Helper()
	return startProducerTo(t, k, name, loadTopic, d, "--rate", "300/s")
}

// startProducerTo starts a producer pod as the connectors writing topic for d
// (extra: more loadgen flags). It prints its counts every second, so a test
// can wait for acknowledgements (waitAcked), and the pod is deleted when the
// test ends, so a test that fails early leaves no producer behind (issue 24
// item 5).
func startProducerTo(t *testing.T, k kafkaStack, name, topic string, d time.Duration, extra ...string) producerRun {
	t.Helper()
	run := producerRun{name: "produce-" + name, runID: fmt.Sprintf("%s-%d", name, time.Now().UnixNano()), topic: topic,
		client: k.client("connectors"), reader: k.client("email-processor")}
	args := append([]string{"produce", "--bootstrap", clientBootstrap(), "--topic", topic, "--run-id", run.runID,
		"--duration", d.String(), "--progress", "1s"}, extra...)
	applyLoadgenPodAs(t, run.client, run.name, args...)
	t.Cleanup(func() {
		_, _ = kubectl("-n", run.client.namespace, "delete", "pod", run.name, "--ignore-not-found", "--wait=false")
	})
	return run
}

// progressAcked reads the acknowledged count of loadgen's progress lines.
var progressAcked = regexp.MustCompile(`(?m)^kafka-loadgen: \S+ sent=\d+ acked=(\d+) `)

// waitAcked waits until the producer reports at least n records acknowledged
// (its progress lines) and returns the count it reported then. A producer
// that ends first fails the test.
func (r producerRun) waitAcked(t *testing.T, n int64) int64 {
	t.Helper()
	var acked int64
	var logs, phase string
	waitFor(t, 3*time.Minute, fmt.Sprintf("%s to have %d records acknowledged", r.name, n), func() bool {
		logs, _ = kubectl("-n", r.client.namespace, "logs", r.name)
		if m := progressAcked.FindAllStringSubmatch(logs, -1); len(m) > 0 {
			acked, _ = strconv.ParseInt(m[len(m)-1][1], 10, 64)
		}
		if acked >= n {
			return true
		}
		phase, _ = kubectl("-n", r.client.namespace, "get", "pod", r.name, "-o", "jsonpath={.status.phase}")
		return phase == "Succeeded" || phase == "Failed"
	})
	require.GreaterOrEqual(t, acked, n, "%s ended (%s) with %d acknowledged:\n%s", r.name, phase, acked, logs)
	return acked
}

// loadgenControlDir is the emptyDir of a loadgen pod, and loadgenStopFile the
// --stop-file a run given it ends on (stop).
const (
	loadgenControlDir = "/control"
	loadgenStopFile   = loadgenControlDir + "/stop"
)

// stop ends a run started with --stop-file loadgenStopFile: it flushes and
// prints its summary (wait), as at the end of its duration.
func (r producerRun) stop(t *testing.T) {
	t.Helper()
	_, err := kubectl("-n", r.client.namespace, "exec", r.name, "-c", "loadgen", "--", "/kafka-loadgen", "stop", loadgenStopFile)
	require.NoError(t, err, "ending %s", r.name)
}

// wait returns the producer's summary once its pod finished.
func (r producerRun) wait(t *testing.T) loadgen.Summary {
	t.Helper()
	logs := waitPod(t, r.client, r.name, 5*time.Minute)
	var s loadgen.Summary
	require.NoError(t, json.Unmarshal([]byte(lastJSONLine(logs)), &s), "producer output:\n%s", logs)
	t.Logf("FIGURE %s: sent %d, acked %d, failed %d (%v), pending %d, longest produce stall %d ms", r.name, s.Sent, s.Acked, s.Failed, s.FailedErrors, s.Pending, s.LongestStallMs)
	return s
}

// verified is what a verify pod found: Found counts the run's distinct
// records in the topic, Unacked those of them never acknowledged.
type verified struct{ Acked, Found, Unacked, Lost, Duplicated int64 }

// ReadBack counts the acknowledged records read back.
func (v verified) ReadBack() int64 { return v.Found - v.Unacked }

// verifyProduced reads the topic back in a pod: every acknowledged record
// once. A record lost or duplicated ends the test (issue 24 item 2: the
// figures after it printed "0 lost" whatever was found).
func verifyProduced(t *testing.T, k kafkaStack, r producerRun, s loadgen.Summary) verified {
	t.Helper()
	require.Greater(t, s.Acked, int64(0))
	acked, err := json.Marshal(s)
	require.NoError(t, err)
	name := "verify-" + strings.TrimPrefix(r.name, "produce-")
	applyLoadgenPodAs(t, r.reader, name, "verify", "--bootstrap", clientBootstrap(), "--topic", r.topic, "--run-id", r.runID, "--acked-from", string(acked))
	t.Cleanup(func() {
		_, _ = kubectl("-n", r.reader.namespace, "delete", "pod", name, "--ignore-not-found", "--wait=false")
	})
	logs := waitPod(t, r.reader, name, 5*time.Minute)
	var v verified
	require.NoError(t, json.Unmarshal([]byte(lastJSONLine(logs)), &v), "verify output:\n%s", logs)
	t.Logf("FIGURE %s (%s): acknowledged %d, read back %d (and %d never acknowledged), lost %d, duplicated %d",
		name, r.topic, v.Acked, v.ReadBack(), v.Unacked, v.Lost, v.Duplicated)
	require.Equal(t, s.Acked, v.Acked, "the verifier read the producer's acknowledged records")
	require.Zero(t, v.Lost, "acknowledged records lost")
	require.Zero(t, v.Duplicated, "records duplicated")
	require.Equal(t, v.Acked, v.ReadBack(), "every acknowledged record read back")
	return v
}

func clientBootstrap() string {
	return fmt.Sprintf("%s.%s.svc:%d", components.ClientServiceName, ns, components.ClientPort)
}

func ensureClientNamespace(t *testing.T) {
	t.Helper()
	if _, err := kubectl("get", "namespace", clientNS); err == nil {
		return
	}
	_, err := kubectl("create", "namespace", clientNS)
	require.NoError(t, err)
	_, err = kubectl("label", "namespace", clientNS, "umbrella-kafka-access=true")
	require.NoError(t, err)
}

// waitPod waits for a pod to finish and returns its logs; it must have succeeded.
func waitPod(t *testing.T, c loadgenClient, name string, timeout time.Duration) string {
	t.Helper()
	var phase string
	waitFor(t, timeout, "pod "+name+" to finish", func() bool {
		phase, _ = kubectl("-n", c.namespace, "get", "pod", name, "-o", "jsonpath={.status.phase}")
		return phase == "Succeeded" || phase == "Failed"
	})
	logs, err := kubectl("-n", c.namespace, "logs", name)
	require.NoError(t, err)
	// The end of the log only, each line cut short: a producer's log can run to
	// megabytes, and testify prints no message over 64 KiB (the cold CI of
	// 2026-12-06 showed "bufio.Scanner: token too long" instead of the cause).
	require.Equal(t, "Succeeded", phase, "pod %s, the end of its log:\n%s", name, logTail(logs, 40, 2000))
	return logs
}

// logTail is the last n lines of text, each cut to width bytes.
func logTail(text string, n, width int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > width {
			lines[i] = l[:width] + fmt.Sprintf(" … (%d bytes more)", len(l)-width)
		}
	}
	return strings.Join(lines, "\n")
}

func lastJSONLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), "{") {
			return lines[i]
		}
	}
	return ""
}

func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func quorumLeader(t *testing.T, k kafkaStack, pod string) int {
	t.Helper()
	out := k.exec(t, pod, "/opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status")
	m := regexp.MustCompile(`(?m)^LeaderId:\s+(\d+)$`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	id, _ := strconv.Atoi(m[1])
	return id
}
