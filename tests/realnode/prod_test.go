//go:build realnode

package realnode

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
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
	return o
}

// rolledOverrides are prodOverrides with the retention change the roll subtest
// deploys; the subtests after it start from there.
func rolledOverrides() map[string]string {
	o := prodOverrides()
	o["security"] = `{"mode":"sasl-scram","certificateRotation":1}`
	o["broker"] = strings.Replace(o["broker"], `"retentionHours":168`, `"retentionHours":120`, 1)
	return o
}

// The prod stack on three real nodes: quorum, topics, then a broker lost and the
// controller leader killed while a producer (acks=all, idempotent) runs in a client
// pod; every acknowledged record is read back exactly once.
func TestProdStackOnThreeRealNodes(t *testing.T) {
	if nodes < 3 {
		t.Skip("needs 3 real nodes (UMBRELLA_REALNODE_NODES=3)")
	}
	ctx := harness.Context(t, 40*time.Minute)
	stateDir := t.TempDir()
	adminSecure = true // Pulumi.prod.yaml: security.mode sasl-scram
	t.Cleanup(func() { adminSecure = false })
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

	t.Run("authenticated and encrypted: each service's credentials from its Secret, least privilege, no plaintext", func(t *testing.T) {
		securedListeners(t)
	})

	t.Run("a broker pod force-deleted under load: 0 acknowledged records lost or duplicated", func(t *testing.T) {
		run := startProducer(t, "broker-loss", 60*time.Second)
		time.Sleep(20 * time.Second)
		_, err := kubectl("-n", ns, "delete", "pod", "kafka-1", "--grace-period=0", "--force")
		require.NoError(t, err)
		lostAt := time.Now()
		waitFor(t, 4*time.Minute, "kafka-1 back and Ready", func() bool { return podReady(ns, "kafka-1") })
		waitFor(t, 3*time.Minute, "ISR back to 3 everywhere", func() bool {
			out, err := kubectl("-n", ns, "exec", "kafka-0", "-c", components.ContainerName, "--", "env", "KAFKA_HEAP_OPTS=-Xmx128m",
				"/bin/bash", "-c", adminScript("/opt/kafka/bin/kafka-topics.sh "+plainToolBootstrap+" --describe --under-replicated-partitions"))
			return err == nil && strings.TrimSpace(out) == ""
		})
		t.Logf("FIGURE broker kafka-1 force-deleted: back Ready with ISR 3 after %.1fs", time.Since(lostAt).Seconds())
		s := run.wait(t)
		verifyProduced(t, run, s)
	})

	t.Run("the controller leader's JVM killed: a new leader, produce goes on", func(t *testing.T) {
		leader := quorumLeader(t, "kafka-0")
		run := startProducer(t, "leader-kill", 45*time.Second)
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
					"/bin/bash", "-c", adminScript("/opt/kafka/bin/kafka-metadata-quorum.sh "+plainToolBootstrap+" describe --status"))
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

	t.Run("a retention change and a certificate rotation roll the brokers one at a time under load", func(t *testing.T) {
		before := servedSerials(t)
		changed := openStack(t, ctx, "prod", stateDir, rolledOverrides())
		run := startProducer(t, "roll", 130*time.Second)
		time.Sleep(10 * time.Second)
		w := watchRoll(t)
		rollStart := time.Now()
		_, err := changed.Up(ctx)
		require.NoError(t, err)
		upTook := time.Since(rollStart)
		// pulumi-kubernetes 4.25 reported the StatefulSet updated 0.4 s into the roll,
		// before the controller had even observed the new spec (seen here): wait for the
		// rollout the way kubectl does (observedGeneration, then revisions and replicas).
		_, err = kubectl("-n", ns, "rollout", "status", "statefulset/"+components.StatefulSetName, "--timeout=10m")
		require.NoError(t, err)
		roll := time.Since(rollStart)
		waitFor(t, time.Minute, "the watch to see the last broker serve", func() bool { return w.count() == 3 })
		w.stop()
		t.Logf("FIGURE up returned after %.1fs; the roll finished after %.1fs", upTook.Seconds(), roll.Seconds())
		s := run.wait(t)
		verifyProduced(t, run, s)

		require.Len(t, w.replaced, 3, "every broker restarted once: %v", w.replaced)
		for i := 1; i < len(w.replaced); i++ {
			prev, next := w.replaced[i-1], w.replaced[i]
			assert.False(t, next.gone.Before(prev.ready), "%s was deleted (%s) before %s served again (%s)", next.pod, next.gone, prev.pod, prev.ready)
		}
		longestRestart := time.Duration(0)
		for _, r := range w.replaced {
			longestRestart = max(longestRestart, r.ready.Sub(r.gone))
		}
		assert.LessOrEqual(t, w.longestUnderMinISR, longestRestart, "below min ISR no longer than one broker restart")
		t.Logf("FIGURE roll of three brokers: %.1fs, longest broker restart %.1fs, longest stretch with partitions under min ISR %.1fs, longest produce stall %d ms",
			roll.Seconds(), longestRestart.Seconds(), w.longestUnderMinISR.Seconds(), s.LongestStallMs)
		out := brokerExec(t, "kafka-0", "/opt/kafka/bin/kafka-configs.sh --bootstrap-server localhost:9092 --describe --entity-type brokers --entity-name 0 --all")
		assert.Regexp(t, `(?m)^\s*log.retention.hours=120\s`, out)
		after := servedSerials(t)
		require.Len(t, after, 3)
		for pod, serial := range after {
			assert.NotEqual(t, before[pod], serial, "%s serves the re-issued certificate", pod)
		}
		t.Logf("FIGURE certificate rotation under load: serials %v -> %v, longest produce stall %d ms, 0 acknowledged records lost", before, after, s.LongestStallMs)
	})

	t.Run("a pod delete is a controlled shutdown well inside the grace period", func(t *testing.T) {
		pod := components.PodName(2)
		logs := exec.Command("kubectl", "--kubeconfig", kubeconfig, "-n", ns, "logs", "-f", pod, "-c", components.ContainerName, "--since=1s")
		var buf strings.Builder
		logs.Stdout = &buf
		require.NoError(t, logs.Start())
		time.Sleep(2 * time.Second)
		start := time.Now()
		_, err := kubectl("-n", ns, "delete", "pod", pod, "--wait=true", "--timeout=150s")
		require.NoError(t, err)
		took := time.Since(start)
		_ = logs.Wait() // the stream ends with the container
		assert.Contains(t, buf.String(), "Beginning controlled shutdown", "the broker asked the controller to move its leaders away")
		assert.Contains(t, buf.String(), "The controller has asked us to exit controlled shutdown", "the controller let it go")
		assert.Contains(t, buf.String(), "shut down completed", "and it exited on its own")
		assert.NotContains(t, buf.String(), "Timed out waiting for the controller to approve controlled shutdown")
		assert.Less(t, took, 120*time.Second, "terminationGracePeriodSeconds (120 s) covers it")
		t.Logf("FIGURE controlled shutdown of %s (pod delete -> gone): %.1fs", pod, took.Seconds())
		waitFor(t, 4*time.Minute, pod+" Ready again", func() bool { return podReady(ns, pod) })
	})

	t.Run("the disruption budget lets one node drain and refuses a second eviction meanwhile", func(t *testing.T) {
		node, err := kubectl("-n", ns, "get", "pod", "kafka-1", "-o", "jsonpath={.spec.nodeName}")
		require.NoError(t, err)
		defer kubectl("uncordon", node)
		_, err = kubectl("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--pod-selector", components.LabelName+"="+components.AppName, "--timeout=150s")
		require.NoError(t, err, "one broker may go")
		// kafka-1's volume is on the cordoned node: it stays down until uncordon.
		eviction := fmt.Sprintf(`{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"kafka-0","namespace":"%s"}}`, ns)
		_, err = kubectlIn(eviction, "create", "--raw", "/api/v1/namespaces/"+ns+"/pods/kafka-0/eviction", "-f", "-")
		require.Error(t, err, "a second broker must not be evicted while the first is down")
		assert.Contains(t, err.Error(), "disruption budget")
		assert.True(t, podReady(ns, "kafka-0"))
		_, err = kubectl("uncordon", node)
		require.NoError(t, err)
		waitFor(t, 4*time.Minute, "kafka-1 back on its node", func() bool { return podReady(ns, "kafka-1") })
	})

	t.Run("brokers 3 -> 5 -> 3 under load: the data follows (balance after the pods come, drain before they go)", func(t *testing.T) {
		brokersFiveAndBack(t, ctx, stateDir)
	})

	t.Run("controllers 3 -> 1 -> 3 under load: voters leave before the roll and join after it", func(t *testing.T) {
		controllersOneAndBack(t, ctx, stateDir)
	})

	t.Run("produce throughput through the client Service: prod settings vs Kafka defaults", func(t *testing.T) {
		throughput(t, 20*time.Second)
	})
}

// rollWatch follows the broker pods while a roll runs: when each one went away and
// when its replacement was Ready, and how long partitions stayed below min ISR
// (the brokers' own UnderMinIsrPartitionCount, read from their JMX agents).
type rollWatch struct {
	mu                 sync.Mutex
	replaced           []podRestart
	longestUnderMinISR time.Duration
	done               chan struct{}
	finished           chan struct{}
}

type podRestart struct {
	pod         string
	gone, ready time.Time
}

func watchRoll(t *testing.T) *rollWatch {
	t.Helper()
	w := &rollWatch{done: make(chan struct{}), finished: make(chan struct{})}
	uids := map[string]string{}
	for i := 0; i < 3; i++ {
		uids[components.PodName(i)], _ = kubectl("-n", ns, "get", "pod", components.PodName(i), "-o", "jsonpath={.metadata.uid}")
	}
	go func() {
		defer close(w.finished)
		pending := map[string]*podRestart{}
		var underSince time.Time
		for {
			select {
			case <-w.done:
				return
			case <-time.After(300 * time.Millisecond):
			}
			now := time.Now()
			pods := brokerPods()
			if pods == nil {
				continue // the API did not answer: no news, not a deletion
			}
			for i := 0; i < 3; i++ {
				pod := components.PodName(i)
				p, ok := pods[pod]
				changed := !ok || p.uid != uids[pod] || p.deleting
				if r := pending[pod]; r == nil && changed && uids[pod] != "" {
					pending[pod] = &podRestart{pod: pod, gone: now}
				}
				if r := pending[pod]; r != nil && ok && p.uid != uids[pod] && p.ready {
					r.ready = now
					w.mu.Lock()
					w.replaced = append(w.replaced, *r)
					w.mu.Unlock()
					delete(pending, pod)
					uids[pod] = ""
				}
			}
			under := 0
			for _, p := range pods {
				if p.ip != "" {
					under += metricValue(p.ip, components.MetricUnderMinISR)
				}
			}
			switch {
			case under > 0 && underSince.IsZero():
				underSince = now
			case under == 0 && !underSince.IsZero():
				w.longestUnderMinISR = max(w.longestUnderMinISR, now.Sub(underSince))
				underSince = time.Time{}
			}
		}
	}()
	return w
}

func (w *rollWatch) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.replaced)
}

