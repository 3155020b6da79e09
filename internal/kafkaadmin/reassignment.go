package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// Reassignment is what ListPartitionReassignments says about one topic.
type Reassignment struct {
	// TargetRF is the replication factor the topic has once every ongoing
	// reassignment finishes: for a moving partition its replicas minus the
	// ones being removed, else its replicas. Metadata alone shows the
	// inflated union of old and new replicas while data moves.
	TargetRF int
	// Moving are the partitions still being reassigned.
	Moving int
}

// ReassignmentOf lists the ongoing reassignments of the topic's partitions
// (meta is its metadata) and computes the target replication factor.
func (k *Client) ReassignmentOf(ctx context.Context, topic string, meta TopicMeta) (Reassignment, error) {
	set := kadm.TopicsSet{}
	for p := range meta.Partitions {
		set.Add(topic, int32(p))
	}
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	pending, err := k.adm.ListPartitionReassignments(ctx, set)
	if err != nil {
		return Reassignment{}, requestError(topic, "ListPartitionReassignments", err)
	}
	moving := pending[topic]
	r := Reassignment{Moving: len(moving)}
	for p, replicas := range meta.Replicas {
		n := len(replicas)
		if m, ok := moving[int32(p)]; ok {
			n = len(m.Replicas) - len(m.RemovingReplicas)
		}
		r.TargetRF = max(r.TargetRF, n)
	}
	return r, nil
}

// ReassignmentInProgressError refuses an update that would start a
// reassignment while one started outside Pulumi (kafka-reassign-partitions,
// Cruise Control) is still moving data: a new one would override it.
func ReassignmentInProgressError(topic string, r Reassignment, want int) error {
	return fmt.Errorf("topic %q: a partition reassignment started outside Pulumi is in progress (%d partition(s) "+
		"moving, to replication factor %d), and replicationFactor = %d would override it. Wait until it finishes "+
		"(kafka-reassign-partitions --verify, or kafka-reassign-partitions --list), then run pulumi up again; or "+
		"set replicationFactor = %d", topic, r.Moving, r.TargetRF, want, r.TargetRF)
}

// UnmanagedWarning names the config keys set outside Pulumi that an update or
// adopt left alone.
func UnmanagedWarning(topic string, unmanaged []string) string {
	return fmt.Sprintf("topic %q: left alone the config keys set outside Pulumi: %s. Pulumi manages only the keys "+
		"in the inputs (and removes only keys it recorded); add a key to config to manage it, or run pulumi "+
		"refresh to record it so that the next preview shows its removal (throttled-replica lists are never "+
		"recorded)", topic, strings.Join(unmanaged, ", "))
}

// WaitReassigned waits until every broker shows the same replicas for each
// of the topic's partitions, all led and all in sync: after a reassignment
// that the controller reports finished. A broker that has not applied the
// final record still shows the added replicas out of sync (growing) or the
// removed ones (shrinking, where the brokers then disagree).
func (k *Client) WaitReassigned(ctx context.Context, topic string, partitions int) error {
	return waitEveryBroker(ctx, k, topic, "the finished reassignment", k.metadataFrom,
		func(m, first TopicMeta) (bool, string) {
			return m.Exists && m.Led && m.InSync && m.Partitions == partitions &&
				slices.EqualFunc(m.Replicas, first.Replicas, slices.Equal[[]int32]), m.String()
		})
}

// ChangeReplicationFactor reassigns every partition of the topic to rf
// replicas with ResizeReplicas: existing replicas and the preferred leader
// stay, only the difference is added or dropped. It applies the plan as a
// rebalance does (applyPlan): while new replicas copy, the move is throttled
// (see ReassignThrottleBytesPerSecond), and the throttle is removed
// afterwards, also when the reassignment fails. It waits for the topic's own
// partitions only, polling ListPartitionReassignments, then elects the
// preferred leaders (kept by the plan, so usually no election is needed).
// Each request is bounded by the request timeout; the wait as a whole only by
// ctx, because moving data can take far longer than one request. progress
// receives one line per poll. The caller then waits with WaitReassigned until
// every broker shows the new replicas.
func (k *Client) ChangeReplicationFactor(ctx context.Context, topic string, rf int, progress func(string)) error {
	lists, brokers, err := k.Assignment(ctx, topic)
	if err != nil {
		return err
	}
	current := make(map[placement.PartitionID][]int32, len(lists))
	for p, replicas := range lists {
		current[placement.PartitionID{Topic: topic, Partition: int32(p)}] = replicas
	}
	plan, err := placement.ResizeReplicas(current, rf, brokers)
	if err != nil {
		return fmt.Errorf("topic %q: %w", topic, err)
	}
	return k.applyPlan(ctx, current, plan, topicScope(topic, rf, progress))
}

