package kafkaadmin

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// WaitLed waits until every broker shows the topic with want partitions, all
// of them led: after a create or a partition increase.
func (k *Client) WaitLed(ctx context.Context, topic string, want int) error {
	return waitEveryBroker(ctx, k, topic, fmt.Sprintf("%d led partitions", want), k.metadataFrom,
		func(m, _ TopicMeta) (bool, string) {
			return m.Exists && m.Led && m.Partitions == want, m.String()
		})
}

// WaitGone waits until every broker answers UNKNOWN_TOPIC_OR_PARTITION for
// the topic, in a wait shared with every other topic waited on (settle.go).
func (k *Client) WaitGone(ctx context.Context, topic string) error {
	return k.batchers().settle.wait(ctx, settleWant{topic: topic, what: "the deletion",
		done: func(m TopicMeta, _ TopicConfigs) (bool, string) { return !m.Exists, m.String() }})
}

// WaitCreated waits until every broker shows the topic with want partitions,
// all of them led, and the desired configs (as waitConfigs judges them), in
// a wait shared with every other topic waited on (settle.go): after a create.
func (k *Client) WaitCreated(ctx context.Context, topic string, want int, desired map[string]string) error {
	what := fmt.Sprintf("%d led partitions", want)
	if len(desired) > 0 {
		what += fmt.Sprintf(" and the configs %v", desired)
	}
	return k.batchers().settle.wait(ctx, settleWant{topic: topic, what: what, configs: len(desired) > 0,
		done: func(m TopicMeta, c TopicConfigs) (bool, string) {
			if !m.Exists || !m.Led || m.Partitions != want {
				return false, m.String()
			}
			if len(desired) == 0 {
				return true, ""
			}
			if !c.Exists {
				return false, kerr.UnknownTopicOrPartition.Message
			}
			return len(configOps(nil, desired, []map[string]string{c.Dynamic})) == 0,
				fmt.Sprintf("the configs %v", c.Dynamic)
		}})
}

// DeleteTopic deletes one topic, in one DeleteTopics request together with
// the other topics whose Deletes arrive at the same time (batch.go); a topic
// that is already gone is not an error.
func (k *Client) DeleteTopic(ctx context.Context, topic string) error {
	return k.batchers().deletes.do(ctx, topic, topic)
}

// deleteBatch issues one DeleteTopics request for a batch of topics and
// gives each its own answer.
func (k *Client) deleteBatch(ops []*pendingOp[string]) {
	topics := make([]string, len(ops))
	for i, op := range ops {
		topics[i] = op.arg
	}
	ctx, cancel := k.WithTimeout(context.Background())
	defer cancel()
	resps, err := k.adm.DeleteTopics(ctx, topics...)
	for _, op := range ops {
		op.finish(deleteOutcome(op.arg, resps, err))
	}
}

// deleteOutcome is one topic's result in a DeleteTopics answer.
func deleteOutcome(topic string, resps kadm.DeleteTopicResponses, err error) error {
	if err != nil {
		return requestError(topic, "DeleteTopics", err)
	}
	r, ok := resps[topic]
	if !ok {
		return fmt.Errorf("topic %q: DeleteTopics answered without this topic", topic)
	}
	if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
		return TopicError(topic, "DeleteTopics", r.Err, r.ErrMessage)
	}
	return nil
}

// SetPartitions raises the partition count to want with CreatePartitions.
func (k *Client) SetPartitions(ctx context.Context, topic string, want int) error {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resps, err := k.adm.UpdatePartitions(ctx, want, topic)
	if err != nil {
		return requestError(topic, "CreatePartitions", err)
	}
	r, ok := resps[topic]
	if !ok {
		return fmt.Errorf("topic %q: CreatePartitions answered without this topic", topic)
	}
	if r.Err != nil {
		// A retried request whose first attempt went through (its answer lost with a
		// broken connection) is refused with INVALID_PARTITIONS: the topic already has
		// the count. That is success, not an error.
		if errors.Is(r.Err, kerr.InvalidPartitions) {
			if meta, merr := k.metadata(ctx, topic); merr == nil && meta.Exists && meta.Partitions == want {
				return nil
			}
		}
		return TopicError(topic, "CreatePartitions", r.Err, r.ErrMessage)
	}
	return nil
}
