//go:build realnode

package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
)

// prodOverrides change only what three JVMs on one small machine need (heap and
// requests) and how the deploy machine reaches the brokers; the topology, probes,
// security context, policy and disruption budget stay as Pulumi.prod.yaml ships them.
func prodOverrides() map[string]string {
	o := devOverrides()
	o["resources"] = `{"requests":{"cpu":"200m","memory":"1Gi"},"limits":{"cpu":"2","memory":"2Gi"}}`
	o["broker"] = `{"minInsyncReplicas":2,"defaultReplicationFactor":3,"retentionHours":168,"retentionBytes":-1,"compressionType":"producer","heapOpts":"-Xms512m -Xmx768m"}`
	o["topics"] = `{"manager":"provider","access":"kubernetes","protect":true,"allowReplace":false}`
	return o
}

// The prod stack on three real nodes: quorum, topics, then a broker lost and the
// controller leader killed while a producer (acks=all, idempotent) runs in a client
// pod; every acknowledged record is read back exactly once.
func TestProdStackOnThreeRealNodes(t *testing.T) {
	if nodes < 3 {
		t.Skip("needs 3 real nodes (UMBRELLA_REALNODE_NODES=3)")
	}
	ctx := context.Background()
	st := openStack(t, ctx, "prod", t.TempDir(), prodOverrides())
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
		quorum := brokerExec(t, "kafka-0", "/opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status")
		assert.Regexp(t, `(?m)^LeaderId:\s+[012]$`, quorum)
		assert.Len(t, regexp.MustCompile(`"id":\s*\d`).FindAllString(lineOf(quorum, "CurrentVoters:"), -1), 3, quorum)
		desc := brokerExec(t, "kafka-0", "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe --exclude-internal")
		for _, topic := range config.Inventory {
			assert.Regexp(t, fmt.Sprintf(`(?m)^Topic:\s+%s\s.*ReplicationFactor:\s+3\s.*min.insync.replicas=2`, regexp.QuoteMeta(topic.Name)), desc)
		}
		for _, m := range regexp.MustCompile(`(?m)^\s+Topic: \S+\s+Partition: \d+\s+Leader: \d+\s+Replicas: (\S+)\s+Isr: (\S+)`).FindAllStringSubmatch(desc, -1) {
			assert.Len(t, strings.Split(m[2], ","), 3, "ISR of %s", m[0])
		}
	})

	t.Run("a broker pod force-deleted under load: 0 acknowledged records lost or duplicated", func(t *testing.T) {
		run := startProducer(t, "broker-loss", 75*time.Second)
		time.Sleep(20 * time.Second)
		_, err := kubectl("-n", ns, "delete", "pod", "kafka-1", "--grace-period=0", "--force")
		require.NoError(t, err)
		lostAt := time.Now()
		waitFor(t, 4*time.Minute, "kafka-1 back and Ready", func() bool { return podReady(ns, "kafka-1") })
		waitFor(t, 3*time.Minute, "ISR back to 3 everywhere", func() bool {
			out, err := kubectl("-n", ns, "exec", "kafka-0", "-c", components.ContainerName, "--", "env", "KAFKA_HEAP_OPTS=-Xmx128m",
				"/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server", "localhost:9092", "--describe", "--under-replicated-partitions")
			return err == nil && strings.TrimSpace(out) == ""
		})
		t.Logf("FIGURE broker kafka-1 force-deleted: back Ready with ISR 3 after %.1fs", time.Since(lostAt).Seconds())
		s := run.wait(t)
		verifyProduced(t, run, s)
	})

	t.Run("the controller leader's JVM killed: a new leader, produce goes on", func(t *testing.T) {
		leader := quorumLeader(t, "kafka-0")
		run := startProducer(t, "leader-kill", 60*time.Second)
		time.Sleep(15 * time.Second)
		killJVM(t, components.PodName(leader))
		killedAt := time.Now()
		var newLeader int
		waitFor(t, 2*time.Minute, "a new controller leader", func() bool {
			for i := 0; i < 3; i++ {
				if i == leader {
					continue
				}
				out, err := kubectl("-n", ns, "exec", components.PodName(i), "-c", components.ContainerName, "--", "env", "KAFKA_HEAP_OPTS=-Xmx128m",
					"/opt/kafka/bin/kafka-metadata-quorum.sh", "--bootstrap-server", "localhost:9092", "describe", "--status")
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
		t.Logf("FIGURE controller leader %d killed: leader %d after %.1fs", leader, newLeader, time.Since(killedAt).Seconds())
		s := run.wait(t)
		verifyProduced(t, run, s)
		waitFor(t, 4*time.Minute, "the killed broker Ready again", func() bool { return podReady(ns, components.PodName(leader)) })
	})
}

// producerRun is a kafka-loadgen produce pod.
type producerRun struct {
	name, runID string
}

const loadTopic = "raw-messages"

func loadgenImage() string {
	out, err := exec.Command("bash", filepath.Join(repoRoot, "scripts/images.sh"), "ref", "kafka-loadgen", registry).Output()
	if err != nil {
		panic(fmt.Sprintf("scripts/images.sh ref kafka-loadgen: %v", err))
	}
	return strings.TrimSpace(string(out))
}

// startProducer starts a producer pod in the client namespace for d.
func startProducer(t *testing.T, name string, d time.Duration) producerRun {
	t.Helper()
	ensureClientNamespace(t)
	run := producerRun{name: "produce-" + name, runID: fmt.Sprintf("%s-%d", name, time.Now().UnixNano())}
	applyLoadgenPod(t, run.name, "produce", "--bootstrap", clientBootstrap(), "--topic", loadTopic, "--run-id", run.runID,
		"--duration", d.String(), "--rate", "300/s")
	return run
}

// wait returns the producer's summary once its pod finished.
func (r producerRun) wait(t *testing.T) loadgen.Summary {
	t.Helper()
	logs := waitPod(t, r.name, 5*time.Minute)
	var s loadgen.Summary
	require.NoError(t, json.Unmarshal([]byte(lastJSONLine(logs)), &s), "producer output:\n%s", logs)
	t.Logf("FIGURE %s: sent %d, acked %d, failed %d (%v), pending %d, longest produce stall %d ms", r.name, s.Sent, s.Acked, s.Failed, s.FailedErrors, s.Pending, s.LongestStallMs)
	return s
}

// verifyProduced reads the topic back in a pod: every acknowledged record once.
func verifyProduced(t *testing.T, r producerRun, s loadgen.Summary) {
	t.Helper()
	require.Greater(t, s.Acked, int64(0))
	acked, err := json.Marshal(s)
	require.NoError(t, err)
	name := "verify-" + strings.TrimPrefix(r.name, "produce-")
	applyLoadgenPod(t, name, "verify", "--bootstrap", clientBootstrap(), "--topic", loadTopic, "--run-id", r.runID, "--acked-from", string(acked))
	logs := waitPod(t, name, 5*time.Minute)
	var v struct{ Acked, Found, Lost, Duplicated int64 }
	require.NoError(t, json.Unmarshal([]byte(lastJSONLine(logs)), &v), "verify output:\n%s", logs)
	t.Logf("FIGURE %s: acked %d, found %d, lost %d, duplicated %d", name, v.Acked, v.Found, v.Lost, v.Duplicated)
	assert.Equal(t, s.Acked, v.Acked)
	assert.Zero(t, v.Lost, "acknowledged records lost")
	assert.Zero(t, v.Duplicated, "records duplicated")
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

func applyLoadgenPod(t *testing.T, name string, args ...string) {
	t.Helper()
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": clientNS},
		"spec": map[string]any{
			"restartPolicy": "Never", "enableServiceLinks": false,
			"containers": []any{map[string]any{"name": "loadgen", "image": loadgenImage(), "imagePullPolicy": "Always", "args": args}},
		},
	}
	body, _ := json.Marshal(pod)
	_, err := kubectlIn(string(body), "apply", "-f", "-")
	require.NoError(t, err)
}

// waitPod waits for a pod to finish and returns its logs; it must have succeeded.
func waitPod(t *testing.T, name string, timeout time.Duration) string {
	t.Helper()
	var phase string
	waitFor(t, timeout, "pod "+name+" to finish", func() bool {
		phase, _ = kubectl("-n", clientNS, "get", "pod", name, "-o", "jsonpath={.status.phase}")
		return phase == "Succeeded" || phase == "Failed"
	})
	logs, err := kubectl("-n", clientNS, "logs", name)
	require.NoError(t, err)
	require.Equal(t, "Succeeded", phase, "pod %s logs:\n%s", name, logs)
	return logs
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

func quorumLeader(t *testing.T, pod string) int {
	t.Helper()
	out := brokerExec(t, pod, "/opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status")
	m := regexp.MustCompile(`(?m)^LeaderId:\s+(\d+)$`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	id, _ := strconv.Atoi(m[1])
	return id
}