// reassignScope is what one application of a plan is about, which sets what
// it waits for and how it reports. A replication factor change is about its
// topic: the engine changes many topics at once (a new
// topicDefaults.replicationFactor changes each), and each waits for its own
// partitions and names its topic in every line and error. A Rebalance or a
// ReplicaPlacement is about the whole cluster.
type reassignScope struct {
	// topic is the topic whose replication factor changes to rf; "" for the
	// whole cluster.
	topic string
	rf    int
	// rate is the throttle in bytes per second per broker and direction; 0
	// means ReassignThrottleBytesPerSecond.
	rate     int64
	progress func(string)
}

func topicScope(topic string, rf int, progress func(string)) reassignScope {
	return reassignScope{topic: topic, rf: rf, progress: progress}
}

func clusterScope(rate int64, progress func(string)) reassignScope {
	return reassignScope{rate: rate, progress: progress}
}

// maxDelay caps the pause between two ListPartitionReassignments: a topic's
// wait asks less often, as many run side by side.
func (s reassignScope) maxDelay() time.Duration {
	if s.topic != "" {
		return 5 * time.Second
	}
	return 2 * time.Second
}

// requestError wraps a request that got no answer, or an error code.
func (s reassignScope) requestError(op string, err error) error {
	if s.topic != "" {
		return requestError(s.topic, op, err)
	}
	return fmt.Errorf("%s request failed: %w", op, err)
}

// submitted is the line after the moves of n partitions are submitted.
func (s reassignScope) submitted(n int) string {
	if s.topic != "" {
		return fmt.Sprintf("topic %q: reassigning %d partitions to replication factor %d", s.topic, n, s.rf)
	}
	return fmt.Sprintf("submitted the moves of %d partitions", n)
}

// moving is the line for each poll that finds n of the of partitions moving.
func (s reassignScope) moving(n, of int) string {
	if s.topic != "" {
		return fmt.Sprintf("topic %q: %d of %d partitions still reassigning", s.topic, n, of)
	}
	return fmt.Sprintf("%d partitions still reassigning", n)
}

// done reports that no partition moves any more.
func (s reassignScope) done() {
	if s.topic != "" {
		s.progress(fmt.Sprintf("topic %q: reassignment to replication factor %d done", s.topic, s.rf))
	}
}

// gaveUp is the error when ctx ends while n partitions still move.
func (s reassignScope) gaveUp(n int, err error) error {
	if s.topic != "" {
		return fmt.Errorf("topic %q: waiting for the reassignment to replication factor %d: %w "+
			"(it continues in the cluster; check it with kafka-reassign-partitions --verify)", s.topic, s.rf, err)
	}
	return fmt.Errorf("waiting for %d partition reassignments: %w (they continue in the cluster; "+
		"the next run waits for them and goes on)", n, err)
}

// applyPlan is the one way a plan is applied, whoever made it: it throttles
// the moves topic by topic, submits them in one AlterPartitionAssignments,
// waits until Kafka reports them done and (for the cluster) every broker shows
// them, elects the preferred leaders, and removes the throttles, also when something failed.
// A plan that moves nothing changes nothing.
func (k *Client) applyPlan(ctx context.Context, current map[placement.PartitionID][]int32, plan placement.Plan,
	s reassignScope,
) (err error) {
	if len(plan.Moves) == 0 {
		s.done()
		return nil
	}
	byTopic := map[string][]placement.PartitionID{}
	for p := range plan.Moves {
		byTopic[p.Topic] = append(byTopic[p.Topic], p)
	}
	for _, topic := range slices.Sorted(maps.Keys(byTopic)) {
		before, after := topicLists(current, plan.Moves, byTopic[topic])
		throttle, ok := throttleFor(before, after)
		if !ok {
			continue
		}
		throttle.Rate = s.rate
		defer func() {
			if cerr := k.clearThrottle(ctx, topic, throttle); cerr != nil {
				err = errors.Join(err, fmt.Errorf("removing the reassignment throttle (remove it with kafka-configs "+
					"--delete-config): %w", cerr))
			}
		}()
		if err := k.setThrottle(ctx, topic, throttle); err != nil {
			return err
		}
	}
	set, err := k.submitMoves(ctx, plan.Moves, s)
	if err != nil {
		return err
	}
	s.progress(s.submitted(len(plan.Moves)))
	if _, err := k.waitNoReassignment(ctx, set, len(plan.Moves), s); err != nil {
		return err
	}
	if s.topic == "" {
		// A topic's caller waits with WaitReassigned instead, once it has
		// recorded the new factor: every broker then shows the topic's
		// replicas led and in sync.
		if err := k.waitAssignmentShown(ctx, plan.Moves); err != nil {
			return err
		}
	}
	return k.ElectPreferred(ctx, set)
}

