//go:build realnode

package realnode

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

const (
	ns        = components.Instance // umbrella-streaming
	broker    = "kafka-0"
	clientNS  = "umbrella-realnode-client"
	keepTopic = "realnode-keep" // not managed by Pulumi: survives destroy on the PVC
)

// devImage is the wrapper image scripts/images.sh pushed to the local registry.
func devImage() string {
	out, err := exec.Command("bash", filepath.Join(repoRoot, "scripts/images.sh"), "ref", "kafka", registry).Output()
	if err != nil {
		panic(fmt.Sprintf("scripts/images.sh ref kafka: %v", err))
	}
	return strings.TrimSpace(string(out))
}

// devOverrides are the only changes to Pulumi.dev.yaml: the images come from the
// local registry (topics.access stays kubernetes: the provider port-forwards into
// the real pod through the API server, the kubelet and containerd).
func devOverrides() map[string]string {
	img, _ := json.Marshal(map[string]any{"name": devImage()})
	mon, _ := json.Marshal(map[string]any{"agentImage": devImage(), "lagExporterImage": loadgenImage()})
	return map[string]string{"image": string(img), "monitoring": string(mon)}
}

// The dev stack as shipped, on a real node, start to finish: one ordered story
// because each step stands on the last (a pod that never started cannot restart).
func TestDevStackOnRealNode(t *testing.T) {
	ctx := harness.Context(t, 15*time.Minute)
	stateDir := t.TempDir()
	dev := kafkaStack{} // Pulumi.dev.yaml: plaintext
	// destroy keeps the namespace and its PVC by design; a test after this one on
	// this cluster must not find a volume formatted by the dev cluster (Kafka
	// refuses it), whether this test got to its end or not (issue 24 item 10).
	ownNamespaces(t, ns, clientNS)
	st := openStack(t, ctx, "dev", stateDir, devOverrides())
	destroyed := false
	t.Cleanup(func() { // before the namespaces go (cleanups run last-in first-out)
		if destroyed {
			return
		}
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if _, err := st.Destroy(cctx); err != nil {
			t.Errorf("cleanup: destroy of the dev stack: %v", err)
		}
	})

	upStart := time.Now()
	var mu sync.Mutex
	var readyAfter time.Duration
	watch := startSampler(t, ctx, 200*time.Millisecond, func(now time.Time) { // up -> broker Ready, measured while up runs
		mu.Lock()
		seen := readyAfter > 0
		mu.Unlock()
		if !seen && podReady(ns, broker) {
			mu.Lock()
			readyAfter = now.Sub(upStart)
			mu.Unlock()
		}
	})
	_, err := st.Up(ctx)
	watch.stop()
	require.NoError(t, err, "up of the dev stack on a real node")
	upTook := time.Since(upStart)
	t.Logf("FIGURE dev up -> %s Ready: %.1fs; up -> all topics created (up returned): %.1fs", broker, readyAfter.Seconds(), upTook.Seconds())

	// Checks on the running broker that change nothing another needs: side by side (the policy
	// check turns enforcement off and on, which the client pod's tools ride out by retrying).
	t.Run("checks on the running broker, side by side", func(t *testing.T) {
		t.Run("broker runs Kafka 4.1.1 as uid 10001 and is Ready", func(t *testing.T) {
			t.Parallel()
			require.True(t, podReady(ns, broker))
			pod := getJSON(t, "-n", ns, "pod", broker)
			assert.Equal(t, "Running", path(pod, "status", "phase"))
			assert.Equal(t, devImage(), path(pod, "spec", "containers", 0, "image"))
			assert.Regexp(t, `^node-[1-9]$`, path(pod, "spec", "nodeName"), "a real node, not a fake one")
			out := dev.exec(t, broker, "id -u; id -G; ls /opt/kafka/libs | grep -E '^kafka_2.13-[0-9.]+\\.jar$'; /opt/kafka/bin/kafka-topics.sh --version")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			require.GreaterOrEqual(t, len(lines), 4, out)
			assert.Equal(t, "10001", lines[0])
			assert.Contains(t, strings.Fields(lines[1]), "10001")
			assert.Equal(t, "kafka_2.13-4.1.1.jar", lines[2])
			assert.Contains(t, lines[3], "4.1.1")

			// The data volume: a `local` PV (the kubelet applies fsGroup to it; it does not
			// to hostPath), owned by the broker's group, holding the formatted log dir.
			pv := getJSON(t, "pv", pvcVolume(t))
			assert.NotNil(t, path(pv, "spec", "local"), "the local storage class's volumes are `local` PVs")
			out = dev.exec(t, broker, "stat -c '%g' "+components.DataMountPath+"; test -w "+components.DataMountPath+" && echo writable; cat "+components.LogDirPath+"/meta.properties")
			assert.Regexp(t, `^10001\nwritable\n`, out)
			assert.Contains(t, out, "cluster.id=5BlkQlAaBVX6rb9uzmmt7w", "formatted with the dev stack's clusterId")
		})

		t.Run("the provider created the seven topics through a port-forward into the pod", func(t *testing.T) {
			t.Parallel()
			out := dev.exec(t, broker, "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe --exclude-internal")
			got := topicPartitions(out)
			want := map[string]string{}
			for _, topic := range config.Inventory {
				want[topic.Name] = "1/1"
			}
			assert.Equal(t, want, got, "every platform topic: partitions/replicas as the dev stack says")
		})

		t.Run("seed validation checklist on the real pod", func(t *testing.T) {
			t.Parallel()
			quorum := dev.exec(t, broker, "/opt/kafka/bin/kafka-metadata-quorum.sh --bootstrap-server localhost:9092 describe --status")
			assert.Regexp(t, `(?m)^LeaderId:\s+0$`, quorum)
			assert.Regexp(t, `(?m)^CurrentVoters:\s+\[.*"id":\s*0`, quorum)
			cfg := dev.exec(t, broker, "/opt/kafka/bin/kafka-configs.sh --bootstrap-server localhost:9092 --describe --entity-type brokers --entity-name 0 --all")
			for key, want := range map[string]string{
				"min.insync.replicas": "1", "default.replication.factor": "1", "log.retention.hours": "168",
				"compression.type": "producer", "auto.create.topics.enable": "false", "process.roles": "broker,controller",
			} {
				assert.Regexp(t, fmt.Sprintf(`(?m)^\s*%s=%s\s`, regexp.QuoteMeta(key), regexp.QuoteMeta(want)), cfg, "effective %s", key)
			}
		})

		t.Run("a client pod in a labelled namespace produces and consumes through the kafka Service", func(t *testing.T) {
			t.Parallel()
			ensureClientNamespace(t)
			msg := fmt.Sprintf("realnode-%d", time.Now().UnixNano())
			bootstrap := fmt.Sprintf("%s.%s.svc:%d", components.ClientServiceName, ns, components.ClientPort)
			script := fmt.Sprintf(`set -e
	echo %[1]s | kafka-console-producer.sh --bootstrap-server %[2]s --topic raw-messages --producer-property acks=all
	kafka-console-consumer.sh --bootstrap-server %[2]s --topic raw-messages --group email-processor --from-beginning --timeout-ms 20000 > /tmp/out || true
	grep -x %[1]s /tmp/out
	kafka-consumer-groups.sh --bootstrap-server %[2]s --describe --group email-processor`, msg, bootstrap)
			logs := runClientPod(t, "produce-consume", script)
			assert.Contains(t, logs, msg)
			lag := regexp.MustCompile(`(?m)^email-processor\s+raw-messages\s+0\s+(\d+)\s+(\d+)\s+(\d+)`).FindStringSubmatch(logs)
			require.NotNil(t, lag, "consumer group description:\n%s", logs)
			assert.Equal(t, "0", lag[3], "email-processor shows zero lag after processing")
		})

		t.Run("the NetworkPolicy measured with packets equals the expected table, and without enforcement the unlabelled namespace gets in", func(t *testing.T) {
			t.Parallel()
			t.Log("\n" + assertPolicyTable(t, dev, 1))
			assertEnforcementMatters(t, dev)
		})

		t.Run("Kafka logs to stdout; nothing grows in the pod's ephemeral storage", func(t *testing.T) {
			t.Parallel()
			logs, err := kubectl("-n", ns, "logs", broker, "-c", components.ContainerName)
			require.NoError(t, err)
			assert.Contains(t, logs, "Kafka Server started")
			files := dev.exec(t, broker, "find "+components.KafkaLogsPath+" -type f")
			assert.Empty(t, strings.TrimSpace(files), "no log files under %s (LOG_DIR)", components.KafkaLogsPath)
			big := dev.exec(t, broker, "find "+components.TmpPath+" "+components.RunMountPath+" -type f -size +64k")
			assert.Empty(t, strings.TrimSpace(big), "nothing of size in the other emptyDirs")
		})

		// Regression: the shipped entrypoint once did a plain `cp` of the 0444 ConfigMap
		// file into an emptyDir, which outlives a container restart; as uid 10001 the
		// second start's cp then fails and the container crash-loops. Shown here with the
		// pod's own files, next to the fixed `cp -f`.
		t.Run("a plain cp over the last start's copy fails in the pod; cp -f does not", func(t *testing.T) {
			t.Parallel()
			src := components.ConfigMountPath + "/" + components.NodeFileName(0)
			out := dev.exec(t, broker, fmt.Sprintf(`d=$(mktemp -d); cp %[1]s "$d/p"; if cp %[1]s "$d/p" 2>"$d/err"; then echo plain-ok; else echo plain-failed; cat "$d/err"; fi
	cp -f %[1]s "$d/p" && echo f-ok; rm -rf "$d"`, src))
			assert.Contains(t, out, "plain-failed")
			assert.Contains(t, out, "Permission denied")
			assert.Contains(t, out, "f-ok")
		})

	})

	// After the group: the traffic meters exist once the client pod has produced.
	t.Run("JMX metrics are served from the pod", func(t *testing.T) {
		body := scrape(t, podIP(t))
		for _, m := range []string{components.MetricUnderReplicated, components.MetricActiveController, components.MetricBrokerState, components.MetricMessagesIn} {
			assert.Contains(t, body, m)
		}
	})

	t.Run("a killed JVM restarts in place, and the pod is Ready only once the broker is RUNNING", func(t *testing.T) {
		before := restartCount(t)
		ip := podIP(t)
		killJVM(t, broker)
		waitFor(t, time.Minute, "the kubelet to see the container die", func() bool { return !podReady(ns, broker) || restartCount(t) > before })

		// The broker side, sampled every 50 ms straight from the host: when the client
		// port first accepts, and when the broker first reports RUNNING. The sampler
		// stops with the test whatever happens (issue 24 item 5).
		var mu sync.Mutex
		var tcpOpen, running, last time.Time
		var longestRound time.Duration
		rounds, notRunningFirst := 0, false
		sampling := startSampler(t, ctx, 50*time.Millisecond, func(now time.Time) {
			open, state := dialable(ip), brokerState(ip)
			mu.Lock()
			defer mu.Unlock()
			if !last.IsZero() {
				longestRound = max(longestRound, now.Sub(last))
			}
			last = now
			rounds++
			if tcpOpen.IsZero() && open {
				tcpOpen = now
			}
			if running.IsZero() && state == "3" {
				running = now
			}
			if rounds == 1 {
				notRunningFirst = running.IsZero()
			}
		})
		var ready time.Time
		waitFor(t, 4*time.Minute, "the broker Ready again", func() bool {
			if !podReady(ns, broker) {
				return false
			}
			ready = time.Now()
			return true
		})
		sampling.stop()
		mu.Lock()
		defer mu.Unlock()
		require.False(t, running.IsZero(), "the pod turned Ready but the broker never reported RUNNING")
		require.True(t, notRunningFirst, "the sampler's first round saw the broker not yet RUNNING (else it cannot say when it became so)")
		require.GreaterOrEqual(t, rounds, 2, "sampler rounds")
		// The sampler sees RUNNING at most one of its own rounds late, and rounds
		// last what its probes take on this machine: the slack is the longest round
		// it measured in this run (issue 24 item 6: a constant 1 s, where rounds
		// took ~0.8 s). The readiness probe runs every 5 s, so a probe that ignored
		// the state would show.
		assert.False(t, ready.Add(longestRound).Before(running), "Ready (%s) before the broker was RUNNING (%s; sampler rounds up to %s)", ready, running, longestRound)
		require.False(t, ready.IsZero(), "the broker did not come back Ready after its JVM was killed")
		assert.Equal(t, before+1, restartCount(t), "one restart, no crash loop")
		pod := getJSON(t, "-n", ns, "pod", broker)
		assert.Nil(t, path(pod, "status", "containerStatuses", 0, "state", "waiting"), "not waiting (CrashLoopBackOff)")
		t.Logf("FIGURE after a JVM kill: client port open -> broker RUNNING %.1fs (a TCP readiness probe would have routed clients there), RUNNING -> Ready %.1fs; sampler: %d rounds, longest %s",
			running.Sub(tcpOpen).Seconds(), ready.Sub(running).Seconds(), rounds, longestRound.Round(time.Millisecond))
	})

	t.Run("destroy keeps the volume; a second up reuses it with the records", func(t *testing.T) {
		dev.exec(t, broker, "/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --topic "+keepTopic+
			" --partitions 1 --replication-factor 1 && echo kept-record | /opt/kafka/bin/kafka-console-producer.sh --bootstrap-server localhost:9092 --topic "+keepTopic+" --producer-property acks=all")
		pvBefore := pvcVolume(t)
		_, err := st.Destroy(ctx)
		require.NoError(t, err)
		waitFor(t, 3*time.Minute, "the broker pod to go", func() bool {
			_, err := kubectl("-n", ns, "get", "pod", broker)
			return err != nil
		})
		assert.Equal(t, pvBefore, pvcVolume(t), "the PVC and its volume outlive destroy")

		_, err = st.Up(ctx)
		require.NoError(t, err)
		waitFor(t, 3*time.Minute, "the broker Ready again", func() bool { return podReady(ns, broker) })
		assert.Equal(t, pvBefore, pvcVolume(t))
		out := dev.exec(t, broker, "/opt/kafka/bin/kafka-console-consumer.sh --bootstrap-server localhost:9092 --topic "+keepTopic+
			" --from-beginning --max-messages 1 --timeout-ms 60000")
		assert.Contains(t, out, "kept-record", "a record written before destroy is read after the second up")
	})

	t.Run("a second up changes nothing", func(t *testing.T) {
		res, err := st.Up(ctx)
		require.NoError(t, err)
		for op, n := range *res.Summary.ResourceChanges {
			// "read" is the guard's StackReference, read on every run; it changes nothing.
			if op != "same" && op != "read" {
				assert.Zero(t, n, "second up: %d %s (%v)", n, op, *res.Summary.ResourceChanges)
			}
		}
	})

	_, err = st.Destroy(ctx)
	require.NoError(t, err)
	destroyed = true
}

