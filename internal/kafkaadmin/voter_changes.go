package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kraftVersionFeature is the feature that says whether the quorum is static (0)
// or dynamic (1).
const kraftVersionFeature = "kraft.version"

// DescribeQuorum describes the KRaft metadata quorum: leader, voters (with
// directory ids and controller endpoints), observers, and the finalized
// kraft.version. Brokers forward the request to the active controller.
func (k *Client) DescribeQuorum(ctx context.Context) (Quorum, error) {
	q, err := k.DescribeQuorumOnly(ctx)
	if err != nil {
		return Quorum{}, err
	}
	if q.KRaftVersion, err = k.finalizedFeature(ctx, kraftVersionFeature); err != nil {
		return Quorum{}, err
	}
	return q, nil
}

// DescribeQuorumOnly sends DescribeQuorum (v2: directory ids and endpoints).
func (k *Client) DescribeQuorumOnly(ctx context.Context) (Quorum, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = metadataTopic
	p := kmsg.NewDescribeQuorumRequestTopicPartition()
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, k.raw)
	if err != nil {
		return Quorum{}, fmt.Errorf("DescribeQuorum request failed: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return Quorum{}, fmt.Errorf("DescribeQuorum: %w%s", err, messageOf(resp.ErrorMessage))
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return Quorum{}, errors.New("DescribeQuorum: the answer lacks the __cluster_metadata partition")
	}
	rp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
		return Quorum{}, fmt.Errorf("DescribeQuorum: %w%s", err, messageOf(rp.ErrorMessage))
	}
	endpoints := map[int32][]QuorumEndpoint{}
	for _, n := range resp.Nodes {
		for _, l := range n.Listeners {
			endpoints[n.NodeID] = append(endpoints[n.NodeID], QuorumEndpoint{Listener: l.Name, Host: l.Host, Port: l.Port})
		}
	}
	q := Quorum{LeaderID: rp.LeaderID, LeaderEpoch: rp.LeaderEpoch, HighWatermark: rp.HighWatermark}
	for _, v := range rp.CurrentVoters {
		r := replicaOf(v)
		r.Endpoints = endpoints[v.ReplicaID]
		q.Voters = append(q.Voters, r)
	}
	for _, o := range rp.Observers {
		q.Observers = append(q.Observers, replicaOf(o))
	}
	byID := func(a, b QuorumReplica) int { return int(a.ID) - int(b.ID) }
	slices.SortFunc(q.Voters, byID)
	slices.SortFunc(q.Observers, byID)
	return q, nil
}

func replicaOf(s kmsg.DescribeQuorumResponseTopicPartitionReplicaState) QuorumReplica {
	return QuorumReplica{ID: s.ReplicaID, DirectoryID: s.ReplicaDirectoryID, LogEndOffset: s.LogEndOffset,
		LastFetchMillis: s.LastFetchTimestamp, LastCaughtUpMillis: s.LastCaughtUpTimestamp}
}

func messageOf(m *string) string {
	if m == nil || *m == "" {
		return ""
	}
	return " (" + *m + ")"
}

// finalizedFeature is a feature's finalized level as a broker's ApiVersions
// answer shows it; 0 when the feature is not finalized (Kafka's default).
func (k *Client) finalizedFeature(ctx context.Context, name string) (int16, error) {
	return k.finalizedFeatureOn(ctx, k.raw, name)
}

// finalizedFeatureOn is finalizedFeature as r (one broker, or any) shows it.
func (k *Client) finalizedFeatureOn(ctx context.Context, r kmsg.Requestor, name string) (int16, error) {
	resp, err := k.apiVersionsOn(ctx, r)
	if err != nil {
		return 0, err
	}
	return finalizedLevel(resp, name), nil
}

// AddVoter makes node id a voter of the KRaft quorum: it waits until the node
// follows the metadata log as a caught-up observer, sends AddRaftVoter with
// the node's directory id (from DescribeQuorum) and controller endpoint ep,
// and waits until the quorum lists it as a voter. A node that already votes is
// left alone. The node must run with process.roles including controller and
// listen on ep; a broker-only node is an observer too, but the leader cannot
// reach its controller endpoint and Kafka refuses the change.
func (k *Client) AddVoter(ctx context.Context, id int32, ep QuorumEndpoint) error {
	q, err := k.DescribeQuorum(ctx)
	if err != nil {
		return fmt.Errorf("adding voter %d: %w", id, err)
	}
	if q.KRaftVersion < 1 {
		return fmt.Errorf("adding voter %d: %w", id, errStaticQuorum(q))
	}
	if _, ok := q.Voter(id); ok {
		return nil
	}
	obs, err := k.waitCaughtUpObserver(ctx, id)
	if err != nil {
		return err
	}
	if q, err = k.DescribeQuorum(ctx); err != nil {
		return fmt.Errorf("adding voter %d: %w", id, err)
	}
	if err := checkStepMajority(q, VoterStep{Add: true, ID: id}); err != nil {
		return fmt.Errorf("adding voter %d: %w", id, err)
	}
	if err := k.sendAddVoter(ctx, obs, ep); err != nil {
		// The change may have been applied before the answer was lost.
		if q, derr := k.DescribeQuorumOnly(ctx); derr == nil {
			if _, ok := q.Voter(id); ok {
				return nil
			}
		}
		return err
	}
	return k.waitVoters(ctx, fmt.Sprintf("waiting for node %d to be listed as a voter", id), func(q Quorum) bool {
		v, ok := q.Voter(id)
		return ok && v.DirectoryID == obs.DirectoryID
	})
}

