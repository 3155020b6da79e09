//go:build compose

// Package compose is the plan's first validation item run for real: a
// developer's `docker compose up` on infrastructure/kafka/docker-compose.yml,
// as shipped, on a real Docker engine (scripts/docker.sh) with the real Compose
// v2 plugin and the project's own Kafka image, which speaks apache/kafka's
// environment interface (internal/kafkaenv). Only the image is swapped, through
// the file's own KAFKA_IMAGE variable.
//
//	go test -count=1 -tags compose -v ./tests/compose/   (as root; scripts/test.sh runs it)
package compose

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
)

const (
	root        = "../.."
	composeFile = root + "/infrastructure/kafka/docker-compose.yml"
	project     = "umbrella-compose-test"
	badProject  = "umbrella-compose-bad"
	hostBroker  = "localhost:19092"
	// records each producer writes, acks=all
	records = 2000
)

// engine runs docker and docker compose against the project's own engine.
type engine struct {
	env      []string
	kafka    string // KAFKA_IMAGE
	loadgen  string
	network  string
	upToInit time.Duration
}

func figure(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE "+format, args...)
}

func startEngine(t *testing.T) *engine {
	t.Helper()
	require.Equal(t, 0, os.Geteuid(), "the compose story runs dockerd: run it as root (scripts/test.sh does)")
	start := time.Now()
	before := hostNetwork(t)
	// Stopped even when start fails half-way: stop removes whatever start got to, and the
	// machine's forwarding is as it was (the real node tier's pods depend on it).
	t.Cleanup(func() {
		out, err := exec.Command("bash", root+"/scripts/docker.sh", "stop").CombinedOutput()
		assert.NoError(t, err, "scripts/docker.sh stop:\n%s", out)
		assert.Equal(t, before, hostNetwork(t), "iptables chains, bridges and forwarding after scripts/docker.sh stop")
	})
	out, err := exec.Command("bash", root+"/scripts/docker.sh", "start").CombinedOutput()
	require.NoError(t, err, "scripts/docker.sh start:\n%s", out)
	figure(t, "compose engine start and image load: %.1f s", time.Since(start).Seconds())
	out, err = exec.Command("bash", root+"/scripts/docker.sh", "env").Output()
	require.NoError(t, err)
	e := &engine{env: os.Environ(), network: project + "_default"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kv := strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(kv, "=")
		require.True(t, ok, "docker.sh env printed %q", line)
		e.env = append(e.env, k+"="+v)
		switch k {
		case "KAFKA_IMAGE":
			e.kafka = v
		case "UMBRELLA_LOADGEN_IMAGE":
			e.loadgen = v
		}
	}
	require.NotEmpty(t, e.kafka)
	require.NotEmpty(t, e.loadgen)
	t.Logf("engine: %s", e.must(t, time.Minute, "docker", "version", "--format", "engine {{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}"))
	t.Logf("compose: %s", e.must(t, time.Minute, "docker", "compose", "version", "--short"))
	return e
}

// hostNetwork is what dockerd changes on the host: the FORWARD policy, IPv4
// forwarding, DOCKER* chains and br-* bridges.
func hostNetwork(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"filter", "nat"} {
		out, err := exec.Command("iptables", "-t", table, "-S").Output()
		require.NoError(t, err)
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "-P FORWARD") || strings.Contains(l, "DOCKER") || strings.Contains(l, "br-") {
				b.WriteString(table + " " + l + "\n")
			}
		}
	}
	fwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	require.NoError(t, err)
	b.WriteString("ip_forward " + string(fwd))
	links, err := exec.Command("ip", "-o", "link", "show").Output()
	require.NoError(t, err)
	for _, l := range strings.Split(string(links), "\n") {
		if f := strings.Fields(l); len(f) > 1 && strings.HasPrefix(f[1], "br-") {
			b.WriteString("link " + f[1] + "\n")
		}
	}
	return b.String()
}