// topicPartitions reads "kafka-topics --describe" into topic -> "partitions/replicas".
func topicPartitions(out string) map[string]string {
	re := regexp.MustCompile(`(?m)^Topic:\s+(\S+)\s+TopicId:\s+\S+\s+PartitionCount:\s+(\d+)\s+ReplicationFactor:\s+(\d+)`)
	got := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		got[m[1]] = m[2] + "/" + m[3]
	}
	return got
}

// runClientPod runs script in a one-shot pod of the Kafka image in the client
// namespace and returns its logs once it succeeded.
func runClientPod(t *testing.T, name, script string) string {
	t.Helper()
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": clientNS},
		"spec": map[string]any{
			"restartPolicy":      "Never",
			"enableServiceLinks": false,
			"securityContext":    map[string]any{"runAsUser": 10001, "runAsGroup": 10001, "runAsNonRoot": true},
			"containers": []any{map[string]any{
				"name": "client", "image": devImage(), "imagePullPolicy": "Always",
				"command": []any{"/bin/bash", "-c", script},
				"env":     []any{map[string]any{"name": "KAFKA_HEAP_OPTS", "value": "-Xmx192m"}},
			}},
		},
	}
	body, _ := json.Marshal(pod)
	_, err := kubectlIn(string(body), "apply", "-f", "-")
	require.NoError(t, err)
	var phase string
	waitFor(t, 4*time.Minute, "client pod "+name+" to finish", func() bool {
		phase, _ = kubectl("-n", clientNS, "get", "pod", name, "-o", "jsonpath={.status.phase}")
		return phase == "Succeeded" || phase == "Failed"
	})
	logs, err := kubectl("-n", clientNS, "logs", name)
	require.NoError(t, err)
	require.Equal(t, "Succeeded", phase, "client pod logs:\n%s", logs)
	return logs
}

