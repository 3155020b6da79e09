package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicMeta is what one direct metadata request says about a topic.
type topicMeta struct {
	// Exists is false when Kafka answered UNKNOWN_TOPIC_OR_PARTITION.
	Exists bool
	// Partitions is the partition count.
	Partitions int
	// ReplicationFactor is the largest replica list over all partitions.
	ReplicationFactor int
	// Led is true when the topic has no error and every partition has a leader.
	Led bool
	// Brokers are the brokers in the cluster, sorted by ID.
	Brokers []Broker
}

// topicError wraps a Kafka error for one topic so that the message starts
// with the topic and Kafka's error name, e.g.
// `topic "x": INVALID_REPLICATION_FACTOR: Replication factor is invalid. (CreateTopics: ...)`.
// errors.Is keeps working on the kerr value.
func topicError(topic, op string, err error, brokerMsg string) error {
	if brokerMsg != "" {
		return fmt.Errorf("topic %q: %w (%s: %s)", topic, err, op, brokerMsg)
	}
	return fmt.Errorf("topic %q: %w (%s)", topic, err, op)
}

// requestError wraps a failure to issue a request at all (no broker
// reachable, timeout, authentication).
func requestError(topic, op string, err error) error {
	return fmt.Errorf("topic %q: %s request failed: %w", topic, op, err)
}

// withTimeout bounds one request by the configured request timeout.
func (k *kafkaClient) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, k.timeout)
}

// metadata issues a direct metadata request for one topic. It does not use
// kadm.ListTopics, whose answers come from the client's cached metadata and
// can be stale right after a create or delete.
func (k *kafkaClient) metadata(ctx context.Context, topic string) (topicMeta, error) {
	ctx, cancel := k.withTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, k.raw)
	if err != nil {
		return topicMeta{}, requestError(topic, "Metadata", err)
	}
	var meta topicMeta
	for _, b := range resp.Brokers {
		meta.Brokers = append(meta.Brokers, Broker{ID: b.NodeID, Rack: deref(b.Rack)})
	}
	sort.Slice(meta.Brokers, func(i, j int) bool { return meta.Brokers[i].ID < meta.Brokers[j].ID })
	for _, t := range resp.Topics {
		if deref(t.Topic) != topic {
			continue
		}
		terr := kerr.ErrorForCode(t.ErrorCode)
		switch {
		case errors.Is(terr, kerr.UnknownTopicOrPartition):
			return meta, nil
		case terr != nil && !kerr.IsRetriable(terr):
			return meta, topicError(topic, "Metadata", terr, "")
		}
		meta.Exists = true
		meta.Partitions = len(t.Partitions)
		meta.Led = terr == nil && len(t.Partitions) > 0
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 || p.Leader < 0 {
				meta.Led = false
			}
			meta.ReplicationFactor = max(meta.ReplicationFactor, len(p.Replicas))
		}
		return meta, nil
	}
	return meta, nil
}

// poll calls check until it reports done, the context ends or timeout passes.
// It backs off from 50 ms to 1 s between calls.
func poll(ctx context.Context, timeout time.Duration, what string, check func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: gave up after %s: %w", what, timeout, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// waitLed waits until a direct metadata request shows the topic with want
// partitions, all of them led.
func (k *kafkaClient) waitLed(ctx context.Context, topic string, want int) error {
	return poll(ctx, k.timeout, fmt.Sprintf("topic %q: waiting for %d led partitions", topic, want),
		func(ctx context.Context) (bool, error) {
			m, err := k.metadata(ctx, topic)
			if err != nil {
				return false, err
			}
			return m.Exists && m.Led && m.Partitions == want, nil
		})
}

// waitGone waits until a direct metadata request answers
// UNKNOWN_TOPIC_OR_PARTITION for the topic.
func (k *kafkaClient) waitGone(ctx context.Context, topic string) error {
	return poll(ctx, k.timeout, fmt.Sprintf("topic %q: waiting for the deletion to show in metadata", topic),
		func(ctx context.Context) (bool, error) {
			m, err := k.metadata(ctx, topic)
			return err == nil && !m.Exists, err
		})
}

// createTopic issues CreateTopics for one topic. The returned error wraps the
// item's kerr error, so errors.Is(err, kerr.TopicAlreadyExists) works.
func (k *kafkaClient) createTopic(ctx context.Context, topic string, partitions, rf int, configs map[string]string) error {
	ctx, cancel := k.withTimeout(ctx)
	defer cancel()
	var cfg map[string]*string
	if len(configs) > 0 {
		cfg = make(map[string]*string, len(configs))
		for key, v := range configs {
			cfg[key] = kadm.StringPtr(v)
		}
	}
	resps, err := k.adm.CreateTopics(ctx, int32(partitions), int16(rf), cfg, topic)
	if err != nil {
		return requestError(topic, "CreateTopics", err)
	}
	r, ok := resps[topic]
	if !ok {
		return fmt.Errorf("topic %q: CreateTopics answered without this topic", topic)
	}
	if r.Err != nil {
		return topicError(topic, "CreateTopics", r.Err, r.ErrMessage)
	}
	return nil
}

// deleteTopic issues DeleteTopics for one topic; a topic that is already
// gone is not an error.
func (k *kafkaClient) deleteTopic(ctx context.Context, topic string) error {
	ctx, cancel := k.withTimeout(ctx)
	defer cancel()
	resps, err := k.adm.DeleteTopics(ctx, topic)
	if err != nil {
		return requestError(topic, "DeleteTopics", err)
	}
	r, ok := resps[topic]
	if !ok {
		return fmt.Errorf("topic %q: DeleteTopics answered without this topic", topic)
	}
	if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
		return topicError(topic, "DeleteTopics", r.Err, r.ErrMessage)
	}
	return nil
}

