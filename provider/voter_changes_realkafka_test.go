//go:build realkafka

package provider

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	upoll "github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// quorumTopic is written throughout the quorum tests: 3 partitions, RF 3,
// min.insync.replicas 2, so one node may be down at a time.
const quorumTopic = "quorum-load"

// quorumCluster starts three prod nodes with one controller (node 0 combined,
// nodes 1 and 2 broker-only), with a dynamic quorum or the stack's static one,
// and returns them with a provider client and the topic created.
func quorumCluster(t *testing.T, dynamic bool) (*localkafka.Cluster, *kafkaadmin.Client) {
	t.Helper()
	lk, c := realClusterWithOptions(t, "prod", func(o *localkafka.Options) {
		o.Spec.Brokers, o.Spec.Controllers = 3, 1
		o.DynamicQuorum = dynamic
	})
	cl, err := kafkaadmin.New(kafkaadmin.Connection{BootstrapServers: c.addrs})
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = c.adm.CreateTopic(ctx, 3, 3, map[string]*string{"min.insync.replicas": ptr("2")}, quorumTopic)
	require.NoError(t, err)
	// A producer started before every broker shows the topic is refused
	// (UNKNOWN_TOPIC_OR_PARTITION), and the load generator does not retry it.
	require.NoError(t, cl.WaitLed(ctx, quorumTopic, 3))
	return lk, cl
}

// controllerEndpoint is node id's controller listener on the loopback cluster.
func controllerEndpoint(lk *localkafka.Cluster) func(int32) kafkaadmin.QuorumEndpoint {
	return func(id int32) kafkaadmin.QuorumEndpoint {
		return kafkaadmin.QuorumEndpoint{Listener: components.ControllerListener, Host: localkafka.Host,
			Port: uint16(lk.ControllerPort(int(id)))}
	}
}

// quorumLoad is a producer started by producing.
type quorumLoad struct {
	t     *testing.T
	lk    *localkafka.Cluster
	runID string
	stop  string // the stop file
	done  chan producedLoad
	acked ackCounter
}