func podIP(t *testing.T) string {
	t.Helper()
	ip, err := kubectl("-n", ns, "get", "pod", broker, "-o", "jsonpath={.status.podIP}")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ip, "198.18."), "pod IP %q outside 198.18.0.0/15", ip)
	return ip
}

func restartCount(t *testing.T) int {
	t.Helper()
	out, err := kubectl("-n", ns, "get", "pod", broker, "-o",
		fmt.Sprintf(`jsonpath={.status.containerStatuses[?(@.name=="%s")].restartCount}`, components.ContainerName))
	if err != nil || out == "" {
		return -1
	}
	var n int
	fmt.Sscan(out, &n)
	return n
}

func dialable(ip string) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, fmt.Sprint(components.ClientPort)), 300*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func scrape(t *testing.T, ip string) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s:%d/metrics", ip, components.MetricsPort))
	require.NoError(t, err)
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

// brokerState is the BrokerState the JMX agent reports ("" when it does not answer).
func brokerState(ip string) string {
	c := http.Client{Timeout: 500 * time.Millisecond}
	resp, err := c.Get(fmt.Sprintf("http://%s:%d/metrics?name[]=%s", ip, components.MetricsPort, components.MetricBrokerState))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == components.MetricBrokerState {
			return strings.TrimSuffix(f[1], ".0")
		}
	}
	return ""
}