// setPartitions raises the partition count to want with CreatePartitions.
func (k *kafkaClient) setPartitions(ctx context.Context, topic string, want int) error {
	ctx, cancel := k.withTimeout(ctx)
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
		return topicError(topic, "CreatePartitions", r.Err, r.ErrMessage)
	}
	return nil
}

// dynamicConfigs returns the topic's configs whose source is
// DYNAMIC_TOPIC_CONFIG, i.e. those set on the topic itself. Broker, static
// and default values are left out: they are not the topic's inputs and would
// show as perpetual diffs. found is false when the topic does not exist.
func (k *kafkaClient) dynamicConfigs(ctx context.Context, topic string) (cfg map[string]string, found bool, err error) {
	ctx, cancel := k.withTimeout(ctx)
	defer cancel()
	rcs, err := k.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return nil, false, requestError(topic, "DescribeConfigs", err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return nil, false, fmt.Errorf("topic %q: DescribeConfigs answered without this topic", topic)
	}
	if rc.Err != nil {
		if errors.Is(rc.Err, kerr.UnknownTopicOrPartition) {
			return nil, false, nil
		}
		return nil, false, topicError(topic, "DescribeConfigs", rc.Err, rc.ErrMessage)
	}
	cfg = map[string]string{}
	for _, c := range rc.Configs {
		if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			cfg[c.Key] = c.MaybeValue()
		}
	}
	return cfg, true, nil
}

// configOps returns the IncrementalAlterConfigs operations that turn current
// into desired: SET for new or changed keys, DELETE for keys not desired.
// The result is sorted by key, so requests are deterministic.
func configOps(current, desired map[string]string) []kadm.AlterConfig {
	var ops []kadm.AlterConfig
	for key, v := range desired {
		if cur, ok := current[key]; !ok || cur != v {
			ops = append(ops, kadm.AlterConfig{Op: kadm.SetConfig, Name: key, Value: kadm.StringPtr(v)})
		}
	}
	for key := range current {
		if _, ok := desired[key]; !ok {
			ops = append(ops, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: key})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
	return ops
}

// reconcileConfigs reads the topic's dynamic configs and applies the
// difference to desired with IncrementalAlterConfigs (never the legacy
// AlterConfigs, which would replace the whole set).
func (k *kafkaClient) reconcileConfigs(ctx context.Context, topic string, desired map[string]string) error {
	current, found, err := k.dynamicConfigs(ctx, topic)
	if err != nil {
		return err
	}
	if !found {
		return topicError(topic, "DescribeConfigs", kerr.UnknownTopicOrPartition, "")
	}
	ops := configOps(current, desired)
	if len(ops) == 0 {
		return nil
	}
	ctx, cancel := k.withTimeout(ctx)
	defer cancel()
	resps, err := k.adm.AlterTopicConfigs(ctx, ops, topic)
	if err != nil {
		return requestError(topic, "IncrementalAlterConfigs", err)
	}
	r, err := resps.On(topic, nil)
	if err != nil {
		return fmt.Errorf("topic %q: IncrementalAlterConfigs answered without this topic", topic)
	}
	if r.Err != nil {
		return topicError(topic, "IncrementalAlterConfigs", r.Err, r.ErrMessage)
	}
	return nil
}

// changeReplicationFactor reassigns every partition of the topic to the
// placement PlaceReplicas computes for rf, then polls
// ListPartitionReassignments until none remain for the topic. Each request is
// bounded by the request timeout; the wait as a whole only by ctx, because
// moving data can take far longer than one request. progress receives one
// line per poll.
func (k *kafkaClient) changeReplicationFactor(ctx context.Context, topic string, rf int, progress func(string)) error {
	meta, err := k.metadata(ctx, topic)
	if err != nil {
		return err
	}
	if !meta.Exists {
		return topicError(topic, "Metadata", kerr.UnknownTopicOrPartition, "")
	}
	placement, err := PlaceReplicas(meta.Partitions, rf, meta.Brokers)
	if err != nil {
		return fmt.Errorf("topic %q: %w", topic, err)
	}
	var req kadm.AlterPartitionAssignmentsReq
	set := kadm.TopicsSet{}
	for p, replicas := range placement {
		req.Assign(topic, int32(p), replicas)
		set.Add(topic, int32(p))
	}
	actx, cancel := k.withTimeout(ctx)
	resps, err := k.adm.AlterPartitionAssignments(actx, req)
	cancel()
	if err != nil {
		return requestError(topic, "AlterPartitionAssignments", err)
	}
	for _, r := range resps.Sorted() {
		if r.Err != nil {
			return topicError(topic, fmt.Sprintf("AlterPartitionAssignments partition %d", r.Partition), r.Err, r.ErrMessage)
		}
	}
	progress(fmt.Sprintf("topic %q: reassigning %d partitions to replication factor %d", topic, len(placement), rf))

	delay := 200 * time.Millisecond
	for {
		lctx, cancel := k.withTimeout(ctx)
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
