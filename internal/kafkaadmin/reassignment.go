package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
)

// reassignment is what ListPartitionReassignments says about one topic.
type reassignment struct {
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
func (k *Client) ReassignmentOf(ctx context.Context, topic string, meta TopicMeta) (reassignment, error) {
	set := kadm.TopicsSet{}
	for p := range meta.Partitions {
		set.Add(topic, int32(p))
	}
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	pending, err := k.adm.ListPartitionReassignments(ctx, set)
	if err != nil {
		return reassignment{}, requestError(topic, "ListPartitionReassignments", err)
	}
	moving := pending[topic]
	r := reassignment{Moving: len(moving)}
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
func ReassignmentInProgressError(topic string, r reassignment, want int) error {
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
// stay, only the difference is added or dropped. While new replicas copy, the
// move is throttled (see ReassignThrottleBytesPerSecond); the throttle is
// removed afterwards, also when the reassignment fails. It then polls
// ListPartitionReassignments until none remain for the topic. Each request is
// bounded by the request timeout; the wait as a whole only by ctx, because
// moving data can take far longer than one request. progress receives one
// line per poll.
func (k *Client) ChangeReplicationFactor(ctx context.Context, topic string, rf int, progress func(string)) (err error) {
	current, brokers, err := k.Assignment(ctx, topic)
	if err != nil {
		return err
	}
	placement, err := placement.ResizeReplicas(current, rf, brokers)
	if err != nil {
		return fmt.Errorf("topic %q: %w", topic, err)
	}
	if throttle, ok := throttleFor(current, placement); ok {
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
	var req kadm.AlterPartitionAssignmentsReq
	set := kadm.TopicsSet{}
	for p, replicas := range placement {
		req.Assign(topic, int32(p), replicas)
		set.Add(topic, int32(p))
	}
	actx, cancel := k.WithTimeout(ctx)
	resps, err := k.adm.AlterPartitionAssignments(actx, req)
	cancel()
	if err != nil {
		return requestError(topic, "AlterPartitionAssignments", err)
	}
	for _, r := range resps.Sorted() {
		if r.Err != nil {
			return TopicError(topic, fmt.Sprintf("AlterPartitionAssignments partition %d", r.Partition), r.Err, r.ErrMessage)
		}
	}
	progress(fmt.Sprintf("topic %q: reassigning %d partitions to replication factor %d", topic, len(placement), rf))

	delay := 200 * time.Millisecond
	for {
		lctx, cancel := k.WithTimeout(ctx)
		pending, err := k.adm.ListPartitionReassignments(lctx, set)
		cancel()
		if err != nil {
			return requestError(topic, "ListPartitionReassignments", err)
		}
		n := len(pending[topic])
		if n == 0 {
			progress(fmt.Sprintf("topic %q: reassignment to replication factor %d done", topic, rf))
			return nil
		}
		progress(fmt.Sprintf("topic %q: %d of %d partitions still reassigning", topic, n, len(placement)))
		select {
		case <-ctx.Done():
			return fmt.Errorf("topic %q: waiting for the reassignment to replication factor %d: %w "+
				"(it continues in the cluster; check it with kafka-reassign-partitions --verify)", topic, rf, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}
