package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
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

// reassignmentOf lists the ongoing reassignments of the topic's partitions
// (meta is its metadata) and computes the target replication factor.
func (k *kafkaClient) reassignmentOf(ctx context.Context, topic string, meta topicMeta) (reassignment, error) {
	set := kadm.TopicsSet{}
	for p := range meta.Partitions {
		set.Add(topic, int32(p))
	}
	ctx, cancel := k.withTimeout(ctx)
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

// reassignmentInProgressError refuses an update that would start a
// reassignment while one started outside Pulumi (kafka-reassign-partitions,
// Cruise Control) is still moving data: a new one would override it.
func reassignmentInProgressError(topic string, r reassignment, want int) error {
	return fmt.Errorf("topic %q: a partition reassignment started outside Pulumi is in progress (%d partition(s) "+
		"moving, to replication factor %d), and replicationFactor = %d would override it. Wait until it finishes "+
		"(kafka-reassign-partitions --verify, or kafka-reassign-partitions --list), then run pulumi up again; or "+
		"set replicationFactor = %d", topic, r.Moving, r.TargetRF, want, r.TargetRF)
}

// unmanagedWarning names the config keys set outside Pulumi that an update or
// adopt left alone.
func unmanagedWarning(topic string, unmanaged []string) string {
	return fmt.Sprintf("topic %q: left alone the config keys set outside Pulumi: %s. Pulumi manages only the keys "+
		"in the inputs (and removes only keys it recorded); add a key to config to manage it, or run pulumi "+
		"refresh to record it so that the next preview shows its removal (throttled-replica lists are never "+
		"recorded)", topic, strings.Join(unmanaged, ", "))
}
