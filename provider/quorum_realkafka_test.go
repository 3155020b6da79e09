//go:build realkafka

package provider

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// quorumTopic is written throughout the quorum tests: 3 partitions, RF 3,
// min.insync.replicas 2, so one node may be down at a time.
const quorumTopic = "quorum-load"

// quorumCluster starts three prod nodes with one controller (node 0 combined,
// nodes 1 and 2 broker-only), with a dynamic quorum or the stack's static one,
// and returns them with a provider client and the topic created.
func quorumCluster(t *testing.T, dynamic bool) (*localkafka.Cluster, *kafkaClient) {
	t.Helper()
	lk, c := realClusterWithOptions(t, "prod", func(o *localkafka.Options) {
		o.Spec.Brokers, o.Spec.Controllers = 3, 1
		o.DynamicQuorum = dynamic
	})
	cl, err := newKafkaClient(Config{BootstrapServers: c.addrs}, nil)
	require.NoError(t, err)
	t.Cleanup(cl.raw.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = c.adm.CreateTopic(ctx, 3, 3, map[string]*string{"min.insync.replicas": ptr("2")}, quorumTopic)
	require.NoError(t, err)
	// A producer started before every broker shows the topic is refused
	// (UNKNOWN_TOPIC_OR_PARTITION), and the load generator does not retry it.
	require.NoError(t, cl.waitLed(ctx, quorumTopic, 3))
	return lk, cl
}

// controllerEndpoint is node id's controller listener on the loopback cluster.
func controllerEndpoint(lk *localkafka.Cluster) func(int32) QuorumEndpoint {
	return func(id int32) QuorumEndpoint {
		return QuorumEndpoint{Listener: components.ControllerListener, Host: localkafka.Host,
			Port: uint16(lk.ControllerPort(int(id)))}
	}
}

// producing runs an acks=all idempotent producer of numbered records into
// quorumTopic until the returned function is called; that function stops it,
// verifies every acknowledged record can be read back, logs the figures and
// returns the producer's summary.
func producing(t *testing.T, lk *localkafka.Cluster, runID string) func() loadgen.Summary {
	t.Helper()
	stop := filepath.Join(t.TempDir(), "stop-"+runID)
	done := make(chan loadgen.Summary, 1)
	go func() {
		sum, err := loadgen.Produce(context.Background(), loadgen.ProduceConfig{
			Client: loadgen.ClientConfig{Bootstrap: lk.Bootstrap()}, Topic: quorumTopic, RunID: runID,
			Duration: 10 * time.Minute, Rate: 200, StopFile: stop})
		assert.NoError(t, err)
		done <- sum
	}()
	return func() loadgen.Summary {
		t.Helper()
		require.NoError(t, os.WriteFile(stop, nil, 0o644))
		sum := <-done
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := loadgen.Verify(ctx, loadgen.VerifyConfig{Client: loadgen.ClientConfig{Bootstrap: lk.Bootstrap()},
			Topic: quorumTopic, RunID: runID, Acked: sum.AckedSeqRanges})
		require.NoError(t, err)
		t.Logf("FIGURE quorum producer %s: %d acknowledged, %d failed, %d lost, longest produce stall %d ms (from %s)",
			runID, sum.Acked, sum.Failed, res.Lost, sum.LongestStallMs, sum.StallStartedAt)
		assert.Positive(t, sum.Acked, runID)
		assert.Zero(t, sum.Failed, "%s: records the producer gave up on: %v", runID, sum.FailedErrors)
		assert.Zero(t, res.Lost, "%s: acknowledged records lost", runID)
		return sum
	}
}

// quorumChangeWindow is how long a producer keeps writing after a voter
// change, so a stall the change caused would show in its figures.
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
func describeQuorum(t *testing.T, cl *kafkaClient) Quorum {
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
func assertVoters(t *testing.T, lk *localkafka.Cluster, q Quorum, voters, observers []int32) {
	t.Helper()
	assert.Equal(t, voters, q.VoterIDs(), "voters: %s", q)
	assert.Equal(t, observers, q.ObserverIDs(), "observers: %s", q)
	for _, v := range q.Voters {
		assert.Equal(t, []QuorumEndpoint{controllerEndpoint(lk)(v.ID)}, v.Endpoints, "voter %d", v.ID)
		assert.NotEqual(t, [16]byte{}, v.DirectoryID, "voter %d has a directory id", v.ID)
	}
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

	q := describeQuorum(t, cl)
	require.Equal(t, int16(1), q.KRaftVersion, "a new cluster formatted --standalone runs kraft.version 1")
	assertVoters(t, lk, q, []int32{0}, []int32{1, 2})

	rollUp := producing(t, lk, "roll-up")
	// A broker-only node follows the metadata log too, but is no controller:
	// Kafka refuses to make it a voter, and the error says what to do.
	quorumStep(t, "AddVoter of a broker-only node refused", func() {
		actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		// Kafka answers REQUEST_TIMED_OUT, which AddVoter asks again for as
		// long as the observer wait, since a restarting controller answers
		// the same; 15 s is enough to show it gives up with the hint.
		err := cl.AddVoter(withObserverWait(actx, 15*time.Second), 1, ep(1))
		require.Error(t, err)
		t.Logf("AddVoter(1) on a broker-only node: %v", err)
		assert.ErrorContains(t, err, "check that node 1 runs with process.roles=broker,controller")
	})
	assertVoters(t, lk, describeQuorum(t, cl), []int32{0}, []int32{1, 2})
	// Raising controllers changes every node's file (the bootstrap servers
	// too), so the StatefulSet rolls every pod, highest ordinal first: node 0
	// restarts last, while it is still the only voter.
	quorumStep(t, "roll nodes 2, 1, 0 (1 and 2 now broker,controller)", func() {
		require.NoError(t, lk.SetControllers(3))
		restartNodes(t, lk, 2, 1, 0)
	})
	assertVoters(t, lk, describeQuorum(t, cl), []int32{0}, []int32{1, 2})
	rollUp()

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
		assertVoters(t, lk, describeQuorum(t, cl), []int32{0, 1}, []int32{2})
		steps, err = cl.EnsureVoters(ctx, []int32{0, 1, 2}, ep, logf)
		require.NoError(t, err)
		assert.Equal(t, []string{"add voter 2"}, steps)
	})
	q = describeQuorum(t, cl)
	assertVoters(t, lk, q, []int32{0, 1, 2}, []int32{})
	quorumStep(t, "EnsureVoters 3 -> 3 (nothing to do)", func() {
		steps, err := cl.EnsureVoters(ctx, []int32{2, 1, 0}, ep, logf)
		require.NoError(t, err)
		assert.Empty(t, steps, "a second run changes nothing")
	})
	time.Sleep(quorumChangeWindow)
	assert.Less(t, promote().LongestStallMs, int64(maxVoterChangeStallMs), "produce stall while voters were added")

	// The three voters really form the quorum: killing the leader's JVM
	// elects another voter.
	kill := producing(t, lk, "leader-kill")
	old := q.LeaderID
	quorumStep(t, "election after killing the quorum leader", func() {
		require.NoError(t, lk.Kill(int(old)))
		err := poll(ctx, time.Minute, "waiting for a new quorum leader", func(ctx context.Context) (bool, error) {
			nq, err := cl.describeQuorumOnly(ctx)
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
	kill()

	guard := producing(t, lk, "guard")
	// With voter 2 down, removing voter 1 would leave voters 0 and 2 with one
	// live member: no majority, no metadata commits. EnsureVoters refuses it
	// once the quorum shows node 2 stopped following.
	quorumStep(t, "a shrink that would lose the majority refused", func() {
		require.NoError(t, lk.StopNode(2))
		err := poll(ctx, time.Minute, "waiting for voter 2 to show as lagging", func(ctx context.Context) (bool, error) {
			q, err := cl.describeQuorumOnly(ctx)
			if err != nil {
				return false, nil
			}
			v, ok := q.Voter(2)
			return ok && q.lag(v) != "", nil
		})
		require.NoError(t, err)
		steps, err := cl.EnsureVoters(ctx, []int32{0, 2}, ep, logf)
		require.Error(t, err)
		t.Logf("EnsureVoters([0 2]) with node 2 down: %v", err)
		assert.ErrorContains(t, err, "remove voter 1 would leave voters [0 2] with only [0] caught up, less than a majority (2)")
		assert.Empty(t, steps)
		assertVoters(t, lk, describeQuorum(t, cl), []int32{0, 1, 2}, []int32{})
		restartNodes(t, lk, 2)
	})
	guard()

	demote := producing(t, lk, "demote")
	quorumStep(t, "EnsureVoters 3 -> 1", func() {
		steps, err := cl.EnsureVoters(ctx, []int32{0}, ep, logf)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"remove voter 1", "remove voter 2"}, steps)
	})
	assertVoters(t, lk, describeQuorum(t, cl), []int32{0}, []int32{1, 2})
	time.Sleep(quorumChangeWindow)
	assert.Less(t, demote().LongestStallMs, int64(maxVoterChangeStallMs), "produce stall while voters were removed")

	rollDown := producing(t, lk, "roll-down")
	quorumStep(t, "restart nodes 1 and 2 broker-only", func() {
		require.NoError(t, lk.SetControllers(1))
		restartNodes(t, lk, 1, 2)
	})
	assertVoters(t, lk, describeQuorum(t, cl), []int32{0}, []int32{1, 2})
	rollDown()
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
	assert.Equal(t, int16(1), q.KRaftVersion)
	assert.Equal(t, []int32{0}, q.VoterIDs())
	assert.Equal(t, metaDirectoryID(t, lk, 0), q.Voters[0].DirectoryIDString(),
		"the upgrade records the voter's own directory id")
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
	// Node 0 still runs with controller.quorum.voters; once the quorum has
	// three voters it restarts with the dynamic file at the cost of one
	// election.
	quorumStep(t, "restart node 0 with the dynamic properties", func() { restartNodes(t, lk, 0) })
	node0, err := os.ReadFile(filepath.Join(lk.Dir(), "node-0", "server.properties"))
	require.NoError(t, err)
	assert.NotContains(t, string(node0), components.QuorumVotersKey+"=")
	assert.Contains(t, string(node0), components.QuorumBootstrapKey+"=")
	q = describeQuorum(t, cl)
	assertVoters(t, lk, q, []int32{0, 1, 2}, []int32{})
	for _, v := range q.Voters {
		assert.Equal(t, metaDirectoryID(t, lk, int(v.ID)), v.DirectoryIDString(), "voter %d", v.ID)
	}
	steps, err := cl.EnsureVoters(ctx, []int32{0, 1, 2}, ep, logf)
	require.NoError(t, err)
	assert.Empty(t, steps)
	load()
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
	cl, err := newKafkaClient(Config{BootstrapServers: c.addrs}, nil)
	require.NoError(t, err)
	defer cl.raw.Close()

	q := describeQuorum(t, cl)
	assert.Equal(t, int16(1), q.KRaftVersion)
	assertVoters(t, lk, q, []int32{0, 1, 2}, []int32{})
	for _, v := range q.Voters {
		assert.Equal(t, components.DirectoryID(lk.Spec().ClusterID, int(v.ID)), v.DirectoryIDString(), "voter %d", v.ID)
		assert.Equal(t, metaDirectoryID(t, lk, int(v.ID)), v.DirectoryIDString(), "voter %d", v.ID)
	}
	steps, err := cl.EnsureVoters(context.Background(), []int32{0, 1, 2}, controllerEndpoint(lk), func(line string) { t.Log(line) })
	require.NoError(t, err)
	assert.Empty(t, steps)
}
