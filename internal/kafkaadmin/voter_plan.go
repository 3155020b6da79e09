package kafkaadmin

import (
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// KRaft quorum membership (KIP-853, Kafka 4.1).
//
// The metadata quorum of a dynamic cluster (kraft.version 1) keeps its voter
// set in the metadata log. A node whose process.roles includes controller
// follows the log as an observer until AddRaftVoter makes it a voter;
// RemoveRaftVoter turns a voter back into an observer. Kafka changes one voter
// at a time, so EnsureVoters walks from the current set to the wanted one in
// single steps, describing the quorum again before each: an interrupted run is
// resumed by the next, and a run with nothing to change sends nothing.
//
// The pure part lives here (the quorum as described, the next step, the
// majority check); voter_changes.go sends the requests.

// metadataTopic is the KRaft metadata log's topic (partition 0).
const metadataTopic = "__cluster_metadata"

// Defaults of the quorum checks.
const (
	// quorumMaxLag is how far (in offsets) behind the high watermark a replica
	// may be and still count as caught up. The metadata log grows by a no-op
	// record every 500 ms when idle, so a live follower is rarely more than a
	// few records behind.
	quorumMaxLag = 200
	// quorumFreshMillis is how long ago (leader clock) a replica must last have
	// been caught up to count as live: a stopped node keeps its last offset
	// but its last-caught-up time stops moving.
	quorumFreshMillis = 5000
)

// QuorumEndpoint is one listener of a controller, as AddRaftVoter takes it and
// DescribeQuorum reports it.
type QuorumEndpoint struct {
	Listener string
	Host     string
	Port     uint16
}

// String is LISTENER://host:port, as kafka-metadata-quorum prints it.
func (e QuorumEndpoint) String() string {
	return e.Listener + "://" + net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
}

// QuorumReplica is one replica of the metadata log: a voter or an observer.
type QuorumReplica struct {
	ID int32
	// DirectoryID is the replica's metadata log directory id (meta.properties
	// directory.id). A voter is identified by node id and directory id, so a
	// node that lost its disk cannot vote with a log it no longer has.
	DirectoryID [16]byte
	// LogEndOffset is the replica's last fetched offset, -1 if unknown.
	LogEndOffset int64
	// LastFetchMillis and LastCaughtUpMillis are the leader's clock when the
	// replica last fetched and last reached the leader's log end; -1 if
	// unknown.
	LastFetchMillis    int64
	LastCaughtUpMillis int64
	// Endpoints are a voter's controller listeners (none for observers).
	Endpoints []QuorumEndpoint
}

// DirectoryIDString is the directory id as Kafka prints it (unpadded base64url).
func (r QuorumReplica) DirectoryIDString() string {
	return base64.RawURLEncoding.EncodeToString(r.DirectoryID[:])
}

// Quorum is the KRaft metadata quorum as the active controller describes it.
type Quorum struct {
	// KRaftVersion is the finalized kraft.version: 0 is a static quorum
	// (controller.quorum.voters, membership fixed), 1 a dynamic one.
	KRaftVersion  int16
	LeaderID      int32 // -1 while there is no leader
	LeaderEpoch   int32
	HighWatermark int64
	// Voters and Observers are sorted by node id.
	Voters    []QuorumReplica
	Observers []QuorumReplica
}

// VoterIDs are the voters' node ids, ascending.
func (q Quorum) VoterIDs() []int32 { return replicaIDs(q.Voters) }

// ObserverIDs are the observers' node ids, ascending.
func (q Quorum) ObserverIDs() []int32 { return replicaIDs(q.Observers) }

func replicaIDs(rs []QuorumReplica) []int32 {
	ids := make([]int32, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

// Voter returns voter id.
func (q Quorum) Voter(id int32) (QuorumReplica, bool) { return findReplica(q.Voters, id) }

// Observer returns observer id.
func (q Quorum) Observer(id int32) (QuorumReplica, bool) { return findReplica(q.Observers, id) }

func findReplica(rs []QuorumReplica, id int32) (QuorumReplica, bool) {
	for _, r := range rs {
		if r.ID == id {
			return r, true
		}
	}
	return QuorumReplica{}, false
}

// String is a one-line summary for progress and errors.
func (q Quorum) String() string {
	return fmt.Sprintf("kraft.version %d, leader %d (epoch %d), voters %v, observers %v, high watermark %d",
		q.KRaftVersion, q.LeaderID, q.LeaderEpoch, q.VoterIDs(), q.ObserverIDs(), q.HighWatermark)
}

// nowMillis is the leader's clock at the time of the description: the leader
// reports itself as fetched and caught up at that moment.
func (q Quorum) nowMillis() int64 {
	var now int64 = -1
	for _, r := range append(slices.Clone(q.Voters), q.Observers...) {
		now = max(now, r.LastFetchMillis, r.LastCaughtUpMillis)
	}
	return now
}

// Lag says why replica r does not count as caught up ("" if it does): its log
// end within quorumMaxLag of the high watermark, and caught up with the leader
// within the last quorumFreshMillis. The leader is always caught up.
func (q Quorum) Lag(r QuorumReplica) string {
	if r.ID == q.LeaderID {
		return ""
	}
	if r.LogEndOffset < q.HighWatermark-quorumMaxLag {
		return fmt.Sprintf("node %d is at offset %d, %d behind the high watermark %d", r.ID, r.LogEndOffset,
			q.HighWatermark-r.LogEndOffset, q.HighWatermark)
	}
	if r.LastCaughtUpMillis <= 0 {
		// Kafka reports no time for a replica that has not fetched since the
		// leader took over.
		return fmt.Sprintf("node %d has not caught up with the leader since it took over (it is not fetching)", r.ID)
	}
	if now := q.nowMillis(); now-r.LastCaughtUpMillis > quorumFreshMillis {
		return fmt.Sprintf("node %d last caught up with the leader %d ms ago (a live replica does within %d ms)",
			r.ID, now-r.LastCaughtUpMillis, quorumFreshMillis)
	}
	return ""
}

// errStaticQuorum is the error for a quorum whose voters cannot change.
func errStaticQuorum(q Quorum) error {
	return fmt.Errorf("the KRaft quorum is static (kraft.version %d, voters %v from controller.quorum.voters): "+
		"its voters cannot change live; migrate it first: kafka-features.sh --bootstrap-server <broker> upgrade "+
		"--feature kraft.version=1, then roll every node to controller.quorum.bootstrap.servers", q.KRaftVersion, q.VoterIDs())
}

// checkWantedVoters validates EnsureVoters' target set.
func checkWantedVoters(want []int32) error {
	if len(want) == 0 {
		return fmt.Errorf("wanted voters [] is empty: the KRaft quorum needs at least one voter; give the controller node ids, e.g. [0] or [0 1 2]")
	}
	seen := map[int32]bool{}
	for _, id := range want {
		if id < 0 {
			return fmt.Errorf("wanted voters %v: node id %d is negative: node ids are the pod ordinals 0, 1, 2...", want, id)
		}
		if seen[id] {
			return fmt.Errorf("wanted voters %v: node %d is listed twice: list each controller once", want, id)
		}
		seen[id] = true
	}
	return nil
}

// VoterStep is one membership change: add or remove one voter.
type VoterStep struct {
	Add bool
	ID  int32
}

func (s VoterStep) String() string {
	if s.Add {
		return fmt.Sprintf("add voter %d", s.ID)
	}
	return fmt.Sprintf("remove voter %d", s.ID)
}

// nextVoterStep is the next change from q's voters towards want, ok false
// when they match. Missing voters are added first (lowest id first), so the
// quorum never shrinks before it has grown; extra voters are removed after,
// followers before the leader, so the leader moves at most once.
func nextVoterStep(q Quorum, want []int32) (VoterStep, bool) {
	sorted := slices.Sorted(slices.Values(want))
	for _, id := range sorted {
		if _, ok := q.Voter(id); !ok {
			return VoterStep{Add: true, ID: id}, true
		}
	}
	leaderExtra := false
	for _, v := range q.Voters {
		if slices.Contains(want, v.ID) {
			continue
		}
		if v.ID == q.LeaderID {
			leaderExtra = true
			continue
		}
		return VoterStep{ID: v.ID}, true
	}
	if leaderExtra {
		return VoterStep{ID: q.LeaderID}, true
	}
	return VoterStep{}, false
}

// checkStepMajority refuses a step after which fewer than a majority of the
// voters would be caught up: such a quorum could not commit (no produce, no
// metadata change) until a lagging voter came back. An added node must itself
// be a caught-up observer; for a removal the voters that stay count.
func checkStepMajority(q Quorum, step VoterStep) error {
	var after []QuorumReplica
	for _, v := range q.Voters {
		if step.Add || v.ID != step.ID {
			after = append(after, v)
		}
	}
	if step.Add {
		o, ok := q.Observer(step.ID)
		if !ok {
			return fmt.Errorf("node %d is not following the metadata log (quorum: %s)", step.ID, q)
		}
		after = append(after, o)
	}
	if len(after) == 0 {
		return fmt.Errorf("%s would leave the KRaft quorum without voters: keep at least one controller", step)
	}
	var live []int32
	var lags []string
	for _, r := range after {
		if why := q.Lag(r); why != "" {
			lags = append(lags, why)
		} else {
			live = append(live, r.ID)
		}
	}
	if len(live) <= len(after)/2 {
		return fmt.Errorf("%s would leave voters %v with only %v caught up, less than a majority (%d): %s; bring "+
			"the lagging controllers back first", step, replicaIDs(after), live, len(after)/2+1, strings.Join(lags, "; "))
	}
	return nil
}
