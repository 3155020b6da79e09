//go:build realnode

package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
)

// brokersFiveAndBack is issue 17's scale-out and scale-in on real pods
// through the real engine, with the connectors producing throughout: brokers
// 3 -> 5 adds two broker-only pods and, in the same update, the balance after
// the StatefulSet moves replicas onto them (throttled, waited for); a second
// up changes nothing; 5 -> 3 previews the drain's plan, then the drain before
// the StatefulSet empties brokers 3 and 4 and only then do their pods go,
// their volumes kept. No pod of 0-2 restarts, no acknowledged record is lost.
//
// The balance moves replicas in topic order and raw-messages comes last, so
// none of its replicas lands on brokers 3 and 4 (the drain moved "24 replicas
// (0 B)", issue 24 item 13). A second load, megabytes of 1 KiB records into a
// topic created once brokers 3 and 4 are there with one replica of each
// partition on them (its leader), runs through the drain: the drain must move
// its data, and every record of it acknowledged must be read back.
func brokersFiveAndBack(t *testing.T, ctx context.Context, k kafkaStack, stateDir string) {
	uids := podUIDs(t, 3)
	run := startProducer(t, k, "scale", 150*time.Second) // the two ups and a preview take about 90 s here
	run.waitAcked(t, 300)                                // under load from the first up on
	five := rolledOverrides()                            // the stack as the roll subtest left it
	five["brokers"] = "5"
	st5 := openStack(t, ctx, "prod", stateDir, five)
	start := time.Now()
	up, err := st5.Up(ctx)
	require.NoError(t, err, "up with brokers: 5")
	t.Logf("FIGURE brokers 3 -> 5: up (pods, registration, balance) %.1fs; %s", time.Since(start).Seconds(),
		placementLine(up.StdOut, "moved in"))
	for _, id := range []int{3, 4} {
		require.True(t, podReady(ns, components.PodName(id)), "kafka-%d Ready", id)
	}
	assert.Equal(t, uids, podUIDs(t, 3), "adding brokers restarts none of the others")
	quorum := k.exec(t, "kafka-3", "/opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status")
	assert.Len(t, regexp.MustCompile(`"id":\s*\d`).FindAllString(lineOf(quorum, "CurrentVoters:"), -1), 3, "the quorum is unchanged:\n%s", quorum)
	props := k.exec(t, "kafka-4", "cat "+components.ConfigMountPath+"/"+components.NodeFileName(4))
	assert.Contains(t, props, "\nprocess.roles=broker\n", "kafka-4 is broker-only")
	load := replicasPerBroker(t, k)
	t.Logf("FIGURE replicas per broker after the balance: %v", load)
	total := 0
	for _, n := range load {
		total += n
	}
	// issue 24 item 3: with nothing parsed, every broker "held a fair share".
	require.Len(t, load, 5, "replicas on exactly brokers 0-4: %v", load)
	require.GreaterOrEqual(t, total, 5, "replicas counted: %v", load)
	for id := 0; id < 5; id++ {
		assert.InDelta(t, float64(total)/5, float64(load[id]), 1.0, "broker %d holds a fair share (%v)", id, load)
	}
	previewsNoChange(t, ctx, st5, "brokers 3 -> 5")

	drain := drainLoad(t, k)
	before := topicBytes(t, k, drain.topic, 3, 4)
	t.Logf("FIGURE %s before the drain: %d B on brokers 3 and 4 (%v)", drain.topic, sum(before), before)
	require.Positive(t, sum(before), "the load topic has data on the brokers that go")

	st3 := openStack(t, ctx, "prod", stateDir, rolledOverrides())
	_, diags, err := st3.PreviewDiagnostics(ctx)
	require.NoError(t, err, "lowering brokers is previewed, not refused")
	plan := placementLine(strings.Join(diags, "\n"), "move off brokers 3, 4")
	assert.NotEqual(t, "(no ReplicaPlacement line)", plan, "the preview shows the drain's plan: %q", diags)
	t.Logf("FIGURE preview 5 -> 3: %s", plan)
	start = time.Now()
	up, err = st3.Up(ctx)
	require.NoError(t, err)
	drained := time.Now()
	moved := "(no ReplicaPlacement drain result line)"
	for _, l := range strings.Split(up.StdOut, "\n") {
		if containsAll(l, []string{"ReplicaPlacement drain to brokers 0-2: ", " moved in "}) {
			moved = strings.TrimSpace(l)
		}
	}
	t.Logf("FIGURE brokers 5 -> 3: up (drain, then the pods go) %.1fs; %s", drained.Sub(start).Seconds(), moved)
	movedBytes := placementBytes(t, moved)
	require.GreaterOrEqual(t, movedBytes, sum(before), "the drain moved at least what the load topic held on brokers 3 and 4: %s", moved)
	assert.Equal(t, []any{components.DataPVCName(3), components.DataPVCName(4)}, up.Outputs["retainedVolumes"].Value,
		"the output names the volumes the removed brokers left")
	for _, id := range []int{3, 4} {
		waitFor(t, 3*time.Minute, components.PodName(id)+" gone", func() bool {
			_, err := kubectl("-n", ns, "get", "pod", components.PodName(id))
			return err != nil && strings.Contains(err.Error(), "NotFound")
		})
		_, err = kubectl("-n", ns, "get", "pvc", components.DataPVCName(id))
		assert.NoError(t, err, "the removed broker's volume is kept")
	}
	load = replicasPerBroker(t, k)
	for id := 0; id < 3; id++ {
		require.Positive(t, load[id], "broker %d holds replicas: %v", id, load)
	}
	assert.Zero(t, load[3]+load[4], "brokers 3 and 4 hold nothing: %v", load)
	// A stopped broker stays registered (fenced) until it is unregistered, and
	// Kafka judges a metadata.version change against it (session 12 found
	// "Broker 4 only supports versions 7-27" after this scale-down): the
	// balance after the StatefulSet unregisters brokers 3 and 4 once stopped.
	assert.Contains(t, up.StdOut, "ReplicaPlacement balance over brokers 0-2: unregistered brokers 3, 4 (stopped, holding no replica)",
		"the balance says it unregistered them")
	// kafka-cluster.sh takes --config, not --command-config (k.script's rewrite): the secure form by hand.
	endpoints := k.exec(t, "kafka-0", fmt.Sprintf("/opt/kafka/bin/kafka-cluster.sh list-endpoints --bootstrap-server localhost:%d "+
		"--config %s/%s --include-fenced-brokers", components.InternalPort, components.ConfigMountPath, components.AdminPropertiesFile))
	assert.Equal(t, []string{"0", "1", "2"}, endpointIDs(endpoints), "registered brokers, fenced ones included:\n%s", endpoints)
	after := topicBytes(t, k, drain.topic, 0, 1, 2)
	assert.Equal(t, uids, podUIDs(t, 3), "removing brokers restarts none of the others")

	ds := drain.wait(t)
	dv := verifyProduced(t, k, drain, ds)
	began, err := time.Parse(time.RFC3339Nano, ds.StartedAt)
	require.NoError(t, err, "the drain load's start")
	endedAt := began.Add(time.Duration(ds.DurationMs) * time.Millisecond)
	t.Logf("FIGURE drain under load (%s, records padded to %d B): %d B of it on brokers 3 and 4 before, %d B on brokers 0-2 after (%v); the drain's up moved %d B; acknowledged %d, read back %d, lost %d, duplicated %d; longest produce stall %d ms; the load ran until %.1fs after the up returned",
		drain.topic, drainPadBytes, sum(before), sum(after), after, movedBytes, dv.Acked, dv.ReadBack(), dv.Lost, dv.Duplicated, ds.LongestStallMs, endedAt.Sub(drained).Seconds())
	s := run.wait(t)
	v := verifyProduced(t, k, run, s)
	t.Logf("FIGURE scale 3 -> 5 -> 3 under load (%s): longest produce stall %d ms; acknowledged %d, read back %d, lost %d, duplicated %d",
		run.topic, s.LongestStallMs, v.Acked, v.ReadBack(), v.Lost, v.Duplicated)
	k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --delete --topic "+drain.topic)
}