// producing runs an acks=all idempotent producer of numbered records into
// quorumTopic until its finish is called, and returns once the producer has
// had records acknowledged (the step that follows runs under load). The
// producer stops with the test (t.Cleanup) if finish is never called; it
// never touches t itself.
func producing(t *testing.T, lk *localkafka.Cluster, runID string) *quorumLoad {
	t.Helper()
	l := &quorumLoad{t: t, lk: lk, runID: runID, stop: filepath.Join(t.TempDir(), "stop-"+runID),
		done: make(chan producedLoad, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sum, err := loadgen.Produce(ctx, loadgen.ProduceConfig{
			Client: loadgen.ClientConfig{Bootstrap: lk.Bootstrap()}, Topic: quorumTopic, RunID: runID,
			Duration: 10 * time.Minute, Rate: quorumRate, StopFile: l.stop, Progress: &l.acked,
			ProgressEvery: 100 * time.Millisecond})
		l.done <- producedLoad{sum, err}
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	require.NoError(t, l.acked.await(l.done, 1), "producer %s: the first acknowledgement", runID)
	return l
}

// quorumRate is the quorum producers' records per second.
const quorumRate = 200

// keepsWriting waits until the producer has had quorumChangeWindow's worth of
// records acknowledged after now: a stall a change just made caused has then
// ended, and shows in the producer's figures.
func (l *quorumLoad) keepsWriting() {
	l.t.Helper()
	n := l.acked.n.Load() + int64(quorumChangeWindow.Seconds()*quorumRate)
	require.NoError(l.t, l.acked.await(l.done, n), "producer %s: writes after the change", l.runID)
}

// finish stops the producer, verifies every acknowledged record can be read
// back, logs the figures and returns the producer's summary.
func (l *quorumLoad) finish() loadgen.Summary {
	t := l.t
	t.Helper()
	require.NoError(t, os.WriteFile(l.stop, nil, 0o644))
	var r producedLoad
	select {
	case r = <-l.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("producer %s did not stop within 2 min of its stop file", l.runID)
	}
	require.NoError(t, r.err, l.runID)
	sum := r.sum
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := loadgen.Verify(ctx, loadgen.VerifyConfig{Client: loadgen.ClientConfig{Bootstrap: l.lk.Bootstrap()},
		Topic: quorumTopic, RunID: l.runID, Acked: sum.AckedSeqRanges})
	require.NoError(t, err)
	t.Logf("FIGURE quorum producer %s: %d acknowledged, %d failed, %d lost, longest produce stall %d ms (from %s)",
		l.runID, sum.Acked, sum.Failed, res.Lost, sum.LongestStallMs, sum.StallStartedAt)
	assert.Positive(t, sum.Acked, l.runID)
	assert.Zero(t, sum.Failed, "%s: records the producer gave up on: %v", l.runID, sum.FailedErrors)
	assert.Zero(t, res.Lost, "%s: acknowledged records lost", l.runID)
	return sum
}

// quorumChangeWindow is how long a producer keeps writing after a voter
// change (counted in acknowledged records at quorumRate), so a stall the
// change caused would show in its figures.
const quorumChangeWindow = 5 * time.Second

// maxVoterChangeStallMs bounds the produce stall of adding or removing a
// voter: at most a quorum leader election (a few hundred ms on loopback; the
// bound leaves room for a loaded 2-core machine), never a broker failover.
const maxVoterChangeStallMs = 5000

// quorumStep times one step of a test and logs it as a FIGURE line.
func quorumStep(t *testing.T, what string, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	t.Logf("FIGURE quorum %s: %.1f s", what, time.Since(start).Seconds())
}

// describeQuorum describes the quorum, failing the test on error.
func describeQuorum(t *testing.T, cl *kafkaadmin.Client) kafkaadmin.Quorum {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q, err := cl.DescribeQuorum(ctx)
	require.NoError(t, err)
	return q
}

// restartNodes restarts nodes one at a time (controlled shutdown), each back
// and serving before the next goes down.
func restartNodes(t *testing.T, lk *localkafka.Cluster, ids ...int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, id := range ids {
		require.NoError(t, lk.Restart(ctx, id), "restarting node %d", id)
	}
}

// assertVoters checks the quorum's voters and observers, and that every voter
// registered its own controller endpoint.
func assertVoters(t *testing.T, lk *localkafka.Cluster, q kafkaadmin.Quorum, voters, observers []int32) {
	t.Helper()
	assert.Equal(t, voters, q.VoterIDs(), "voters: %s", q)
	assert.Equal(t, observers, q.ObserverIDs(), "observers: %s", q)
	for _, v := range q.Voters {
		assert.Equal(t, []kafkaadmin.QuorumEndpoint{controllerEndpoint(lk)(v.ID)}, v.Endpoints, "voter %d", v.ID)
		assert.NotEqual(t, [16]byte{}, v.DirectoryID, "voter %d has a directory id", v.ID)
	}
}

// quorumSettleWait bounds awaitQuorum.
const quorumSettleWait = time.Minute

// awaitQuorum waits until the quorum has a leader and exactly these voters
// and observers, then checks them with assertVoters, and returns it. A node
// is listed as an observer only once it has fetched from the leader as one
// (after it starts, restarts, or stops being a voter), and a restarted node
// may leave the quorum leaderless for a moment, so such a state is waited
// for, never read once: the cold CI read the observers [] right after a
// shrink whose removed voters had not fetched again. What a provider call
// promises on return (EnsureVoters: the voters) is checked with one read by
// the caller before this.
func awaitQuorum(t *testing.T, lk *localkafka.Cluster, cl *kafkaadmin.Client, voters, observers []int32) kafkaadmin.Quorum {
	t.Helper()
	var (
		q     kafkaadmin.Quorum
		last  error
		reads int
	)
	start := time.Now()
	err := upoll.Until(context.Background(), 100*time.Millisecond, quorumSettleWait, func(ctx context.Context) (bool, error) {
		reads++
		nq, err := cl.DescribeQuorum(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		q, last = nq, nil
		return nq.LeaderID >= 0 && slices.Equal(nq.VoterIDs(), voters) && slices.Equal(nq.ObserverIDs(), observers), nil
	})
	require.NoError(t, err, "waiting for voters %v and observers %v; last %s (%v)", voters, observers, q, last)
	if reads > 1 {
		t.Logf("quorum: voters %v, observers %v after %d reads (%s)", voters, observers, reads,
			time.Since(start).Round(10*time.Millisecond))
	}
	assertVoters(t, lk, q, voters, observers)
	return q
}

// assertVotersNow checks with one read that the quorum lists exactly these
// voters: what EnsureVoters promises when it returns.
func assertVotersNow(t *testing.T, cl *kafkaadmin.Client, voters []int32, what string) {
	t.Helper()
	q := describeQuorum(t, cl)
	assert.Equal(t, voters, q.VoterIDs(), "%s: voters at once: %s", what, q)
}

// TestRealKafkaQuorumGrowAndShrink is issue 17's quorum growth on real Kafka
// 4.1.1: a cluster started with a dynamic quorum of one controller (node 0)
// grows to three voters while a producer writes (nodes 1 and 2 restart as
// combined broker+controller nodes and EnsureVoters promotes them), survives
// the loss of its quorum leader, and shrinks back to one voter, nodes 1 and 2
// returning to broker-only; no acknowledged record is lost.
func TestRealKafkaQuorumGrowAndShrink(t *testing.T) {
	lk, cl := quorumCluster(t, true)
	ctx := context.Background()
	logf := func(line string) { t.Log(line) }
	ep := controllerEndpoint(lk)

	q := awaitQuorum(t, lk, cl, []int32{0}, []int32{1, 2})
	require.Equal(t, int16(1), q.KRaftVersion, "a new cluster formatted --standalone runs kraft.version 1")

	rollUp := producing(t, lk, "roll-up")
	// A broker-only node follows the metadata log too, but is no controller:
	// Kafka refuses to make it a voter, and the error says what to do.
	quorumStep(t, "AddVoter of a broker-only node refused", func() {
		actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		// Kafka answers REQUEST_TIMED_OUT, which AddVoter asks again for as
		// long as the observer wait, since a restarting controller answers
		// the same; 15 s is enough to show it gives up with the hint.
		err := cl.AddVoter(kafkaadmin.WithObserverWait(actx, 15*time.Second), 1, ep(1))
		require.Error(t, err)
		t.Logf("AddVoter(1) on a broker-only node: %v", err)
		assert.ErrorContains(t, err, "check that node 1 runs with process.roles=broker,controller")
	})
	assertVotersNow(t, cl, []int32{0}, "a refused AddVoter")
	awaitQuorum(t, lk, cl, []int32{0}, []int32{1, 2})
	// Raising controllers changes every node's file (the bootstrap servers
	// too), so the StatefulSet rolls every pod, highest ordinal first: node 0
	// restarts last, while it is still the only voter.
	quorumStep(t, "roll nodes 2, 1, 0 (1 and 2 now broker,controller)", func() {
		require.NoError(t, lk.SetControllers(3))
		restartNodes(t, lk, 2, 1, 0)
	})
	awaitQuorum(t, lk, cl, []int32{0}, []int32{1, 2})
	rollUp.finish()

	promote := producing(t, lk, "promote")
	// The first run is cut off after its first step (as an interrupted up
	// would be); the next run finishes the job.
	quorumStep(t, "EnsureVoters 1 -> 3 (cut after one voter, then resumed)", func() {
		cut, cancel := context.WithCancel(ctx)
		defer cancel()
		steps, err := cl.EnsureVoters(cut, []int32{0, 1, 2}, ep, func(line string) {
			logf(line)
			if strings.HasPrefix(line, "add voter 1: done") {
				cancel()
			}
		})
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, []string{"add voter 1"}, steps)
		assertVotersNow(t, cl, []int32{0, 1}, "EnsureVoters cut after adding voter 1")
		awaitQuorum(t, lk, cl, []int32{0, 1}, []int32{2})
		steps, err = cl.EnsureVoters(ctx, []int32{0, 1, 2}, ep, logf)
		require.NoError(t, err)
		assert.Equal(t, []string{"add voter 2"}, steps)
	})
	assertVotersNow(t, cl, []int32{0, 1, 2}, "EnsureVoters 1 -> 3")
	q = awaitQuorum(t, lk, cl, []int32{0, 1, 2}, []int32{})
	quorumStep(t, "EnsureVoters 3 -> 3 (nothing to do)", func() {
		steps, err := cl.EnsureVoters(ctx, []int32{2, 1, 0}, ep, logf)
		require.NoError(t, err)
		assert.Empty(t, steps, "a second run changes nothing")
	})
	promote.keepsWriting()
	assert.Less(t, promote.finish().LongestStallMs, int64(maxVoterChangeStallMs), "produce stall while voters were added")

	// The three voters really form the quorum: killing the leader's JVM
	// elects another voter.
	kill := producing(t, lk, "leader-kill")
	old := q.LeaderID
	quorumStep(t, "election after killing the quorum leader", func() {
		require.NoError(t, lk.Kill(int(old)))
		err := kafkaadmin.Poll(ctx, time.Minute, "waiting for a new quorum leader", func(ctx context.Context) (bool, error) {
			nq, err := cl.DescribeQuorumOnly(ctx)
			if err != nil {
				return false, nil
			}
			q = nq
			return nq.LeaderID >= 0 && nq.LeaderID != old, nil
		})
		require.NoError(t, err)
	})
	t.Logf("quorum leader %d killed; new leader %d, epoch %d", old, q.LeaderID, q.LeaderEpoch)
	assert.Contains(t, []int32{0, 1, 2}, q.LeaderID)
	quorumStep(t, "killed leader back", func() { restartNodes(t, lk, int(old)) })
	kill.finish()

	guard := producing(t, lk, "guard")
	// With voter 2 down, removing voter 1 would leave voters 0 and 2 with one
	// live member: no majority, no metadata commits. EnsureVoters refuses it
	// once the quorum shows node 2 stopped following.
	quorumStep(t, "a shrink that would lose the majority refused", func() {
		require.NoError(t, lk.StopNode(2))
		err := kafkaadmin.Poll(ctx, time.Minute, "waiting for voter 2 to show as lagging", func(ctx context.Context) (bool, error) {
			q, err := cl.DescribeQuorumOnly(ctx)
			if err != nil {
				return false, nil
			}
			v, ok := q.Voter(2)
			return ok && q.Lag(v) != "", nil
		})
		require.NoError(t, err)
		steps, err := cl.EnsureVoters(ctx, []int32{0, 2}, ep, logf)
		require.Error(t, err)
		t.Logf("EnsureVoters([0 2]) with node 2 down: %v", err)
		assert.ErrorContains(t, err, "remove voter 1 would leave voters [0 2] with only [0] caught up, less than a majority (2)")
		assert.Empty(t, steps)
		assertVotersNow(t, cl, []int32{0, 1, 2}, "a refused shrink")
		restartNodes(t, lk, 2)
	})
	awaitQuorum(t, lk, cl, []int32{0, 1, 2}, []int32{})
	guard.finish()

	demote := producing(t, lk, "demote")
	quorumStep(t, "EnsureVoters 3 -> 1", func() {
		steps, err := cl.EnsureVoters(ctx, []int32{0}, ep, logf)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"remove voter 1", "remove voter 2"}, steps)
	})
	assertVotersNow(t, cl, []int32{0}, "EnsureVoters 3 -> 1")
	// The removed voters are observers once they fetch again as such.
	awaitQuorum(t, lk, cl, []int32{0}, []int32{1, 2})
	demote.keepsWriting()
	assert.Less(t, demote.finish().LongestStallMs, int64(maxVoterChangeStallMs), "produce stall while voters were removed")

	rollDown := producing(t, lk, "roll-down")
	quorumStep(t, "restart nodes 1 and 2 broker-only", func() {
		require.NoError(t, lk.SetControllers(1))
		restartNodes(t, lk, 1, 2)
	})
	awaitQuorum(t, lk, cl, []int32{0}, []int32{1, 2})
	rollDown.finish()
}