// submitMoves asks for every move in one AlterPartitionAssignments and
// returns the partitions moved.
func (k *Client) submitMoves(ctx context.Context, moves map[placement.PartitionID][]int32, s reassignScope) (kadm.TopicsSet, error) {
	var req kadm.AlterPartitionAssignmentsReq
	set := kadm.TopicsSet{}
	for p, replicas := range moves {
		req.Assign(p.Topic, p.Partition, replicas)
		set.Add(p.Topic, p.Partition)
	}
	actx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resps, err := k.adm.AlterPartitionAssignments(actx, req)
	if err != nil {
		return nil, s.requestError("AlterPartitionAssignments", err)
	}
	for _, r := range resps.Sorted() {
		if r.Err != nil {
			return nil, TopicError(r.Topic, fmt.Sprintf("AlterPartitionAssignments partition %d", r.Partition), r.Err, r.ErrMessage)
		}
	}
	return set, nil
}

// waitNoReassignment polls ListPartitionReassignments until no partition of
// set (nil: of the cluster) is being reassigned, reporting each poll that
// finds some (of is how many were submitted, for the line), and returns how
// many were at first. A request that got no answer (a broker restarting
// mid-move) is asked again. The wait is bounded by ctx only: moving data can
// take far longer than one request.
func (k *Client) waitNoReassignment(ctx context.Context, set kadm.TopicsSet, of int, s reassignScope) (int, error) {
	first, n := -1, 0
	var checkErr error
	err := poll.Backoff(ctx, 200*time.Millisecond, s.maxDelay(), 0, func(ctx context.Context) (bool, error) {
		var err error
		n, err = k.reassigningPartitions(ctx, set, s)
		var inCluster *inClusterNameError
		switch {
		case err != nil && (isKafkaError(err) || ctx.Err() != nil || errors.As(err, &inCluster)):
			// An in-cluster name from outside the cluster never resolves: asking
			// again would only hide the fix the error names.
			checkErr = err
			return false, err
		case err != nil:
			s.progress(fmt.Sprintf("asking which partitions are still reassigning: %v; asking again", err))
			return false, nil
		case n == 0:
			return true, nil
		}
		if first < 0 {
			first = n
		}
		s.progress(s.moving(n, of))
		return false, nil
	})
	switch {
	case err == nil:
		s.done()
		return max(first, 0), nil
	case checkErr != nil:
		return max(first, 0), err
	}
	return max(first, 0), s.gaveUp(n, err)
}

// reassigningPartitions counts the partitions of set (nil: of the cluster)
// being reassigned. For the cluster it asks with a null topic list, which
// means every topic (kadm's ListPartitionReassignments sends nothing for an
// empty set and reports none).
func (k *Client) reassigningPartitions(ctx context.Context, set kadm.TopicsSet, s reassignScope) (int, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	req.TimeoutMillis = int32(k.timeout / time.Millisecond)
	for _, topic := range slices.Sorted(maps.Keys(set)) {
		rt := kmsg.NewListPartitionReassignmentsRequestTopic()
		rt.Topic, rt.Partitions = topic, slices.Sorted(maps.Keys(set[topic]))
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, k.raw)
	if err != nil {
		return 0, s.requestError("ListPartitionReassignments", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		if s.topic != "" {
			return 0, requestError(s.topic, "ListPartitionReassignments", &kadm.ErrAndMessage{Err: err, ErrMessage: deref(resp.ErrorMessage)})
		}
		return 0, fmt.Errorf("ListPartitionReassignments: %w (%s)%s", err, deref(resp.ErrorMessage),
			HintSuffix(kafkaHint("", "ListPartitionReassignments", err, "")))
	}
	n := 0
	for _, t := range resp.Topics {
		n += len(t.Partitions)
	}
	return n, nil
}

// waitAssignmentShown waits until every broker's own metadata shows each
// moved partition on its new brokers: the controller reports a reassignment
// done before every broker has applied it, and a client asking a lagging
// Broker would still see the old replicas.
func (k *Client) waitAssignmentShown(ctx context.Context, moves map[placement.PartitionID][]int32) error {
	return Poll(ctx, k.timeout, "waiting until every broker shows the new replicas", func(ctx context.Context) (bool, error) {
		shown, _, err := k.ClusterAssignment(ctx)
		if err != nil {
			return false, err
		}
		for p, r := range moves {
			if !slices.Equal(slices.Sorted(slices.Values(shown[p])), slices.Sorted(slices.Values(r))) {
				return false, nil
			}
		}
		return true, nil
	})
}

// topicLists are the partitions' lists before and after, indexed by
// partition number as throttleFor wants them (gaps left empty).
func topicLists(current, moves map[placement.PartitionID][]int32, parts []placement.PartitionID) (before, after [][]int32) {
	n := 0
	for _, p := range parts {
		n = max(n, int(p.Partition)+1)
	}
	before, after = make([][]int32, n), make([][]int32, n)
	for _, p := range parts {
		before[p.Partition], after[p.Partition] = current[p], moves[p]
	}
	return before, after
}