// waitCaughtUpObserver waits until node id follows the metadata log within
// quorumMaxLag of the high watermark and returns its entry.
func (k *Client) waitCaughtUpObserver(ctx context.Context, id int32) (QuorumReplica, error) {
	var obs QuorumReplica
	why := ""
	err := Poll(ctx, observerWait(ctx, k.timeout), fmt.Sprintf("waiting for node %d to catch up with the metadata log", id),
		func(ctx context.Context) (bool, error) {
			q, err := k.DescribeQuorumOnly(ctx)
			if err != nil {
				why = err.Error()
				return false, nil
			}
			o, ok := q.Observer(id)
			if !ok {
				why = fmt.Sprintf("node %d is not among the quorum's observers %v: it is not running, or not "+
					"with this cluster; start it with process.roles=broker,controller", id, q.ObserverIDs())
				return false, nil
			}
			if why = q.Lag(o); why != "" {
				return false, nil
			}
			obs = o
			return true, nil
		})
	if err != nil {
		return QuorumReplica{}, fmt.Errorf("adding voter %d: %w; last, %s", id, err, why)
	}
	return obs, nil
}

// sendAddVoter sends AddRaftVoter, retrying while the quorum is between
// leaders or finishing another change.
func (k *Client) sendAddVoter(ctx context.Context, obs QuorumReplica, ep QuorumEndpoint) error {
	req := kmsg.NewPtrAddRaftVoterRequest()
	req.TimeoutMillis = int32(k.timeout / time.Millisecond)
	req.VoterID = obs.ID
	req.VoterDirectoryID = obs.DirectoryID
	l := kmsg.NewAddRaftVoterRequestListener()
	l.Name, l.Host, l.Port = ep.Listener, ep.Host, ep.Port
	req.Listeners = append(req.Listeners, l)
	req.AckWhenCommitted = true
	what := fmt.Sprintf("AddRaftVoter for node %d (directory %s, endpoint %s)", obs.ID, obs.DirectoryIDString(), ep)
	// The leader answers REQUEST_TIMED_OUT while it cannot reach the node's
	// controller endpoint: a node still restarting into its controller role
	// (the StatefulSet may be rolling it), or a broker-only one. That is
	// asked again until the observer wait ends; an answer lost after the
	// change was applied shows as the node voting.
	return k.sendVoterChangeWithin(ctx, observerWait(ctx, k.timeout), what, func(ctx context.Context) (int16, *string, error) {
		resp, err := req.RequestWith(ctx, k.raw)
		if err != nil {
			return 0, nil, err
		}
		if errors.Is(kerr.ErrorForCode(resp.ErrorCode), kerr.RequestTimedOut) {
			if q, derr := k.DescribeQuorumOnly(ctx); derr == nil {
				if _, ok := q.Voter(obs.ID); ok {
					return 0, nil, nil
				}
			}
			voterProgress(ctx)(fmt.Sprintf("add voter %d: the quorum leader could not reach %s yet (REQUEST_TIMED_OUT%s); "+
				"asking again", obs.ID, ep, messageOf(resp.ErrorMessage)))
			return kerr.RequestTimedOut.Code, resp.ErrorMessage, errRetryTimedOut
		}
		return resp.ErrorCode, resp.ErrorMessage, nil
	}, fmt.Sprintf("check that node %d runs with process.roles=broker,controller and answers on %s", obs.ID, ep))
}

// errRetryTimedOut marks a REQUEST_TIMED_OUT answer that sendVoterChangeWithin
// asks again.
var errRetryTimedOut = errors.New("REQUEST_TIMED_OUT: the leader could not reach the node's controller endpoint yet")

// sendVoterChange sends one voter change until Kafka answers it without a
// retriable error. hint says what to check when Kafka refuses it.
func (k *Client) sendVoterChange(ctx context.Context, what string, send func(context.Context) (int16, *string, error), hint string) error {
	return k.sendVoterChangeWithin(ctx, k.timeout, what, send, hint)
}