// run runs a command with the engine's environment and returns its combined output.
func (e *engine) run(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.env
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// stdout runs a command and returns its standard output (stderr goes to the test log on failure).
func (e *engine) stdout(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = e.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %s:\n%s%s", name, strings.Join(args, " "), out, stderr.String())
	return strings.TrimSpace(string(out))
}

func (e *engine) must(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	out, err := e.run(timeout, name, args...)
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return out
}

// compose runs `docker compose -p P -f FILE args...`.
func (e *engine) compose(t *testing.T, p, file string, args ...string) string {
	t.Helper()
	return e.must(t, 5*time.Minute, "docker", append([]string{"compose", "-p", p, "-f", file}, args...)...)
}

// waitExit waits for a service's container to stop and returns its exit code.
func (e *engine) waitExit(t *testing.T, p, file, service string) int {
	t.Helper()
	id := e.compose(t, p, file, "ps", "-aq", service)
	require.NotEmpty(t, id, "no %s container", service)
	code := e.must(t, 4*time.Minute, "docker", "wait", id)
	var n int
	_, err := fmt.Sscanf(code, "%d", &n)
	require.NoError(t, err, "docker wait printed %q", code)
	return n
}

// topic is one line of kafka-topics.sh --describe.
type topic struct{ ID, Partitions, RF string }

// describe reads the topics back with Kafka's own kafka-topics.sh, in a
// container on the compose network, against kafka:9092.
func (e *engine) describe(t *testing.T) map[string]topic {
	t.Helper()
	out := e.compose(t, project, composeFile, "run", "--rm", "--no-deps", "-T", "--entrypoint", "/opt/kafka/bin/kafka-topics.sh",
		"kafka-init", "--bootstrap-server", "kafka:9092", "--describe")
	topics := map[string]topic{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "Topic:") {
			continue
		}
		f := map[string]string{}
		for _, field := range strings.Split(line, "\t") {
			if k, v, ok := strings.Cut(field, ": "); ok {
				f[k] = strings.TrimSpace(v)
			}
		}
		topics[f["Topic"]] = topic{ID: f["TopicId"], Partitions: f["PartitionCount"], RF: f["ReplicationFactor"]}
	}
	return topics
}

// waitServing waits until the broker answers a metadata request on the host
// port.
func waitServing(t *testing.T) {
	t.Helper()
	start := time.Now()
	for {
		cl, err := kgo.NewClient(kgo.SeedBrokers(hostBroker), kgo.DialTimeout(2*time.Second))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err = kadm.NewClient(cl).ListTopics(ctx)
		cancel()
		cl.Close()
		if err == nil {
			return
		}
		require.Less(t, time.Since(start), 2*time.Minute, "the broker did not serve on %s: %v", hostBroker, err)
		time.Sleep(500 * time.Millisecond)
	}
}

// run is one producer's records, to check later that they are all still there.
type run struct {
	topic, id string
	acked     loadgen.Ranges
}

// verifyFromHost reads a run back through localhost:19092.
func verifyFromHost(t *testing.T, r run) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := loadgen.Verify(ctx, loadgen.VerifyConfig{Client: loadgen.ClientConfig{Bootstrap: []string{hostBroker}},
		Topic: r.topic, RunID: r.id, Acked: r.acked})
	require.NoError(t, err)
	assert.True(t, res.OK(), "run %s in %s: %+v", r.id, r.topic, res)
	assert.Equal(t, int64(records), res.Found, "run %s in %s", r.id, r.topic)
}

func TestComposeStory(t *testing.T) {
	e := startEngine(t)
	// A run stopped half-way leaves its projects behind: start clean.
	e.compose(t, project, composeFile, "down", "-v", "--remove-orphans")
	t.Cleanup(func() {
		_, _ = e.run(2*time.Minute, "docker", "compose", "-p", project, "-f", composeFile, "down", "-v")
	})

	var first map[string]topic
	var host, net run
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"up creates the seven platform topics", func(t *testing.T) { first = upCreatesTopics(t, e) }},
		{"the port is published on 127.0.0.1 only", func(t *testing.T) {
			assert.Equal(t, "127.0.0.1:19092", e.compose(t, project, composeFile, "port", "kafka", "19092"))
		}},
		{"a host program produces and consumes through localhost:19092", func(t *testing.T) { host = produceFromHost(t) }},
		{"a container produces and consumes through kafka:9092", func(t *testing.T) { net = produceInNetwork(t, e) }},
		{"restart keeps the records", func(t *testing.T) { restartKeeps(t, e, host, net) }},
		{"down and up keep the records; kafka-init a second time changes nothing", func(t *testing.T) { downUpKeeps(t, e, first, host, net) }},
		{"a changed CLUSTER_ID on the volume is refused by name, and changing it back keeps the data", func(t *testing.T) {
			changedClusterID(t, e, host)
		}},
		{"down -v removes the volume", func(t *testing.T) { downRemovesVolume(t, e) }},
		{"bad edits fail naming the variable", func(t *testing.T) { badEdits(t, e) }},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			t.FailNow()
		}
	}
}