// metaDirectoryID is the directory.id in node id's meta.properties.
func metaDirectoryID(t *testing.T, lk *localkafka.Cluster, id int) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(lk.Dir(), "node-"+strconv.Itoa(id), "data", "meta.properties"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(text), "\n") {
		if v, ok := strings.CutPrefix(line, "directory.id="); ok {
			return v
		}
	}
	t.Fatalf("node %d's meta.properties has no directory.id:\n%s", id, text)
	return ""
}

// TestRealKafkaQuorumMigrateStaticToDynamic is the migration of an existing
// stack on real Kafka 4.1.1: a cluster started with the stack's static quorum
// (controller.quorum.voters, kraft.version 0) refuses voter changes with an
// error that says how to migrate; kraft.version is upgraded to 1 live, with
// the static voters still configured; the nodes then restart with the
// dynamic properties (nodes 1 and 2 as controllers) and EnsureVoters grows
// the quorum to three, all while a producer writes.
func TestRealKafkaQuorumMigrateStaticToDynamic(t *testing.T) {
	lk, cl := quorumCluster(t, false)
	ctx := context.Background()
	logf := func(line string) { t.Log(line) }
	ep := controllerEndpoint(lk)

	q := describeQuorum(t, cl)
	require.Equal(t, int16(0), q.KRaftVersion, "the stack's static quorum")
	assert.Equal(t, []int32{0}, q.VoterIDs())
	assert.Equal(t, [16]byte{}, q.Voters[0].DirectoryID, "a static voter has no directory id")
	_, err := cl.EnsureVoters(ctx, []int32{0, 1, 2}, ep, logf)
	require.Error(t, err)
	assert.ErrorContains(t, err, "the KRaft quorum is static (kraft.version 0, voters [0] from controller.quorum.voters): "+
		"its voters cannot change live; migrate it first: kafka-features.sh --bootstrap-server <broker> upgrade "+
		"--feature kraft.version=1")
	require.ErrorContains(t, lk.SetControllers(3), "static quorum")

	load := producing(t, lk, "migrate")
	quorumStep(t, "kraft.version 0 -> 1", func() { require.NoError(t, cl.EnableDynamicQuorum(ctx)) })
	q = describeQuorum(t, cl)
	assert.Equal(t, int16(1), q.KRaftVersion, "EnableDynamicQuorum returns once every broker shows kraft.version 1")
	assert.Equal(t, []int32{0}, q.VoterIDs())
	// The leader records the voters' directory ids in the metadata log; wait
	// for the record rather than read once.
	dir0 := metaDirectoryID(t, lk, 0)
	err = upoll.Until(ctx, 100*time.Millisecond, quorumSettleWait, func(ctx context.Context) (bool, error) {
		nq, err := cl.DescribeQuorum(ctx)
		if err != nil {
			return false, nil
		}
		q = nq
		return len(nq.Voters) == 1 && nq.Voters[0].DirectoryIDString() == dir0, nil
	})
	assert.NoError(t, err, "the upgrade records the voter's own directory id %s; last %s", dir0, q)
	require.NoError(t, cl.EnableDynamicQuorum(ctx), "a second upgrade is a no-op")

	quorumStep(t, "restart nodes 1 and 2 as broker,controller with the dynamic properties", func() {
		require.NoError(t, lk.UseDynamicQuorum())
		require.NoError(t, lk.SetControllers(3))
		restartNodes(t, lk, 1, 2)
	})
	quorumStep(t, "EnsureVoters 1 -> 3 after the migration", func() {
		steps, err := cl.EnsureVoters(ctx, []int32{0, 1, 2}, ep, logf)
		require.NoError(t, err)
		assert.Equal(t, []string{"add voter 1", "add voter 2"}, steps)
	})
	assertVotersNow(t, cl, []int32{0, 1, 2}, "EnsureVoters after the migration")
	// Node 0 still runs with controller.quorum.voters; once the quorum has
	// three voters it restarts with the dynamic file at the cost of one
	// election.
	quorumStep(t, "restart node 0 with the dynamic properties", func() { restartNodes(t, lk, 0) })
	node0, err := os.ReadFile(filepath.Join(lk.Dir(), "node-0", "server.properties"))
	require.NoError(t, err)
	assert.NotContains(t, string(node0), components.QuorumVotersKey+"=")
	assert.Contains(t, string(node0), components.QuorumBootstrapKey+"=")
	q = awaitQuorum(t, lk, cl, []int32{0, 1, 2}, []int32{})
	for _, v := range q.Voters {
		assert.Equal(t, metaDirectoryID(t, lk, int(v.ID)), v.DirectoryIDString(), "voter %d", v.ID)
	}
	steps, err := cl.EnsureVoters(ctx, []int32{0, 1, 2}, ep, logf)
	require.NoError(t, err)
	assert.Empty(t, steps)
	load.finish()
}

