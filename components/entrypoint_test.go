package components

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// runReady runs ReadyScriptText with bash and the given environment.
func runReady(t *testing.T, env ...string) (int, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), ReadyScript)
	require.NoError(t, os.WriteFile(f, []byte(ReadyScriptText), 0o555))
	cmd := exec.Command("bash", f)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err)
	return 0, string(out)
}

// The readiness probe is ready only when the broker reports RUNNING: an open metrics
// port that reports another state (RECOVERY = 2 while it catches up) or no state is
// not ready. Kafka's own reply format ("3.0") is what the agent serves.
func TestReadyScriptWaitsForBrokerStateRunning(t *testing.T) {
	state, labels := "", ""
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		fmt.Fprintf(w, "# TYPE %s gauge\n", MetricBrokerState)
		if state != "" {
			fmt.Fprintf(w, "%s%s %s\n", MetricBrokerState, labels, state)
		}
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	for _, c := range []struct {
		state string
		code  int
	}{{"3.0", 0}, {"3", 0}, {"2.0", 1}, {"1.0", 1}, {"", 1}, {"30.0", 1}} {
		state = c.state
		code, out := runReady(t, fmt.Sprintf("METRICS_PORT=%d", port))
		assert.Equal(t, c.code, code, "state %q: %s", c.state, out)
	}
	assert.Contains(t, query, MetricBrokerState, "asks the agent for the one series only")
	labels = `{cluster="umbrella"}` // an agent configured with labels on the series
	for _, c := range []struct {
		state string
		code  int
	}{{"3.0", 0}, {"2.0", 1}} {
		state = c.state
		code, out := runReady(t, fmt.Sprintf("METRICS_PORT=%d", port))
		assert.Equal(t, c.code, code, "labelled, state %q: %s", c.state, out)
	}

	srv.Close()
	code, _ := runReady(t, fmt.Sprintf("METRICS_PORT=%d", port))
	assert.Equal(t, 1, code, "nothing listening: not ready")
}

// Without the JMX agent the probe needs an ApiVersions answer from the client
// listener: a Kafka protocol server (kfake) is ready, a port that accepts and says
// nothing is not.
func TestReadyScriptWithoutAgentNeedsAnApiVersionsAnswer(t *testing.T) {
	kf, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	defer kf.Close()
	_, port, err := net.SplitHostPort(kf.ListenAddrs()[0])
	require.NoError(t, err)
	code, out := runReady(t, "READY_CLIENT_PORT="+port)
	assert.Equal(t, 0, code, out)

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			c.Close() // accepts, then hangs up without a reply
		}
	}()
	code, out = runReady(t, fmt.Sprintf("READY_CLIENT_PORT=%d", silent.Addr().(*net.TCPAddr).Port))
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "did not answer ApiVersions")
}

func TestStartScriptSurvivesRestartsAndLogsToStdout(t *testing.T) {
	assert.Contains(t, StartScriptText, `cp -f "$src" "$conf"`, "a restart replaces the read-only copy the last start left")
	assert.Contains(t, StartScriptText, `export EXTRA_ARGS="-name kafkaServer"`, "no -loggc: no GC log file in the pod")
	assert.Contains(t, StartScriptText, "-Dlog4j2.configurationFile="+ConfigMountPath+"/"+Log4jFile)
	assert.NotContains(t, Log4jProperties, "RollingFile", "Kafka logs to stdout only")
	assert.NotContains(t, Log4jProperties, "File", "Kafka logs to stdout only")
	for _, key := range []string{StartScript, ReadyScript, PreStopScript, Log4jFile} {
		assert.Contains(t, ConfigMapData(spec(t, 1, 1)), key)
	}
}

func TestProbesAndVolumesForARealKubelet(t *testing.T) {
	s := spec(t, 1, 1)
	c := container(t, s)
	ready := c.ReadinessProbe.(*corev1.ProbeArgs)
	assert.Nil(t, ready.TcpSocket, "an open port is not a serving broker")
	assert.Equal(t, pulumi.StringArray{pulumi.String("/bin/bash"), pulumi.String("/opt/umbrella/config/ready.sh")},
		ready.Exec.(*corev1.ExecActionArgs).Command)

	ps := podSpec(t, s)
	assert.Equal(t, pulumi.String("OnRootMismatch"), ps.SecurityContext.(*corev1.PodSecurityContextArgs).FsGroupChangePolicy)
	limits := map[string]string{}
	for _, v := range ps.Volumes.(corev1.VolumeArray) {
		va := v.(*corev1.VolumeArgs)
		if va.EmptyDir != nil {
			limits[string(va.Name.(pulumi.String))] = string(va.EmptyDir.(*corev1.EmptyDirVolumeSourceArgs).SizeLimit.(pulumi.String))
		}
	}
	assert.Equal(t, map[string]string{"run": "1Mi", "kafka-logs": "64Mi", "tmp": "256Mi", "jmx-agent": "16Mi"}, limits,
		"every emptyDir is capped well under the container's ephemeral-storage limit")
	init := ps.InitContainers.(corev1.ContainerArray)[0].(*corev1.ContainerArgs)
	assert.Equal(t, "cp -f", strings.Join([]string{string(init.Command.(pulumi.StringArray)[0].(pulumi.String)), string(init.Command.(pulumi.StringArray)[1].(pulumi.String))}, " "),
		"a re-run init container replaces the read-only jar it copied before")

	off := spec(t, 1, 1, func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{Enabled: ptr(false)} })
	assert.NotNil(t, container(t, off).ReadinessProbe.(*corev1.ProbeArgs).Exec, "without the agent the script asks the client listener")
}