// drainTopic is the drain's load: created once brokers 3 and 4 run, each
// partition led by one of them with its two followers on brokers 0-2.
const drainTopic = "realnode-drain-load"

// drainPadBytes pads the drain load's records (loadgen --pad-bytes).
const drainPadBytes = 1024

// drainLoad creates drainTopic, lets the connectors write it and the email
// processor read it, and starts 1 KiB records into it at 600/s; it returns
// once 6000 of them (about 6 MiB) are acknowledged.
func drainLoad(t *testing.T, k kafkaStack) producerRun {
	t.Helper()
	k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic "+drainTopic+
		" --replica-assignment 3:0:1,4:1:2,3:2:0,4:0:1")
	k.grant(t, "connectors", drainTopic, "Write", "Describe")
	k.grant(t, "email-processor", drainTopic, "Read", "Describe")
	run := startProducerTo(t, k, "drain", drainTopic, 60*time.Second, "--rate", "600/s", "--pad-bytes", strconv.Itoa(drainPadBytes))
	run.waitAcked(t, 6000)
	return run
}

// topicBytes is the size of topic's replicas on each of brokers, as Kafka's
// log dirs report it (kafka-log-dirs.sh). Every broker asked must answer.
func topicBytes(t *testing.T, k kafkaStack, topic string, brokers ...int) map[int]int64 {
	t.Helper()
	ids := make([]string, len(brokers))
	for i, b := range brokers {
		ids[i] = strconv.Itoa(b)
	}
	out := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-log-dirs.sh --bootstrap-server localhost:9092 --describe --broker-list "+
		strings.Join(ids, ",")+" --topic-list "+topic)
	var desc struct {
		Brokers []struct {
			Broker  int
			LogDirs []struct {
				Error      *string
				Partitions []struct {
					Partition string
					Size      int64
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(lastJSONLine(out)), &desc), "kafka-log-dirs output:\n%s", out)
	got := map[int]int64{}
	for _, b := range desc.Brokers {
		got[b.Broker] += 0
		for _, d := range b.LogDirs {
			for _, p := range d.Partitions {
				if strings.HasPrefix(p.Partition, topic+"-") {
					got[b.Broker] += p.Size
				}
			}
		}
	}
	require.Len(t, got, len(brokers), "every broker asked answered:\n%s", out)
	return got
}

func sum(m map[int]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// placementBytes reads the bytes of a ReplicaPlacement "moved in" line
// ("24 replicas (3.8 MB) of 12 partitions moved in ...").
func placementBytes(t *testing.T, line string) int64 {
	t.Helper()
	m := regexp.MustCompile(`\d+ replicas \((\d+) B\)|\d+ replicas \((\d+(?:\.\d+)?) ([kMGTPE])B\)`).FindStringSubmatch(line)
	require.NotNil(t, m, "no size in %q", line)
	if m[1] != "" {
		n, err := strconv.ParseInt(m[1], 10, 64)
		require.NoError(t, err)
		return n
	}
	f, err := strconv.ParseFloat(m[2], 64)
	require.NoError(t, err)
	return int64(f * math.Pow(1000, float64(strings.Index("kMGTPE", m[3])+1)))
}

// endpointIDs are the broker IDs of a `kafka-cluster.sh list-endpoints`
// table (its rows start with the ID).
func endpointIDs(table string) []string {
	var ids []string
	for _, l := range strings.Split(table, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			if _, err := strconv.Atoi(f[0]); err == nil {
				ids = append(ids, f[0])
			}
		}
	}
	return ids
}

// previewsNoChange checks that a second up after what would change nothing.
func previewsNoChange(t *testing.T, ctx context.Context, st *deploy.Stack, after string) {
	t.Helper()
	again, err := st.Preview(ctx)
	require.NoError(t, err)
	assert.Zero(t, again.ChangeSummary["update"]+again.ChangeSummary["create"]+again.ChangeSummary["delete"]+again.ChangeSummary["replace"],
		"%s: a second up changes nothing: %v", after, again.ChangeSummary)
}

// placementLine is the ReplicaPlacement log line of the engine output that
// contains what (e.g. "drain"), for the figures.
func placementLine(out, what string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "ReplicaPlacement") && strings.Contains(l, what) {
			return strings.TrimSpace(l)
		}
	}
	return "(no ReplicaPlacement line)"
}