// killJVM SIGKILLs a broker pod's JVM from the host, as the OOM killer would.
func killJVM(t *testing.T, pod string) {
	t.Helper()
	id, err := kubectl("-n", ns, "get", "pod", pod, "-o",
		fmt.Sprintf(`jsonpath={.status.containerStatuses[?(@.name=="%s")].containerID}`, components.ContainerName))
	require.NoError(t, err)
	id = strings.TrimPrefix(id, "containerd://")
	node, err := kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.spec.nodeName}")
	require.NoError(t, err)
	sock := filepath.Join(nodeDir, node, "containerd", "containerd.sock")
	out, err := exec.Command("ctr", "--address", sock, "-n", "k8s.io", "tasks", "ls").CombinedOutput()
	require.NoError(t, err, "%s", out)
	var pid string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == id {
			pid = f[1]
		}
	}
	require.NotEmpty(t, pid, "container %s not among the runtime's tasks:\n%s", id, out)
	comm, _ := exec.Command("cat", "/proc/"+pid+"/comm").Output()
	require.Equal(t, "java", strings.TrimSpace(string(comm)), "PID %s is the broker's JVM (the entrypoint execs it)", pid)
	require.NoError(t, exec.Command("kill", "-KILL", pid).Run())
}

// pvcVolume names the PersistentVolume bound to the broker's claim.
func pvcVolume(t *testing.T) string {
	t.Helper()
	out, err := kubectl("-n", ns, "get", "pvc", components.DataVolumeName+"-"+broker, "-o", "jsonpath={.spec.volumeName}")
	require.NoError(t, err)
	require.NotEmpty(t, out)
	return out
}
