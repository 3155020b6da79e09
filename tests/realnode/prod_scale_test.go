//go:build realnode

package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
)

// brokersFourAndBack is issue 12's item 5 on real pods through the real engine:
// brokers 3 -> 4 adds a broker-only pod that joins without restarting the
// others; lowering it back is refused at preview while broker 3 holds a
// replica, and goes through once the replica was moved off.
func brokersFourAndBack(t *testing.T, ctx context.Context, stateDir string) {
	uids := podUIDs(t, 3)
	four := rolledOverrides() // the stack as the roll subtest left it
	four["brokers"] = "4"
	start := time.Now()
	_, err := openStack(t, ctx, "prod", stateDir, four).Up(ctx)
	require.NoError(t, err, "up with brokers: 4")
	waitFor(t, 4*time.Minute, "kafka-3 Ready", func() bool { return podReady(ns, components.PodName(3)) })
	t.Logf("FIGURE brokers 3 -> 4: up -> kafka-3 Ready %.1fs", time.Since(start).Seconds())
	assert.Equal(t, uids, podUIDs(t, 3), "adding a broker restarts none of the others")

	quorum := brokerExec(t, "kafka-3", "/opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status")
	assert.Len(t, regexp.MustCompile(`"id":\s*\d`).FindAllString(lineOf(quorum, "CurrentVoters:"), -1), 3, "the quorum is unchanged:\n%s", quorum)
	assert.Regexp(t, `"id":\s*3\b`, lineOf(quorum, "CurrentObservers:"), "kafka-3 joined as a broker (an observer of the quorum):\n%s", quorum)
	props := brokerExec(t, "kafka-3", "cat "+components.ConfigMountPath+"/"+components.NodeFileName(3))
	assert.Contains(t, props, "\nprocess.roles=broker\n", "kafka-3 is broker-only")

	brokerExec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic on-broker-3 "+
		"--replica-assignment 3:0:1,1:2:3")
	st3 := openStack(t, ctx, "prod", stateDir, rolledOverrides())
	_, err = st3.Preview(ctx)
	require.Error(t, err, "lowering brokers while broker 3 holds replicas")
	assert.Contains(t, err.Error(), `brokers changed from "4" to "3" on a deployed stack while broker 3 holds`)
	assert.Contains(t, err.Error(), "on-broker-3-0")
	assert.Contains(t, err.Error(), "kafka-reassign-partitions.sh")
	assert.True(t, podReady(ns, components.PodName(3)), "a refused preview touches nothing")

	moved := moveOffBroker(t, 3, 3)
	t.Logf("FIGURE moved %d partition replicas off broker 3", moved)
	_, err = st3.Preview(ctx)
	require.NoError(t, err, "broker 3 is empty now")

	start = time.Now()
	up, err := st3.Up(ctx)
	require.NoError(t, err)
	assert.Contains(t, up.StdOut, `no partition replica is left on broker 3; removing the pods, keeping the volumes (data-kafka-3)`)
	waitFor(t, 3*time.Minute, "kafka-3 gone", func() bool {
		_, err := kubectl("-n", ns, "get", "pod", components.PodName(3))
		return err != nil && strings.Contains(err.Error(), "NotFound")
	})
	t.Logf("FIGURE brokers 4 -> 3: up -> kafka-3 gone %.1fs", time.Since(start).Seconds())
	_, err = kubectl("-n", ns, "get", "pvc", components.DataPVCName(3))
	assert.NoError(t, err, "the removed broker's volume is kept")
	assert.Equal(t, uids, podUIDs(t, 3), "removing a broker restarts none of the others")
	desc := brokerExec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe --topic on-broker-3")
	assert.Regexp(t, `Partition: 0\s+Leader: \d+\s+Replicas: [0-2],[0-2],[0-2]\s+Isr: [0-2],[0-2],[0-2]\s`, desc)
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

// moveOffBroker moves every replica on broker id to brokers 0..keep-1 with
// kafka-reassign-partitions (the README's way), waits for the move and
// returns how many replicas moved.
func moveOffBroker(t *testing.T, id, keep int) int {
	t.Helper()
	desc := brokerExec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe")
	type move struct {
		Topic     string `json:"topic"`
		Partition int    `json:"partition"`
		Replicas  []int  `json:"replicas"`
	}
	var moves []move
	re := regexp.MustCompile(`(?m)^\s+Topic: (\S+)\s+Partition: (\d+)\s+Leader: \S+\s+Replicas: (\S+)`)
	for _, m := range re.FindAllStringSubmatch(desc, -1) {
		var replicas []int
		for _, r := range strings.Split(m[3], ",") {
			n, _ := strconv.Atoi(r)
			replicas = append(replicas, n)
		}
		i := slices.Index(replicas, id)
		if i < 0 {
			continue
		}
		for b := 0; b < keep; b++ {
			if !slices.Contains(replicas, b) {
				replicas[i] = b
				break
			}
		}
		p, _ := strconv.Atoi(m[2])
		moves = append(moves, move{Topic: m[1], Partition: p, Replicas: replicas})
	}
	require.NotEmpty(t, moves, "broker %d holds nothing to move:\n%s", id, desc)
	plan, err := json.Marshal(map[string]any{"version": 1, "partitions": moves})
	require.NoError(t, err)
	file := components.TmpPath + "/move-off.json"
	_, err = kubectlIn(string(plan), "-n", ns, "exec", "-i", "kafka-0", "-c", components.ContainerName, "--", "/bin/bash", "-c", "cat > "+file)
	require.NoError(t, err)
	tool := "/opt/kafka/bin/kafka-reassign-partitions.sh --bootstrap-server localhost:9092 --reassignment-json-file " + file
	brokerExec(t, "kafka-0", tool+" --execute")
	waitFor(t, 3*time.Minute, "the reassignment to complete", func() bool {
		out := brokerExec(t, "kafka-0", tool+" --verify")
		return strings.Count(out, "is completed") == len(moves)
	})
	return len(moves)
}

// throughput produces unthrottled 1 KiB records for d through the client
// Service into two topics in the same run: one with the prod stack's settings
// (the cluster defaults it ships: RF 3, min ISR 2) and one with Kafka's own
// defaults (RF 1, min ISR 1). Figures only; nothing is asserted about speed.
func throughput(t *testing.T, d time.Duration) {
	const pad = 1024
	brokerExec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic bench-prod --partitions 3 && "+
		"/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic bench-kafka-defaults --partitions 3 "+
		"--replication-factor 1 --config min.insync.replicas=1")
	grantBench(t, "bench-prod", "bench-kafka-defaults")
	client := serviceClient("connectors")
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
			topic, describeTopic(t, topic), pad+len(loadgen.Value(name, s.Sent)), clientBootstrap(), perSec, perSec*pad/(1<<20), s.LongestStallMs)
	}
}

// describeTopic is the topic's replication factor and min ISR, as Kafka shows them.
func describeTopic(t *testing.T, topic string) string {
	out := brokerExec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe --topic "+topic)
	rf := regexp.MustCompile(`ReplicationFactor:\s*(\d+)`).FindStringSubmatch(out)
	minISR := regexp.MustCompile(`min\.insync\.replicas=(\d+)`).FindStringSubmatch(out)
	s := fmt.Sprintf("RF %s", rf[1])
	if minISR != nil {
		return s + ", min ISR " + minISR[1]
	}
	return s + ", min ISR from the cluster default"
}