// replicasPerBroker counts the partition replicas each broker holds, over
// every topic (internal ones included), as Kafka describes them.
func replicasPerBroker(t *testing.T, k kafkaStack) map[int]int {
	t.Helper()
	desc := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe")
	load := map[int]int{}
	re := regexp.MustCompile(`(?m)^\s+Topic: \S+\s+Partition: \d+\s+Leader: \S+\s+Replicas: (\S+)`)
	for _, m := range re.FindAllStringSubmatch(desc, -1) {
		for _, r := range strings.Split(m[1], ",") {
			id, err := strconv.Atoi(r)
			require.NoError(t, err, "replica list %q", m[1])
			load[id]++
		}
	}
	return load
}

// podUIDs returns the uids of broker pods 0..n-1.
func podUIDs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		uid, err := kubectl("-n", ns, "get", "pod", components.PodName(i), "-o", "jsonpath={.metadata.uid}")
		require.NoError(t, err)
		out = append(out, uid)
	}
	return out
}

// throughput produces unthrottled 1 KiB records for d through the client
// Service into two topics in the same run: one with the prod stack's settings
// (the cluster defaults it ships: RF 3, min ISR 2) and one with Kafka's own
// defaults (RF 1, min ISR 1). Figures only; nothing is asserted about speed.
func throughput(t *testing.T, k kafkaStack, d time.Duration) {
	const pad = 1024
	k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic bench-prod --partitions 3 && "+
		"/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic bench-kafka-defaults --partitions 3 "+
		"--replication-factor 1 --config min.insync.replicas=1")
	for _, topic := range []string{"bench-prod", "bench-kafka-defaults"} {
		k.grant(t, "connectors", topic, "Write", "Describe")
	}
	client := k.client("connectors")
	for _, topic := range []string{"bench-prod", "bench-kafka-defaults"} {
		name := "throughput-" + strings.TrimPrefix(topic, "bench-")
		applyLoadgenPodAs(t, client, name, "produce", "--bootstrap", clientBootstrap(), "--topic", topic, "--run-id", name,
			"--duration", d.String(), "--rate", "0", "--pad-bytes", strconv.Itoa(pad))
		logs := waitPod(t, client, name, d+5*time.Minute)
		var s loadgen.Summary
		require.NoError(t, json.Unmarshal([]byte(lastJSONLine(logs)), &s), "producer output:\n%s", logs)
		require.True(t, s.OK(), "every record acknowledged: %+v", s.FailedErrors)
		require.Positive(t, s.DurationMs)
		perSec := float64(s.Acked) * 1000 / float64(s.DurationMs)
		t.Logf("FIGURE throughput %s (%s, acks=all, %d B records through %s): %.0f rec/s, %.2f MiB/s, longest stall %d ms",
			topic, describeTopic(t, k, topic), pad+len(loadgen.Value(name, s.Sent)), clientBootstrap(), perSec, perSec*pad/(1<<20), s.LongestStallMs)
	}
}

