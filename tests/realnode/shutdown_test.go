//go:build realnode

package realnode

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
)

const (
	// metricLeaderCount is the broker's ReplicaManager LeaderCount gauge, as
	// components/monitoring.go's rules export it.
	metricLeaderCount = "kafka_server_replicamanager_leadercount"
	// Kafka's BrokerState values (org.apache.kafka.metadata.BrokerState).
	brokerStatePendingControlledShutdown = 6
	brokerStateShuttingDown              = 7
	// cleanShutdownFile is the marker Kafka's LogManager writes into each log
	// dir as the last step of a clean shutdown; at start it recovers no log of
	// a dir that has it, and deletes it.
	cleanShutdownFile = ".kafka_cleanshutdown"
)

// controlledShutdown deletes the broker pod that leads the most partitions and
// reads from state, not only from its log, that this is a controlled shutdown
// (issue 24 item 9; "under 120 s" only told it from a SIGKILL): the two other
// brokers' LeaderCount gauges come to add up to every partition while the
// broker's own agent still answers (the controller moved its leaders away
// before its process exited), the exiting broker writes Kafka's clean-shutdown
// marker on its volume (seen from the host), and the next broker on that
// volume finds it and consumes it, so it recovers no log.
func controlledShutdown(t *testing.T, ctx context.Context) {
	pods, err := brokerPods()
	require.NoError(t, err)
	id, leading, partitions := -1, 0, 0
	ips := map[int]string{}
	for i := 0; i < 3; i++ {
		p, ok := pods[components.PodName(i)]
		require.True(t, ok && p.ready, "%s Ready", components.PodName(i))
		n, err := metricValue(p.ip, metricLeaderCount)
		require.NoError(t, err, "%s's LeaderCount", components.PodName(i))
		ips[i] = p.ip
		partitions += n
		if n > leading {
			id, leading = i, n
		}
	}
	require.Positive(t, leading, "some broker leads partitions (a broker that leads none has nothing to hand over)")
	pod, ip := components.PodName(id), ips[id]
	marker := cleanShutdownMarker(t, id)
	_, err = os.Stat(marker)
	require.ErrorIs(t, err, fs.ErrNotExist, "the running broker consumed the marker of its last shutdown when it started")

	logs := followLogs(t, ctx, pod)

	// Each round reads the broker's own agent (its process answers while it
	// runs), and the LeaderCount of the two others: once they lead every
	// partition the three led before, this one leads none. That stays true
	// until it is back, so a round cannot miss it as it could miss the
	// broker's own gauge at 0, which lives only until its ReplicaManager shuts
	// down.
	type sample struct {
		at                   time.Time
		answered             bool
		leaders, state       float64
		hasLeaders, hasState bool
		others               int // leaders on the two others; -1 if one did not answer
	}
	var mu sync.Mutex
	var samples []sample
	var markerAt time.Time
	var markerBody string
	watch := startSampler(t, ctx, 50*time.Millisecond, func(now time.Time) {
		got, err := scrapeMetrics(ip, time.Second, metricLeaderCount, components.MetricBrokerState)
		s := sample{at: now, answered: err == nil}
		if err == nil {
			s.leaders, s.hasLeaders = got[metricLeaderCount]
			s.state, s.hasState = got[components.MetricBrokerState]
		}
		for i, other := range ips {
			if i == id || s.others < 0 {
				continue
			}
			if n, err := metricValue(other, metricLeaderCount); err == nil {
				s.others += n
			} else {
				s.others = -1
			}
		}
		body, ferr := os.ReadFile(marker)
		mu.Lock()
		defer mu.Unlock()
		samples = append(samples, s)
		if ferr == nil && markerAt.IsZero() {
			markerAt, markerBody = now, strings.TrimSpace(string(body))
		}
	})
	start := time.Now()
	_, err = kubectl("-n", ns, "delete", "pod", pod, "--wait=true", "--timeout=150s")
	require.NoError(t, err)
	took := time.Since(start)
	watch.stop()
	text := logs.wait(time.Minute) // the stream ends with the container

	mu.Lock()
	defer mu.Unlock()
	if markerAt.IsZero() { // written in the last moments: the next broker is seconds from starting
		if body, err := os.ReadFile(marker); err == nil {
			markerAt, markerBody = time.Now(), strings.TrimSpace(string(body))
		}
	}
	// handedOver: the first round after the delete in which the others led
	// every partition; lastAnswer: the broker's last answer; goneAt: the first
	// unanswered round after it (a single scrape may time out before that).
	var handedOver, ownZero, lastAnswer, goneAt time.Time
	var ownZeroState float64
	var timeline []string
	for _, s := range samples {
		timeline = append(timeline, fmt.Sprintf("%.1fs:%v/%v/%v/%d", s.at.Sub(start).Seconds(), s.answered, s.leaders, s.state, s.others))
		if s.at.Before(start) {
			continue
		}
		if s.others == partitions && handedOver.IsZero() {
			handedOver = s.at
		}
		if !s.answered {
			if !lastAnswer.IsZero() && goneAt.IsZero() {
				goneAt = s.at
			}
			continue
		}
		lastAnswer, goneAt = s.at, time.Time{}
		if s.hasLeaders && s.leaders == 0 && ownZero.IsZero() {
			ownZero, ownZeroState = s.at, s.state
		}
	}
	require.NotEmpty(t, samples, "the shutdown was sampled")
	diag := fmt.Sprintf("rounds (after the delete: answered/own leaders/state/others' leaders of %d): %s", partitions, strings.Join(timeline, " "))
	require.False(t, handedOver.IsZero(), "the two other brokers came to lead all %d partitions; %s", partitions, diag)
	require.True(t, lastAnswer.After(handedOver),
		"%s's process still answered after its leadership had moved (handed over %s, last answer %s); %s", pod, handedOver, lastAnswer, diag)
	if !ownZero.IsZero() {
		assert.Contains(t, []float64{brokerStatePendingControlledShutdown, brokerStateShuttingDown}, ownZeroState,
			"its own LeaderCount fell to 0 in controlled shutdown (BrokerState 6 or 7); %s", diag)
	}
	require.False(t, markerAt.IsZero(), "the exiting broker wrote Kafka's clean-shutdown marker %s", marker)

	// The log says the same, as the broker and the controller tell it.
	assert.Contains(t, text, "Beginning controlled shutdown", "the broker asked the controller to move its leaders away")
	assert.Contains(t, text, "The controller has asked us to exit controlled shutdown", "the controller let it go")
	assert.NotContains(t, text, "Timed out waiting for the controller to approve controlled shutdown")
	goneAfter := "(not seen: the pod went first)"
	if !goneAt.IsZero() {
		goneAfter = fmt.Sprintf("%.1fs", goneAt.Sub(start).Seconds())
	}
	ownZeroAfter := "(not seen between two rounds)"
	if !ownZero.IsZero() {
		ownZeroAfter = fmt.Sprintf("%.1fs (BrokerState %v)", ownZero.Sub(start).Seconds(), ownZeroState)
	}
	t.Logf("FIGURE controlled shutdown of %s (leading %d of %d partitions): the others led all after %.1fs, its own LeaderCount 0 after %s; its agent last answered after %.1fs and was gone after %s; clean-shutdown marker after %.1fs (%s); pod delete -> gone %.1fs; %d rounds",
		pod, leading, partitions, handedOver.Sub(start).Seconds(), ownZeroAfter, lastAnswer.Sub(start).Seconds(), goneAfter,
		markerAt.Sub(start).Seconds(), markerBody, took.Seconds(), len(samples))

	waitFor(t, 4*time.Minute, pod+" Ready again", func() bool { return podReady(ns, pod) })
	_, err = os.Stat(marker)
	require.ErrorIs(t, err, fs.ErrNotExist, "the restarted broker found the marker and consumed it: it loaded its logs as cleanly shut down")
	started, err := kubectl("-n", ns, "logs", pod, "-c", components.ContainerName)
	require.NoError(t, err)
	assert.Regexp(t, `Skipping recovery of \d+ logs from \S+ since clean shutdown file was found`, started)
	assert.NotRegexp(t, `since no clean shutdown file was found`, started, "no log recovery after a controlled shutdown")
}