// sendVoterChangeWithin is sendVoterChange asking again for up to wait.
func (k *Client) sendVoterChangeWithin(ctx context.Context, wait time.Duration, what string,
	send func(context.Context) (int16, *string, error), hint string) error {
	var last, refused error
	err := Poll(ctx, wait, what, func(ctx context.Context) (bool, error) {
		rctx, cancel := k.WithTimeout(ctx)
		defer cancel()
		code, msg, err := send(rctx)
		if errors.Is(err, errRetryTimedOut) {
			last = fmt.Errorf("%w%s", err, messageOf(msg))
			return false, nil
		}
		if err != nil {
			last = fmt.Errorf("request failed: %w", err)
			return false, nil
		}
		kerrv := kerr.ErrorForCode(code)
		switch {
		case kerrv == nil:
			return true, nil
		case kerr.IsRetriable(kerrv) && !errors.Is(kerrv, kerr.RequestTimedOut):
			last = fmt.Errorf("%w%s", kerrv, messageOf(msg))
			return false, nil
		default:
			refused = fmt.Errorf("%s: %w%s: %s", what, kerrv, messageOf(msg), hint)
			return false, refused
		}
	})
	if err != nil && refused == nil && last != nil {
		return fmt.Errorf("%w; last, %v: %s", err, last, hint)
	}
	return err
}

// RemoveVoter removes node id from the KRaft quorum's voters (it stays an
// observer while it runs as a controller) and waits until the quorum no longer
// lists it and has a leader. A node that does not vote is left alone. It
// refuses to remove the last voter or to leave fewer than a majority of the
// remaining voters caught up.
func (k *Client) RemoveVoter(ctx context.Context, id int32) error {
	q, err := k.DescribeQuorum(ctx)
	if err != nil {
		return fmt.Errorf("removing voter %d: %w", id, err)
	}
	if q.KRaftVersion < 1 {
		return fmt.Errorf("removing voter %d: %w", id, errStaticQuorum(q))
	}
	v, ok := q.Voter(id)
	if !ok {
		return nil
	}
	if err := checkStepMajority(q, VoterStep{ID: id}); err != nil {
		return fmt.Errorf("removing voter %d: %w", id, err)
	}
	req := kmsg.NewPtrRemoveRaftVoterRequest()
	req.VoterID = id
	req.VoterDirectoryID = v.DirectoryID
	what := fmt.Sprintf("RemoveRaftVoter for node %d (directory %s)", id, v.DirectoryIDString())
	err = k.sendVoterChange(ctx, what, func(ctx context.Context) (int16, *string, error) {
		resp, err := req.RequestWith(ctx, k.raw)
		if err != nil {
			return 0, nil, err
		}
		return resp.ErrorCode, resp.ErrorMessage, nil
	}, "describe the quorum (kafka-metadata-quorum.sh describe --status) and retry")
	if err != nil {
		if q, derr := k.DescribeQuorumOnly(ctx); derr == nil {
			if _, ok := q.Voter(id); !ok {
				return nil
			}
		}
		return err
	}
	return k.waitVoters(ctx, fmt.Sprintf("waiting for node %d to leave the voters", id), func(q Quorum) bool {
		_, ok := q.Voter(id)
		return !ok
	})
}

// observerWaitKey carries how long an added voter may take to follow the
// metadata log (KraftQuorum's timeoutSeconds: a pod restarted as a
// controller starts a JVM first) past the request timeout.
type observerWaitKey struct{}

// WithObserverWait bounds waitCaughtUpObserver by d in ctx.
func WithObserverWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, observerWaitKey{}, d)
}

