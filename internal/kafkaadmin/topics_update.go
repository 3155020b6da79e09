package kafkaadmin

import (
	"context"
	"fmt"
)

// ValidateUpdate asks Kafka, with validate-only requests that change
// nothing, whether it would accept each step of an update: the partition
// increase (CreatePartitions validateOnly) and the config changes
// (IncrementalAlterConfigs validateOnly). Update runs it before its first
// step, so that a config Kafka refuses fails the update before the
// partitions, which cannot be taken back, are added. old is the config last
// recorded in the state.
func (k *Client) ValidateUpdate(ctx context.Context, topic string, meta TopicMeta, partitions int,
	old, desired map[string]string,
) error {
	if partitions > meta.Partitions {
		vctx, cancel := k.WithTimeout(ctx)
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
			return TopicError(topic, "CreatePartitions validateOnly", r.Err, r.ErrMessage)
		}
	}
	ops, _, err := k.configChanges(ctx, topic, old, desired)
	if err != nil || len(ops) == 0 {
		return err
	}
	vctx, cancel := k.WithTimeout(ctx)
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
		return TopicError(topic, "IncrementalAlterConfigs validateOnly", r.Err, r.ErrMessage)
	}
	return nil
}