// runPreStop runs PreStopScriptText for s with a fake kafka-topics.sh whose
// n-th call prints outs[n-1] (the last one from then on) and exits with rc.
// It returns what the script logged and each call's arguments.
func runPreStop(t *testing.T, s *config.Spec, wait string, rc int, outs ...string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	for i, out := range outs {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("out.%d", i+1)), []byte(out), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "out.last"), []byte(outs[len(outs)-1]), 0o644))
	fake := fmt.Sprintf(`#!/bin/bash
echo "$*" >>%[1]s/calls
echo "$KAFKA_JVM_PERFORMANCE_OPTS" >%[1]s/jvm
f=%[1]s/out.$(wc -l <%[1]s/calls)
[[ -f $f ]] || f=%[1]s/out.last
cat "$f"
exit %[2]d
`, dir, rc)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kafka-topics.sh"), []byte(fake), 0o755))
	script := filepath.Join(dir, PreStopScript)
	require.NoError(t, os.WriteFile(script, []byte(PreStopScriptText(s)), 0o555))
	cmd := exec.Command("bash", script)
	cmd.Env = append(os.Environ(), "KAFKA_BIN="+dir, "PRESTOP_LOG="+filepath.Join(dir, "log"), "PRESTOP_SYNC_WAIT="+wait)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the hook never fails a pod's stop: %s", out)
	log, err := os.ReadFile(filepath.Join(dir, "log"))
	require.NoError(t, err)
	calls, err := os.ReadFile(filepath.Join(dir, "calls"))
	require.NoError(t, err)
	jvm, err := os.ReadFile(filepath.Join(dir, "jvm"))
	require.NoError(t, err)
	assert.Equal(t, ToolJVMOpts+"\n", string(jvm), "the tool's JVM starts with one JIT tier and the serial collector")
	return string(log), strings.Split(strings.TrimSpace(string(calls)), "\n")
}

const underReplicated = "\tTopic: raw-messages\tTopicId: x\tPartition: 0\tLeader: 0\tReplicas: 0,1,2\tIsr: 0,2\n" +
	"\tTopic: raw-messages\tTopicId: x\tPartition: 1\tLeader: 2\tReplicas: 2,0,1\tIsr: 2,0\n"

// The pre-stop hook holds a broker's stop until no partition is under-replicated,
// asking its own broker as the tools in the pod do, and gives up (stopping) when the
// broker cannot answer or the wait is over.
func TestPreStopWaitsForEveryPartitionInSync(t *testing.T) {
	log, calls := runPreStop(t, secureSpec(t, 3, 3), "60", 0, underReplicated, underReplicated, "")
	assert.Regexp(t, `^\[pre-stop\] every partition in sync after \d+ s: stopping\n$`, log)
	require.Len(t, calls, 3, "asked until in sync")
	assert.Equal(t, fmt.Sprintf("--bootstrap-server localhost:%d --command-config %s/%s --describe --under-replicated-partitions",
		InternalPort, ConfigMountPath, AdminPropertiesFile), calls[0], "secure: the INTERNAL listener as the broker principal")

	_, calls = runPreStop(t, spec(t, 1, 1), "60", 0, "")
	assert.Equal(t, []string{fmt.Sprintf("--bootstrap-server localhost:%d --describe --under-replicated-partitions", ClientPort)}, calls,
		"plaintext: the client listener; in sync at once")

	log, calls = runPreStop(t, spec(t, 3, 3), "60", 1, "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment.\n")
	assert.Equal(t, "[pre-stop] the broker did not list its under-replicated partitions (org.apache.kafka.common.errors.TimeoutException: "+
		"Timed out waiting for a node assignment.): stopping without waiting\n", log)
	assert.Len(t, calls, 1)

	// A 3 s wait: the second call comes after the first 2 s sleep unless the
	// first took 2 s or more ($SECONDS counts whole seconds; with a 1 s wait a
	// loaded machine's first call could already end it), and the fourth never
	// comes (two sleeps are 4 s).
	log, calls = runPreStop(t, spec(t, 3, 3), "3", 0, underReplicated)
	assert.Regexp(t, `^\[pre-stop\] 2 partitions still under-replicated after \d+ s: stopping anyway\n$`, log)
	assert.GreaterOrEqual(t, len(calls), 2, "asked again after the first 2 s sleep")
	assert.LessOrEqual(t, len(calls), 3, "gave up once the wait was over")
}