// observerWait is the wait set by WithObserverWait, else def.
func observerWait(ctx context.Context, def time.Duration) time.Duration {
	if d, ok := ctx.Value(observerWaitKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return def
}

// voterProgressKey carries EnsureVoters' progress function to the step it
// runs, so a step that asks again says so while it waits (a KraftQuorum
// grow can wait minutes for a node the StatefulSet is still rolling). The
// tests wait for that line to know the retry path was taken.
type voterProgressKey struct{}

// withVoterProgress passes progress to the steps run under ctx.
func withVoterProgress(ctx context.Context, progress func(string)) context.Context {
	return context.WithValue(ctx, voterProgressKey{}, progress)
}

// voterProgress is the function set by withVoterProgress, else one that
// drops the line.
func voterProgress(ctx context.Context) func(string) {
	if f, ok := ctx.Value(voterProgressKey{}).(func(string)); ok && f != nil {
		return f
	}
	return func(string) {}
}

// waitVoters polls DescribeQuorum until done holds and the quorum has a leader.
func (k *Client) waitVoters(ctx context.Context, what string, done func(Quorum) bool) error {
	last := ""
	err := Poll(ctx, k.timeout, what, func(ctx context.Context) (bool, error) {
		q, err := k.DescribeQuorumOnly(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = q.String()
		return q.LeaderID >= 0 && done(q), nil
	})
	if err != nil {
		return fmt.Errorf("%w; last, %s", err, last)
	}
	return nil
}

// EnsureVoters changes the KRaft quorum's voters to exactly want, one voter at
// a time: missing ones are added first (each must run as a controller and be
// caught up), extra ones removed after (the leader last). Before each step it
// describes the quorum again and refuses a step that would leave fewer than a
// majority of caught-up voters. endpoint gives a node's controller listener
// (the address AddRaftVoter registers). It returns the steps taken: none when
// the voters already match, so it can be run again after an interruption.
func (k *Client) EnsureVoters(ctx context.Context, want []int32, endpoint func(id int32) QuorumEndpoint,
	progress func(string)) ([]string, error) {
	if err := checkWantedVoters(want); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(string) {}
	}
	ctx = withVoterProgress(ctx, progress)
	var done []string
	for range 2 * (len(want) + 16) { // more steps than any path needs; a guard against a flapping quorum
		q, err := k.DescribeQuorum(ctx)
		if err != nil {
			return done, fmt.Errorf("ensuring voters %v: %w", want, err)
		}
		step, ok := nextVoterStep(q, want)
		if !ok {
			return done, nil
		}
		if q.KRaftVersion < 1 {
			return done, fmt.Errorf("ensuring voters %v: %w", want, errStaticQuorum(q))
		}
		progress(fmt.Sprintf("quorum: %s; next: %s", q, step))
		start := time.Now()
		if step.Add {
			err = k.AddVoter(ctx, step.ID, endpoint(step.ID))
		} else {
			err = k.RemoveVoter(ctx, step.ID)
		}
		if err != nil {
			return done, fmt.Errorf("ensuring voters %v: %w", want, err)
		}
		done = append(done, step.String())
		progress(fmt.Sprintf("%s: done in %s", step, time.Since(start).Round(time.Millisecond)))
	}
	return done, fmt.Errorf("ensuring voters %v: the voter set kept changing under these steps %v: "+
		"another tool is changing the quorum; stop it and run again", want, done)
}

// EnableDynamicQuorum upgrades a static quorum to a dynamic one: it finalizes
// kraft.version 1 (UpdateFeatures, as kafka-features.sh upgrade --feature
// kraft.version=1) and waits until a broker shows it. Kafka 4.1 does this
// live, with controller.quorum.voters still in every node's file; the leader
// records the voters' directory ids from their fetches. The nodes then move
// to controller.quorum.bootstrap.servers at their next restart. A quorum that
// is already dynamic is left alone.
func (k *Client) EnableDynamicQuorum(ctx context.Context) error {
	v, err := k.finalizedFeature(ctx, kraftVersionFeature)
	if err != nil {
		return fmt.Errorf("enabling the dynamic quorum: %w", err)
	}
	if v >= 1 {
		return nil
	}
	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.TimeoutMillis = int32(k.timeout / time.Millisecond)
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = kraftVersionFeature, 1, 1 // 1: upgrade
	req.FeatureUpdates = append(req.FeatureUpdates, u)
	err = k.sendVoterChange(ctx, "UpdateFeatures kraft.version=1", func(ctx context.Context) (int16, *string, error) {
		resp, err := req.RequestWith(ctx, k.raw)
		if err != nil {
			return 0, nil, err
		}
		if resp.ErrorCode != 0 {
			return resp.ErrorCode, resp.ErrorMessage, nil
		}
		for _, r := range resp.Results {
			if r.ErrorCode != 0 {
				return r.ErrorCode, r.ErrorMessage, nil
			}
		}
		return 0, nil, nil
	}, "every controller must run Kafka 4.1 or newer and be caught up (kafka-metadata-quorum.sh describe --replication)")
	if err != nil {
		return fmt.Errorf("enabling the dynamic quorum: %w", err)
	}
	// Every broker must show it before the quorum counts as dynamic: a broker
	// that still shows 0 would make the next DescribeQuorum report a static
	// quorum.
	lag := ""
	err = Poll(ctx, k.timeout, "waiting for every broker to show kraft.version 1", func(ctx context.Context) (bool, error) {
		ids, err := k.BrokerIDs(ctx)
		if err != nil {
			lag = err.Error()
			return false, nil
		}
		for _, id := range ids {
			if v, err := k.finalizedFeatureOn(ctx, k.Broker(id), kraftVersionFeature); err != nil || v < 1 {
				lag = fmt.Sprintf("broker %d shows kraft.version %d (%v)", id, v, err)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("enabling the dynamic quorum: %w; last, %s", err, lag)
	}
	return nil
}