// TestRealKafkaQuorumNewClusterThreeControllers is a new stack with three
// controllers and a dynamic quorum on real Kafka 4.1.1: every controller is
// formatted with the same --initial-controllers list (components.FormatArgs),
// so the cluster starts with three voters, each under the directory id
// components.DirectoryID derived, and EnsureVoters has nothing to do.
func TestRealKafkaQuorumNewClusterThreeControllers(t *testing.T) {
	lk, c := realClusterWithOptions(t, "prod", func(o *localkafka.Options) {
		o.Spec.Brokers, o.Spec.Controllers = 3, 3
		o.DynamicQuorum = true
	})
	cl, err := kafkaadmin.New(kafkaadmin.Connection{BootstrapServers: c.addrs})
	require.NoError(t, err)
	defer cl.Close()

	q := awaitQuorum(t, lk, cl, []int32{0, 1, 2}, []int32{})
	assert.Equal(t, int16(1), q.KRaftVersion)
	for _, v := range q.Voters {
		assert.Equal(t, components.DirectoryID(lk.Spec().ClusterID, int(v.ID)), v.DirectoryIDString(), "voter %d", v.ID)
		assert.Equal(t, metaDirectoryID(t, lk, int(v.ID)), v.DirectoryIDString(), "voter %d", v.ID)
	}
	steps, err := cl.EnsureVoters(context.Background(), []int32{0, 1, 2}, controllerEndpoint(lk), func(line string) { t.Log(line) })
	require.NoError(t, err)
	assert.Empty(t, steps)
}