func upCreatesTopics(t *testing.T, e *engine) map[string]topic {
	start := time.Now()
	e.compose(t, project, composeFile, "up", "-d", "--pull", "never")
	require.Equal(t, 0, e.waitExit(t, project, composeFile, "kafka-init"), "kafka-init:\n%s",
		e.compose(t, project, composeFile, "logs", "kafka-init"))
	e.upToInit = time.Since(start)
	figure(t, "compose up -> seven topics created (kafka-init exit 0): %.1f s", e.upToInit.Seconds())
	logs := e.compose(t, project, composeFile, "logs", "kafka")
	assert.Contains(t, logs, "[kafka-docker] formatting storage for cluster MkU3OEVBNTcwNTJENDM2Qk (first start)")

	topics := e.describe(t)
	var want, got []string
	for _, it := range config.Inventory {
		want = append(want, it.Name)
	}
	for name, tp := range topics {
		got = append(got, name)
		assert.Equal(t, topic{ID: tp.ID, Partitions: "1", RF: "1"}, tp, name)
		assert.NotEmpty(t, tp.ID, name)
	}
	sort.Strings(want)
	sort.Strings(got)
	assert.Equal(t, want, got, "kafka-topics.sh --describe against kafka:9092")
	return topics
}

func produceFromHost(t *testing.T) run {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := run{topic: "raw-messages", id: fmt.Sprintf("host-%d", time.Now().UnixNano())}
	start := time.Now()
	sum, err := loadgen.Produce(ctx, loadgen.ProduceConfig{Client: loadgen.ClientConfig{Bootstrap: []string{hostBroker}},
		Topic: r.topic, RunID: r.id, Count: records})
	require.NoError(t, err)
	require.True(t, sum.OK(), "%+v", sum)
	require.Equal(t, int64(records), sum.Acked)
	figure(t, "host producer via %s: %d records acks=all in %.2f s", hostBroker, sum.Acked, time.Since(start).Seconds())
	r.acked = sum.AckedSeqRanges
	verifyFromHost(t, r)
	return r
}

func produceInNetwork(t *testing.T, e *engine) run {
	r := run{topic: "parsed-messages", id: fmt.Sprintf("net-%d", time.Now().UnixNano())}
	out := e.stdout(t, 3*time.Minute, "docker", "run", "--rm", "--pull", "never", "--network", e.network, e.loadgen,
		"produce", "--bootstrap", "kafka:9092", "--topic", r.topic, "--run-id", r.id, "--count", fmt.Sprint(records))
	var sum loadgen.Summary
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &sum), out)
	require.True(t, sum.OK(), "%+v", sum)
	require.Equal(t, int64(records), sum.Acked)
	r.acked = sum.AckedSeqRanges
	acked, err := json.Marshal(sum)
	require.NoError(t, err)
	out = e.stdout(t, 3*time.Minute, "docker", "run", "--rm", "--pull", "never", "--network", e.network, e.loadgen,
		"verify", "--bootstrap", "kafka:9092", "--topic", r.topic, "--run-id", r.id, "--acked-from", string(acked))
	var res loadgen.VerifyResult
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &res), out)
	assert.True(t, res.OK(), "%+v", res)
	assert.Equal(t, int64(records), res.Found)
	return r
}

func restartKeeps(t *testing.T, e *engine, runs ...run) {
	start := time.Now()
	e.compose(t, project, composeFile, "restart", "kafka")
	waitServing(t)
	figure(t, "compose restart kafka -> serving on %s: %.1f s", hostBroker, time.Since(start).Seconds())
	logs := e.compose(t, project, composeFile, "logs", "kafka")
	assert.Contains(t, logs, "[kafka-docker] storage already formatted for cluster MkU3OEVBNTcwNTJENDM2Qk: keeping it")
	for _, r := range runs {
		verifyFromHost(t, r)
	}
}