func (w *rollWatch) stop() {
	close(w.done)
	<-w.finished
}

func httpGet(url string) (string, error) {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// brokerPod is what the roll watch needs of a broker pod.
type brokerPod struct {
	uid, ip         string
	deleting, ready bool
}

// brokerPods reads every broker pod in one API call (name -> state).
func brokerPods() map[string]brokerPod {
	out, err := kubectl("-n", ns, "get", "pods", "-l", components.LabelName+"="+components.AppName, "-o", "json")
	if err != nil {
		return nil
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
	if json.Unmarshal([]byte(out), &list) != nil {
		return nil
	}
	pods := map[string]brokerPod{}
	for _, it := range list.Items {
		p := brokerPod{uid: it.Metadata.UID, ip: it.Status.PodIP, deleting: it.Metadata.DeletionTimestamp != nil}
		for _, c := range it.Status.Conditions {
			p.ready = p.ready || (c.Type == "Ready" && c.Status == "True")
		}
		pods[it.Metadata.Name] = p
	}
	return pods
}

// metricValue reads one gauge from a broker's JMX agent (0 when it does not answer).
func metricValue(ip, name string) int {
	body, err := httpGet(fmt.Sprintf("http://%s:%d/metrics?name[]=%s", ip, components.MetricsPort, name))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(body, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return int(v)
		}
	}
	return 0
}

// producerRun is a kafka-loadgen produce pod.
type producerRun struct {
	name, runID string
	// client is who produces: the connectors, which own raw-messages.
	client loadgenClient
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
	run := producerRun{name: "produce-" + name, runID: fmt.Sprintf("%s-%d", name, time.Now().UnixNano()), client: serviceClient("connectors")}
	applyLoadgenPodAs(t, run.client, run.name, "produce", "--bootstrap", clientBootstrap(), "--topic", loadTopic, "--run-id", run.runID,
		"--duration", d.String(), "--rate", "300/s")
	return run
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

// verifyProduced reads the topic back in a pod: every acknowledged record once.
func verifyProduced(t *testing.T, r producerRun, s loadgen.Summary) {
	t.Helper()
	require.Greater(t, s.Acked, int64(0))
	acked, err := json.Marshal(s)
	require.NoError(t, err)
	name := "verify-" + strings.TrimPrefix(r.name, "produce-")
	// The email processor reads raw-messages (the connectors may not).
	reader := serviceClient("email-processor")
	applyLoadgenPodAs(t, reader, name, "verify", "--bootstrap", clientBootstrap(), "--topic", loadTopic, "--run-id", r.runID, "--acked-from", string(acked))
	logs := waitPod(t, reader, name, 5*time.Minute)
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
