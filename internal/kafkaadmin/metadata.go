package kafkaadmin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// TopicMeta is what one direct metadata request says about a topic.
type TopicMeta struct {
	// Exists is false when Kafka answered UNKNOWN_TOPIC_OR_PARTITION.
	Exists bool
	// Partitions is the partition count.
	Partitions int
	// ReplicationFactor is the largest replica list over all partitions.
	ReplicationFactor int
	// Led is true when the topic has no error and every partition has a leader.
	Led bool
	// Replicas are the sorted replica IDs of each partition, by partition.
	Replicas [][]int32
	// InSync is true when every partition's ISR holds all its replicas.
	InSync bool
	// Brokers are the brokers in the cluster, sorted by ID.
	Brokers []placement.Broker
}

// String is the topic as one broker shows it, for error messages.
func (m TopicMeta) String() string {
	if !m.Exists {
		return kerr.UnknownTopicOrPartition.Message
	}
	return fmt.Sprintf("%d partitions, replicas %v, all led %t, all in sync %t", m.Partitions, m.Replicas, m.Led, m.InSync)
}

// metadata issues a direct metadata request for one topic to any broker. It
// does not use kadm.ListTopics, whose answers come from the client's cached
// metadata and can be stale right after a create or delete. The answering
// Broker can still lag behind the controller: see lookup and the waits.
func (k *Client) metadata(ctx context.Context, topic string) (TopicMeta, error) {
	return k.metadataFrom(ctx, k.raw, topic)
}

// metadataFrom issues a metadata request for one topic through r: the client
// (any broker) or one broker.
func (k *Client) metadataFrom(ctx context.Context, r kmsg.Requestor, topic string) (TopicMeta, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := metadataRequest(topic).RequestWith(ctx, r)
	if err != nil {
		return TopicMeta{}, requestError(topic, "Metadata", err)
	}
	brokers := brokersOf(resp.Brokers)
	for _, t := range resp.Topics {
		if deref(t.Topic) == topic {
			return topicMetaOf(t, brokers)
		}
	}
	return TopicMeta{Brokers: brokers}, nil
}

// topicMetaOf reads one topic of a metadata answer. UNKNOWN_TOPIC_OR_PARTITION
// is a topic that does not exist (for this broker); a retriable error is a
// topic that exists but is not led yet; any other error is returned.
func topicMetaOf(t kmsg.MetadataResponseTopic, brokers []placement.Broker) (TopicMeta, error) {
	topic := deref(t.Topic)
	meta := TopicMeta{Brokers: brokers}
	terr := kerr.ErrorForCode(t.ErrorCode)
	switch {
	case errors.Is(terr, kerr.UnknownTopicOrPartition):
		return meta, nil
	case terr != nil && !kerr.IsRetriable(terr):
		return meta, TopicError(topic, "Metadata", terr, "")
	}
	parts := slices.Clone(t.Partitions)
	slices.SortFunc(parts, func(a, b kmsg.MetadataResponseTopicPartition) int { return cmp.Compare(a.Partition, b.Partition) })
	meta.Exists = true
	meta.Partitions = len(parts)
	meta.Led = terr == nil && len(parts) > 0
	meta.InSync = true
	for _, p := range parts {
		if p.ErrorCode != 0 || p.Leader < 0 {
			meta.Led = false
		}
		meta.ReplicationFactor = max(meta.ReplicationFactor, len(p.Replicas))
		replicas := slices.Sorted(slices.Values(p.Replicas))
		meta.Replicas = append(meta.Replicas, replicas)
		for _, r := range replicas {
			meta.InSync = meta.InSync && slices.Contains(p.ISR, r)
		}
	}
	return meta, nil
}

// Confirming that a topic is gone: a broker that has not yet applied a
// create answers UNKNOWN_TOPIC_OR_PARTITION, so a missing topic counts as
// gone only when every broker says so goneChecks times, goneCheckDelay
// apart. A deleted topic thus takes about a second to read as gone.
const (
	goneChecks     = 5
	goneCheckDelay = 200 * time.Millisecond
)

// confirmGone calls find at once and then every goneCheckDelay until it
// reports found, fails, or has reported nothing goneChecks times in a row;
// last is true on that final call, which may still fail to refuse an
// uncertain absence. It returns find's error as it is, and a context that
// ends between calls as "<what>: confirming that it is gone: <ctx error>".
func confirmGone(ctx context.Context, what string, find func(ctx context.Context, last bool) (found bool, err error)) error {
	check := 0
	var failed error
	err := poll.Until(ctx, goneCheckDelay, 0, func(ctx context.Context) (bool, error) {
		check++
		found, err := find(ctx, check == goneChecks)
		failed = err
		return found || check == goneChecks, err
	})
	if err != nil && failed == nil {
		return fmt.Errorf("%s: confirming that it is gone: %w", what, err)
	}
	return err
}

// Lookup finds the topic on the first broker, in ID order, that knows it,
// and returns that broker's view and ID. meta.Exists is false only when the
// absence is confirmed (see goneChecks). Brokers that do not answer are
// skipped; if one never answered, absence is not confirmed and lookup fails.
func (k *Client) Lookup(ctx context.Context, topic string) (meta TopicMeta, broker int32, err error) {
	err = confirmGone(ctx, fmt.Sprintf("topic %q", topic), func(ctx context.Context, last bool) (bool, error) {
		meta, broker, err = k.lookupOnce(ctx, topic, last)
		return meta.Exists, err
	})
	if err != nil {
		return TopicMeta{}, -1, err
	}
	return meta, broker, nil
}

// lookupOnce is one round of Lookup: every broker asked once. Without the
// topic on any broker it returns the cluster's brokers and -1, or, on the
// last round, an error when a broker did not answer.
func (k *Client) lookupOnce(ctx context.Context, topic string, last bool) (TopicMeta, int32, error) {
	cluster, err := k.metadata(ctx, topic)
	if err != nil {
		return TopicMeta{}, -1, err
	}
	var silent error
	for _, b := range cluster.Brokers {
		m, err := k.metadataFrom(ctx, k.Broker(b.ID), topic)
		switch {
		case err != nil && isKafkaError(err):
			return TopicMeta{}, -1, err
		case err != nil:
			silent = fmt.Errorf("broker %d: %w", b.ID, err)
		case m.Exists:
			return m, b.ID, nil
		}
	}
	if last && silent != nil {
		return TopicMeta{}, -1, fmt.Errorf("topic %q: no broker that answered knows it, but not every "+
			"broker answered, so it is not certain that it is gone: %w", topic, silent)
	}
	return TopicMeta{Brokers: cluster.Brokers}, -1, nil
}

// metadataRequest asks about the topics named (a topic Kafka does not have
// is reported, never created).
func metadataRequest(topics ...string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	for _, topic := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
	}
	req.AllowAutoTopicCreation = false
	return req
}