func downUpKeeps(t *testing.T, e *engine, first map[string]topic, runs ...run) {
	e.compose(t, project, composeFile, "down")
	start := time.Now()
	e.compose(t, project, composeFile, "up", "-d", "--pull", "never")
	require.Equal(t, 0, e.waitExit(t, project, composeFile, "kafka-init"), "kafka-init, second run:\n%s",
		e.compose(t, project, composeFile, "logs", "kafka-init"))
	figure(t, "compose down + up -> kafka-init done again: %.1f s", time.Since(start).Seconds())
	assert.Equal(t, first, e.describe(t), "the same topics, ids, partitions and replication after kafka-init's second run")
	for _, r := range runs {
		verifyFromHost(t, r)
	}
}

// editedCompose writes the shipped compose file with one line replaced into a
// folder of its own (with the scripts it mounts), as a developer's edit.
func editedCompose(t *testing.T, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(composeFile)
	require.NoError(t, err)
	require.Contains(t, string(b), old, "the compose file changed: update this edit")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(strings.Replace(string(b), old, new, 1)), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(mustAbs(t, root), "infrastructure/kafka/scripts"), filepath.Join(dir, "scripts")))
	return filepath.Join(dir, "docker-compose.yml")
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}

// failsNaming starts the kafka service of file and checks that it stops at our
// translation step with want, before any Java runs.
func failsNaming(t *testing.T, e *engine, p, file, want string) {
	t.Helper()
	e.compose(t, p, file, "up", "-d", "--pull", "never", "kafka")
	assert.Equal(t, 1, e.waitExit(t, p, file, "kafka"))
	logs := e.compose(t, p, file, "logs", "--no-log-prefix", "kafka")
	assert.Contains(t, logs, "[kafka-docker] ERROR: "+want)
	assert.NotContains(t, logs, "Exception")
	assert.NotContains(t, logs, "\tat ")
	t.Logf("%s", lastLine(logs))
}

func changedClusterID(t *testing.T, e *engine, keep run) {
	file := editedCompose(t, "CLUSTER_ID: MkU3OEVBNTcwNTJENDM2Qk", "CLUSTER_ID: 5BlkQlAaBVX6rb9uzmmt7Q")
	failsNaming(t, e, project, file,
		`CLUSTER_ID = "5BlkQlAaBVX6rb9uzmmt7Q": the data in /var/lib/kafka/data belongs to cluster "MkU3OEVBNTcwNTJENDM2Qk" (its meta.properties), and Kafka refuses to start on another cluster's data; set CLUSTER_ID back to MkU3OEVBNTcwNTJENDM2Qk to keep the data, or remove the volume to start empty (`+"`docker compose down -v`)")
	e.compose(t, project, composeFile, "up", "-d", "--pull", "never", "kafka")
	waitServing(t)
	verifyFromHost(t, keep)
}

func downRemovesVolume(t *testing.T, e *engine) {
	volume := project + "_kafka-data"
	e.must(t, time.Minute, "docker", "volume", "inspect", volume)
	e.compose(t, project, composeFile, "down", "-v")
	out, err := e.run(time.Minute, "docker", "volume", "inspect", volume)
	assert.Error(t, err, "volume %s still exists after down -v: %s", volume, out)
	assert.Contains(t, out, "no such volume")
}

func badEdits(t *testing.T, e *engine) {
	for _, c := range []struct{ name, old, new, want string }{
		{"the EXTERNAL listener removed from KAFKA_ADVERTISED_LISTENERS",
			"KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://kafka:9092,EXTERNAL://localhost:19092", "KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://kafka:9092",
			`KAFKA_ADVERTISED_LISTENERS = "PLAINTEXT://kafka:9092": does not advertise listener EXTERNAL`},
		{"a CLUSTER_ID that is not 22 base64url characters",
			"CLUSTER_ID: MkU3OEVBNTcwNTJENDM2Qk", "CLUSTER_ID: my-laptop-cluster",
			`CLUSTER_ID = "my-laptop-cluster": not a Kafka cluster id (22 characters of [A-Za-z0-9_-] encoding 16 bytes, not all zero)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := editedCompose(t, c.old, c.new)
			defer e.compose(t, badProject, file, "down", "-v")
			failsNaming(t, e, badProject, file, c.want)
		})
	}
}

func lastLine(s string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	return last
}
