package kafkaadmin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// live is a replica that fetched and caught up at the leader's now (10 000 ms)
// at the high watermark 500.
func live(id int32) QuorumReplica {
	return QuorumReplica{ID: id, DirectoryID: [16]byte{byte(id + 1)}, LogEndOffset: 500, LastFetchMillis: 10_000,
		LastCaughtUpMillis: 10_000}
}

func quorumOf(leader int32, voters []QuorumReplica, observers ...QuorumReplica) Quorum {
	return Quorum{KRaftVersion: 1, LeaderID: leader, LeaderEpoch: 3, HighWatermark: 500, Voters: voters, Observers: observers}
}

func TestNextVoterStep(t *testing.T) {
	cases := []struct {
		name string
		q    Quorum
		want []int32
		step VoterStep
		ok   bool
	}{
		{"grow: lowest missing first", quorumOf(0, []QuorumReplica{live(0)}, live(2), live(1)), []int32{2, 0, 1},
			VoterStep{Add: true, ID: 1}, true},
		{"grow before shrink", quorumOf(0, []QuorumReplica{live(0), live(1)}, live(2)), []int32{0, 2},
			VoterStep{Add: true, ID: 2}, true},
		{"shrink: followers before the leader", quorumOf(1, []QuorumReplica{live(0), live(1), live(2)}), []int32{0},
			VoterStep{ID: 2}, true},
		{"shrink: the leader last", quorumOf(1, []QuorumReplica{live(0), live(1)}), []int32{0},
			VoterStep{ID: 1}, true},
		{"match: nothing to do", quorumOf(2, []QuorumReplica{live(0), live(1), live(2)}), []int32{2, 1, 0},
			VoterStep{}, false},
	}
	for _, c := range cases {
		step, ok := nextVoterStep(c.q, c.want)
		assert.Equal(t, c.ok, ok, c.name)
		assert.Equal(t, c.step, step, c.name)
	}
}

func TestCheckWantedVoters(t *testing.T) {
	require.NoError(t, checkWantedVoters([]int32{0, 1, 2}))
	cases := map[string][]int32{
		"wanted voters [] is empty: the KRaft quorum needs at least one voter; give the controller node ids, e.g. [0] or [0 1 2]": {},
		"wanted voters [0 -1]: node id -1 is negative: node ids are the pod ordinals 0, 1, 2...":                                  {0, -1},
		"wanted voters [0 1 0]: node 0 is listed twice: list each controller once":                                                {0, 1, 0},
	}
	for msg, want := range cases {
		assert.EqualError(t, checkWantedVoters(want), msg)
	}
}

func TestCheckStepMajority(t *testing.T) {
	stale := live(2)
	stale.LastCaughtUpMillis = 1_000 // stopped 9 s ago
	behind := live(1)
	behind.LogEndOffset = 100

	assert.NoError(t, checkStepMajority(quorumOf(0, []QuorumReplica{live(0)}, live(1)), VoterStep{Add: true, ID: 1}))
	assert.NoError(t, checkStepMajority(quorumOf(0, []QuorumReplica{live(0), live(1), stale}), VoterStep{ID: 2}),
		"removing the stopped voter leaves two live ones")

	cases := []struct {
		name string
		q    Quorum
		step VoterStep
		msg  string
	}{
		{"the node does not follow the log", quorumOf(0, []QuorumReplica{live(0)}), VoterStep{Add: true, ID: 1},
			"node 1 is not following the metadata log (quorum: kraft.version 1, leader 0 (epoch 3), voters [0], " +
				"observers [], high watermark 500)"},
		{"adding a lagging node to one voter", quorumOf(0, []QuorumReplica{live(0)}, behind), VoterStep{Add: true, ID: 1},
			"add voter 1 would leave voters [0 1] with only [0] caught up, less than a majority (2): node 1 is at offset " +
				"100, 400 behind the high watermark 500; bring the lagging controllers back first"},
		{"removing a live voter while another is down", quorumOf(0, []QuorumReplica{live(0), live(1), stale}), VoterStep{ID: 1},
			"remove voter 1 would leave voters [0 2] with only [0] caught up, less than a majority (2): node 2 last " +
				"caught up with the leader 9000 ms ago (a live replica does within 5000 ms); bring the lagging controllers back first"},
		{"the last voter", quorumOf(0, []QuorumReplica{live(0)}), VoterStep{ID: 0},
			"remove voter 0 would leave the KRaft quorum without voters: keep at least one controller"},
	}
	for _, c := range cases {
		assert.EqualError(t, checkStepMajority(c.q, c.step), c.msg, c.name)
	}
}

func TestQuorumLagLeaderAlwaysCaughtUp(t *testing.T) {
	leader := QuorumReplica{ID: 0, LogEndOffset: -1, LastCaughtUpMillis: -1}
	q := quorumOf(0, []QuorumReplica{leader, live(1)})
	assert.Empty(t, q.Lag(leader))
	assert.Empty(t, q.Lag(live(1)))
	// Regression: a stopped voter is reported with no time at all (-1), which
	// once printed as "caught up 1796069500728 ms ago".
	gone := live(2)
	gone.LastCaughtUpMillis, gone.LastFetchMillis = -1, -1
	assert.Equal(t, "node 2 has not caught up with the leader since it took over (it is not fetching)", q.Lag(gone))
	assert.Equal(t, "AAECAwQFBgcICQoLDA0ODw", QuorumReplica{DirectoryID: [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}}.DirectoryIDString())
	assert.Equal(t, "CONTROLLER://127.0.0.1:9093", QuorumEndpoint{Listener: "CONTROLLER", Host: "127.0.0.1", Port: 9093}.String())
}