// describeTopic is the topic's replication factor and min ISR, as Kafka shows them.
func describeTopic(t *testing.T, k kafkaStack, topic string) string {
	out := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe --topic "+topic)
	rf := regexp.MustCompile(`ReplicationFactor:\s*(\d+)`).FindStringSubmatch(out)
	minISR := regexp.MustCompile(`min\.insync\.replicas=(\d+)`).FindStringSubmatch(out)
	s := fmt.Sprintf("RF %s", rf[1])
	if minISR != nil {
		return s + ", min ISR " + minISR[1]
	}
	return s + ", min ISR from the cluster default"
}

// controllersOneAndBack is issue 17's quorum change on real pods through the
// real engine, with the connectors producing throughout: controllers 3 -> 1
// removes voters 2 and 1 before the StatefulSet (the shrink; the preview
// names the steps) and rolls nodes 1 and 2 to broker-only; 1 -> 3 rolls them
// back to controllers and the grow after the StatefulSet adds them as
// voters once they follow the metadata log. Each second preview changes
// nothing, and no acknowledged record is lost.
func controllersOneAndBack(t *testing.T, ctx context.Context, k kafkaStack, stateDir string) {
	run := startProducer(t, k, "quorum", 240*time.Second) // two ups and rollouts, four previews: about 200 s here
	run.waitAcked(t, 300)                                 // under load from the first preview on
	one := rolledOverrides()
	one["controllers"] = "1"
	steps := []struct {
		name   string
		cfg    map[string]string
		plan   string
		voters []int
	}{
		{"controllers 3 -> 1", one, "KraftQuorum shrink to voters [0]: voters now [0 1 2]", []int{0}},
		{"controllers 1 -> 3", rolledOverrides(), "KraftQuorum grow to voters [0 1 2]: voters now [0]", []int{0, 1, 2}},
	}
	for _, step := range steps {
		st := openStack(t, ctx, "prod", stateDir, step.cfg)
		_, diags, err := st.PreviewDiagnostics(ctx)
		require.NoError(t, err, "%s is previewed, not refused", step.name)
		plan := quorumPlanLine(strings.Join(diags, "\n"), step.plan)
		assert.Contains(t, plan, "will ", "%s: the preview shows the quorum's steps: %q", step.name, diags)
		t.Logf("FIGURE preview %s: %s", step.name, plan)
		start := time.Now()
		up, err := st.Up(ctx)
		require.NoError(t, err, "up with %s", step.name)
		t.Logf("FIGURE %s: up (voters, roll) %.1fs; %s", step.name, time.Since(start).Seconds(),
			quorumPlanLine(up.StdOut, strings.Fields(step.plan)[1]+" to voters", "voter changes in"))
		// pulumi-kubernetes may report the StatefulSet updated before its
		// roll ends (README): the voters and roles are read once every pod
		// runs the new revision (the voters were read right after up, in a
		// kafka-0 the roll was restarting: the tool was killed, exit 137),
		// the roles from the file each started with.
		_, err = kubectl("-n", ns, "rollout", "status", "statefulset/"+components.StatefulSetName, "--timeout=10m")
		require.NoError(t, err)
		assert.Equal(t, step.voters, quorumVoters(t, k), "%s: the voters", step.name)
		for id := 0; id < 3; id++ {
			props := k.exec(t, components.PodName(id), "cat "+components.RunMountPath+"/server.properties")
			roles := "broker"
			if id < len(step.voters) {
				roles = "broker,controller"
			}
			assert.Contains(t, props, "\nprocess.roles="+roles+"\n", "%s: kafka-%d's roles", step.name, id)
		}
		record, ok := up.Outputs["quorum"]
		require.True(t, ok, "the quorum output")
		assert.Equal(t, map[string]any{"mode": "dynamic", "bootstrapControllers": "3"}, record.Value,
			"the cluster was formatted with three voters, whatever its controllers now")
		previewsNoChange(t, ctx, st, step.name)
	}
	s := run.wait(t)
	v := verifyProduced(t, k, run, s)
	t.Logf("FIGURE controllers 3 -> 1 -> 3 under load (%s): longest produce stall %d ms; acknowledged %d, read back %d, lost %d, duplicated %d",
		run.topic, s.LongestStallMs, v.Acked, v.ReadBack(), v.Lost, v.Duplicated)
}

// quorumPlanLine is the KraftQuorum log line of the engine output that
// contains every one of what, for the figures.
func quorumPlanLine(out string, what ...string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "KraftQuorum") && containsAll(l, what) {
			return strings.TrimSpace(l)
		}
	}
	return fmt.Sprintf("(no KraftQuorum line with %q)", what)
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// quorumVoters are the voters' node ids, as kafka-metadata-quorum describes
// them, sorted.
func quorumVoters(t *testing.T, k kafkaStack) []int {
	t.Helper()
	out := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status")
	var ids []int
	for _, m := range regexp.MustCompile(`"id":\s*(\d+)`).FindAllStringSubmatch(lineOf(out, "CurrentVoters:"), -1) {
		id, _ := strconv.Atoi(m[1])
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}
