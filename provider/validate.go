package provider

import (
	"context"
	"fmt"
)

// validateUpdate asks Kafka, with validate-only requests that change
// nothing, whether it would accept each step of an update: the partition
// increase (CreatePartitions validateOnly) and the config changes
// (IncrementalAlterConfigs validateOnly). Update runs it before its first
// step, so that a config Kafka refuses fails the update before the
// partitions, which cannot be taken back, are added. old is the config last
// recorded in the state.
func (k *kafkaClient) validateUpdate(ctx context.Context, topic string, meta topicMeta, partitions int,
	old, desired map[string]string,
) error {
	if partitions > meta.Partitions {
		vctx, cancel := k.withTimeout(ctx)
		resps, err := k.adm.ValidateUpdatePartitions(vctx, partitions, topic)
		cancel()
		if err != nil {
			return requestError(topic, "CreatePartitions validateOnly", err)
		}
		r, ok := resps[topic]
		if !ok {
			return fmt.Errorf("topic %q: CreatePartitions validateOnly answered without this topic", topic)
		}
		if r.Err != nil {
			return topicError(topic, "CreatePartitions validateOnly", r.Err, r.ErrMessage)
		}
	}
	ops, _, err := k.configChanges(ctx, topic, old, desired)
	if err != nil || len(ops) == 0 {
		return err
	}
	vctx, cancel := k.withTimeout(ctx)
	resps, err := k.adm.ValidateAlterTopicConfigs(vctx, ops, topic)
	cancel()
	if err != nil {
		return requestError(topic, "IncrementalAlterConfigs validateOnly", err)
	}
	r, err := resps.On(topic, nil)
	if err != nil {
		return fmt.Errorf("topic %q: IncrementalAlterConfigs validateOnly answered without this topic", topic)
	}
	if r.Err != nil {
		return topicError(topic, "IncrementalAlterConfigs validateOnly", r.Err, r.ErrMessage)
	}
	return nil
}

// configsBeforeReplicas reports whether Update applies the config changes
// before changing the replication factor, so that no step in between
// refuses acks=all writes (NOT_ENOUGH_REPLICAS, when a partition has fewer
// in-sync replicas than min.insync.replicas). Lowering the replication factor
// may drop it below the current min.insync.replicas, so a lowered or removed
// min.insync.replicas goes first; raising it goes last, so that a raised
// min.insync.replicas finds the replicas already there.
func configsBeforeReplicas(currentRF, desiredRF int) bool { return desiredRF < currentRF }

// updateStepHook, when set (by tests), is called after each step of Update
// that Kafka accepted: "partitions", "replicationFactor" or "config".
var updateStepHook func(step string)

func updateStepDone(step string) {
	if updateStepHook != nil {
		updateStepHook(step)
	}
}