// cleanShutdownMarker is where broker id's clean-shutdown marker lands, on
// the host: its data volume is a local PersistentVolume (scripts/node.sh).
func cleanShutdownMarker(t *testing.T, id int) string {
	t.Helper()
	pv, err := kubectl("-n", ns, "get", "pvc", components.DataPVCName(id), "-o", "jsonpath={.spec.volumeName}")
	require.NoError(t, err)
	require.NotEmpty(t, pv)
	dir, err := kubectl("get", "pv", pv, "-o", "jsonpath={.spec.local.path}")
	require.NoError(t, err)
	require.NotEmpty(t, dir, "PV %s is a local volume", pv)
	logDir := filepath.Join(dir, strings.TrimPrefix(components.LogDirPath, components.DataMountPath))
	_, err = os.Stat(filepath.Join(logDir, "meta.properties"))
	require.NoError(t, err, "the broker's log dir on the host")
	return filepath.Join(logDir, cleanShutdownFile)
}

// logStream is a `kubectl logs -f` of a broker container.
type logStream struct {
	mu   sync.Mutex
	buf  strings.Builder
	done chan struct{}
}

// followLogs streams a broker container's log from its last line on, and
// returns once the stream delivered its first line (issue 24 item 4: it was
// given 2 s to attach). The stream is stopped when the test ends.
func followLogs(t *testing.T, ctx context.Context, pod string) *logStream {
	t.Helper()
	cmd := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kubeconfig, "-n", ns, "logs", "-f", pod,
		"-c", components.ContainerName, "--tail=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	ls := &logStream{done: make(chan struct{})}
	first := make(chan struct{})
	go func() {
		defer close(ls.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 0; sc.Scan(); n++ {
			ls.mu.Lock()
			ls.buf.WriteString(sc.Text() + "\n")
			ls.mu.Unlock()
			if n == 0 {
				close(first)
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-ls.done
	})
	select {
	case <-first:
	case <-ls.done:
		require.Fail(t, "kubectl logs -f ended before its first line")
	case <-time.After(time.Minute):
		require.Fail(t, "kubectl logs -f gave no line in a minute")
	}
	return ls
}

// wait returns what the stream delivered once it ended (the container
// stopped), or after timeout.
func (ls *logStream) wait(timeout time.Duration) string {
	select {
	case <-ls.done:
	case <-time.After(timeout):
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.buf.String()
}
