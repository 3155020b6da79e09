package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
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
	// Replicas are the sorted replica IDs of each partition, by partition.
	Replicas [][]int32
	// InSync is true when every partition's ISR holds all its replicas.
	InSync bool
	// Brokers are the brokers in the cluster, sorted by ID.
	Brokers []placement.Broker
}

// String is the topic as one broker shows it, for error messages.
func (m topicMeta) String() string {
	if !m.Exists {
		return kerr.UnknownTopicOrPartition.Message
	}
	return fmt.Sprintf("%d partitions, replicas %v, all led %t, all in sync %t", m.Partitions, m.Replicas, m.Led, m.InSync)
}

// topicConfigs is what one DescribeConfigs request says about a topic.
type topicConfigs struct {
	// Exists is false when Kafka answered UNKNOWN_TOPIC_OR_PARTITION.
	Exists bool
	// Dynamic are the configs whose source is DYNAMIC_TOPIC_CONFIG.
	Dynamic map[string]string
}

// topicError wraps a Kafka error for one topic so that the message starts
// with the topic and Kafka's error name, e.g.
// `topic "x": INVALID_REPLICATION_FACTOR: Replication factor is invalid. (CreateTopics: ...)`.
// errors.Is keeps working on the kerr value.
// A hint (errors.go) follows for codes whose fix is not obvious.
func topicError(topic, op string, err error, brokerMsg string) error {
	hint := kafkaHint(topic, op, err, brokerMsg)
	if hint != "" {
		hint = ": " + hint
	}
	if brokerMsg != "" {
		return fmt.Errorf("topic %q: %w (%s: %s)%s", topic, err, op, brokerMsg, hint)
	}
	return fmt.Errorf("topic %q: %w (%s)%s", topic, err, op, hint)
}

// requestError wraps a failure to issue a request at all (no broker
// reachable, timeout, authentication).
// Authentication and TLS failures get a hint naming the provider settings, and
// a request-level Kafka error code (e.g. CLUSTER_AUTHORIZATION_FAILED) the
// hint topicError gives it.
func requestError(topic, op string, err error) error {
	if hint := cmp.Or(requestHint(err), kafkaHint(topic, op, err, "")); hint != "" {
		return fmt.Errorf("topic %q: %s request failed: %w: %s", topic, op, err, hint)
	}
	return fmt.Errorf("topic %q: %s request failed: %w", topic, op, err)
}

// isKafkaError reports whether err carries an error code Kafka answered with,
// as opposed to a request that got no answer. Waits give up at once on the
// former and ask again on the latter.
func isKafkaError(err error) bool {
	var ke *kerr.Error
	return errors.As(err, &ke)
}

// withTimeout bounds one request by the configured request timeout.
func (k *kafkaClient) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, k.timeout)
}

// broker is a requestor that sends to the broker with this ID alone.
func (k *kafkaClient) broker(id int32) kmsg.Requestor { return k.raw.Broker(int(id)) }

// metadata issues a direct metadata request for one topic to any broker. It
// does not use kadm.ListTopics, whose answers come from the client's cached
// metadata and can be stale right after a create or delete. The answering
// broker can still lag behind the controller: see lookup and the waits.
func (k *kafkaClient) metadata(ctx context.Context, topic string) (topicMeta, error) {
	return k.metadataFrom(ctx, k.raw, topic)
}

// metadataFrom issues a metadata request for one topic through r: the client
// (any broker) or one broker.
func (k *kafkaClient) metadataFrom(ctx context.Context, r kmsg.Requestor, topic string) (topicMeta, error) {
	ctx, cancel := k.withTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return topicMeta{}, requestError(topic, "Metadata", err)
	}
	brokers := brokersOf(resp.Brokers)
	for _, t := range resp.Topics {
		if deref(t.Topic) == topic {
			return topicMetaOf(t, brokers)
		}
	}
	return topicMeta{Brokers: brokers}, nil
}

// topicMetaOf reads one topic of a metadata answer. UNKNOWN_TOPIC_OR_PARTITION
// is a topic that does not exist (for this broker); a retriable error is a
// topic that exists but is not led yet; any other error is returned.
func topicMetaOf(t kmsg.MetadataResponseTopic, brokers []placement.Broker) (topicMeta, error) {
	topic := deref(t.Topic)
	meta := topicMeta{Brokers: brokers}
	terr := kerr.ErrorForCode(t.ErrorCode)
	switch {
	case errors.Is(terr, kerr.UnknownTopicOrPartition):
		return meta, nil
	case terr != nil && !kerr.IsRetriable(terr):
		return meta, topicError(topic, "Metadata", terr, "")
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

// configsFrom issues a DescribeConfigs request for one topic through r and
// keeps the configs whose source is DYNAMIC_TOPIC_CONFIG, i.e. those set on
// the topic itself. Broker, static and default values are left out: they are
// not the topic's inputs and would show as perpetual diffs.
func (k *kafkaClient) configsFrom(ctx context.Context, r kmsg.Requestor, topic string) (topicConfigs, error) {
	ctx, cancel := k.withTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeTopic
	res.ResourceName = topic
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return topicConfigs{}, requestError(topic, "DescribeConfigs", err)
	}
	for _, rc := range resp.Resources {
		if rc.ResourceName == topic {
			return topicConfigsOf(rc)
		}
	}
	return topicConfigs{}, fmt.Errorf("topic %q: DescribeConfigs answered without this topic", topic)
}

// brokerAnswer is one broker's answer to a request sent to it alone.
type brokerAnswer[T any] struct {
	Broker int32
	Answer T
}

// askEveryBroker sends ask to every broker of the cluster alone, in ID
// order, and returns their answers. The broker list comes from a fresh
// metadata request. It stops at the first broker that gives no answer.
func askEveryBroker[T any](ctx context.Context, k *kafkaClient, topic string,
	ask func(context.Context, kmsg.Requestor, string) (T, error),
) ([]brokerAnswer[T], error) {
	cluster, err := k.metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	if len(cluster.Brokers) == 0 {
		return nil, fmt.Errorf("topic %q: the metadata answer lists no brokers", topic)
	}
	answers := make([]brokerAnswer[T], 0, len(cluster.Brokers))
	for _, b := range cluster.Brokers {
		a, err := askOne(ctx, k, b.ID, topic, ask)
		if err != nil {
			return nil, fmt.Errorf("broker %d: %w", b.ID, err)
		}
		answers = append(answers, brokerAnswer[T]{b.ID, a})
	}
	return answers, nil
}

// askOne asks one broker, and asks again while the request got no answer at
// all (a connection that died, as when a port-forward tunnel is cut), up to the
// request timeout: a request sent to one broker alone is not retried by
// franz-go. An answer from Kafka, error code or not, is final.
func askOne[T any](ctx context.Context, k *kafkaClient, id int32, topic string,
	ask func(context.Context, kmsg.Requestor, string) (T, error),
) (T, error) {
	var a T
	var last error
	err := poll(ctx, k.timeout, fmt.Sprintf("topic %q: asking broker %d", topic, id), func(ctx context.Context) (bool, error) {
		var err error
		a, err = ask(ctx, k.broker(id), topic)
		if err != nil && !isKafkaError(err) && ctx.Err() == nil {
			last = err
			return false, nil
		}
		return true, err
	})
	if err != nil && last != nil && !isKafkaError(err) {
		return a, fmt.Errorf("%w (the last attempt: %v)", err, last)
	}
	return a, err
}

// waitEveryBroker polls every broker of the cluster alone until each one's
// answer satisfies done, the context ends or the request timeout passes.
//
// Brokers apply the controller's metadata records one by one, each at its
// own pace, so right after a change one broker answers with the new state
// and another with the old: on 3 nodes, UNKNOWN_TOPIC_OR_PARTITION right
// after CreateTopics; on 1 and 3 nodes, the previous configs right after
// IncrementalAlterConfigs. A change counts as done only when every broker
// shows it, so that any later request, wherever it lands, sees it too.
// done gets each broker's answer and the first broker's answer of the same
// round, and returns false with what the lagging broker shows, for the error.
func waitEveryBroker[T any](ctx context.Context, k *kafkaClient, topic, what string,
	ask func(context.Context, kmsg.Requestor, string) (T, error),
	done func(answer, first T) (bool, string),
) error {
	var lag string
	err := poll(ctx, k.timeout, fmt.Sprintf("topic %q: waiting until every broker shows %s", topic, what),
		func(ctx context.Context) (bool, error) {
			answers, err := askEveryBroker(ctx, k, topic, ask)
			if err != nil {
				if isKafkaError(err) {
					return false, err
				}
				lag = err.Error() // a broker that did not answer may be restarting: ask again
				return false, nil
			}
			for _, a := range answers {
				if ok, seen := done(a.Answer, answers[0].Answer); !ok {
					lag = fmt.Sprintf("broker %d shows %s", a.Broker, seen)
					return false, nil
				}
			}
			return true, nil
		})
	if err != nil && lag != "" && !isKafkaError(err) {
		return fmt.Errorf("%w; last, %s", err, lag)
	}
	return err
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

// waitLed waits until every broker shows the topic with want partitions, all
// of them led: after a create or a partition increase.
func (k *kafkaClient) waitLed(ctx context.Context, topic string, want int) error {
	return waitEveryBroker(ctx, k, topic, fmt.Sprintf("%d led partitions", want), k.metadataFrom,
		func(m, _ topicMeta) (bool, string) {
			return m.Exists && m.Led && m.Partitions == want, m.String()
		})
}

// waitReassigned waits until every broker shows the same replicas for each
// of the topic's partitions, all led and all in sync: after a reassignment
// that the controller reports finished. A broker that has not applied the
// final record still shows the added replicas out of sync (growing) or the
// removed ones (shrinking, where the brokers then disagree).
func (k *kafkaClient) waitReassigned(ctx context.Context, topic string, partitions int) error {
	return waitEveryBroker(ctx, k, topic, "the finished reassignment", k.metadataFrom,
		func(m, first topicMeta) (bool, string) {
			return m.Exists && m.Led && m.InSync && m.Partitions == partitions &&
				slices.EqualFunc(m.Replicas, first.Replicas, slices.Equal[[]int32]), m.String()
		})
}

// waitGone waits until every broker answers UNKNOWN_TOPIC_OR_PARTITION for
// the topic, in a wait shared with every other topic waited on (settle.go).
func (k *kafkaClient) waitGone(ctx context.Context, topic string) error {
	return k.batchers().settle.wait(ctx, settleWant{topic: topic, what: "the deletion",
		done: func(m topicMeta, _ topicConfigs) (bool, string) { return !m.Exists, m.String() }})
}

// waitCreated waits until every broker shows the topic with want partitions,
// all of them led, and the desired configs (as waitConfigs judges them), in
// a wait shared with every other topic waited on (settle.go): after a create.
func (k *kafkaClient) waitCreated(ctx context.Context, topic string, want int, desired map[string]string) error {
	what := fmt.Sprintf("%d led partitions", want)
	if len(desired) > 0 {
		what += fmt.Sprintf(" and the configs %v", desired)
	}
	return k.batchers().settle.wait(ctx, settleWant{topic: topic, what: what, configs: len(desired) > 0,
		done: func(m topicMeta, c topicConfigs) (bool, string) {
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

// waitConfigs waits until every broker shows each desired config with a
// value that means the same (sameValue: Kafka reads values back in its own
// canonical form) and none of the removed keys: after CreateTopics or
// IncrementalAlterConfigs. Keys set outside Pulumi are not waited on.
func (k *kafkaClient) waitConfigs(ctx context.Context, topic string, desired map[string]string, removed []string) error {
	return waitEveryBroker(ctx, k, topic, fmt.Sprintf("the configs %v", desired), k.configsFrom,
		func(c, _ topicConfigs) (bool, string) {
			if !c.Exists {
				return false, kerr.UnknownTopicOrPartition.Message
			}
			return len(configOps(nil, desired, []map[string]string{c.Dynamic})) == 0 && !hasAny(c.Dynamic, removed),
				fmt.Sprintf("the configs %v", c.Dynamic)
		})
}

func hasAny(m map[string]string, keys []string) bool {
	for _, key := range keys {
		if _, ok := m[key]; ok {
			return true
		}
	}
	return false
}

// Confirming that a topic is gone: a broker that has not yet applied a
// create answers UNKNOWN_TOPIC_OR_PARTITION, so a missing topic counts as
// gone only when every broker says so goneChecks times, goneCheckDelay
// apart. A deleted topic thus takes about a second to read as gone.
const (
	goneChecks     = 5
	goneCheckDelay = 200 * time.Millisecond
)

// lookup finds the topic on the first broker, in ID order, that knows it,
// and returns that broker's view and ID. meta.Exists is false only when the
// absence is confirmed (see goneChecks). Brokers that do not answer are
// skipped; if one never answered, absence is not confirmed and lookup fails.
func (k *kafkaClient) lookup(ctx context.Context, topic string) (meta topicMeta, broker int32, err error) {
	for check := 1; ; check++ {
		cluster, err := k.metadata(ctx, topic)
		if err != nil {
			return topicMeta{}, -1, err
		}
		var silent error
		for _, b := range cluster.Brokers {
			m, err := k.metadataFrom(ctx, k.broker(b.ID), topic)
			switch {
			case err != nil && isKafkaError(err):
				return topicMeta{}, -1, err
			case err != nil:
				silent = fmt.Errorf("broker %d: %w", b.ID, err)
			case m.Exists:
				return m, b.ID, nil
			}
		}
		if check == goneChecks {
			if silent != nil {
				return topicMeta{}, -1, fmt.Errorf("topic %q: no broker that answered knows it, but not every "+
					"broker answered, so it is not certain that it is gone: %w", topic, silent)
			}
			return topicMeta{Brokers: cluster.Brokers}, -1, nil
		}
		select {
		case <-ctx.Done():
			return topicMeta{}, -1, fmt.Errorf("topic %q: confirming that it is gone: %w", topic, ctx.Err())
		case <-time.After(goneCheckDelay):
		}
	}
}

// deleteTopic deletes one topic, in one DeleteTopics request together with
// the other topics whose Deletes arrive at the same time (batch.go); a topic
// that is already gone is not an error.
func (k *kafkaClient) deleteTopic(ctx context.Context, topic string) error {
	return k.batchers().deletes.do(ctx, topic, topic)
}

// deleteBatch issues one DeleteTopics request for a batch of topics and
// gives each its own answer.
func (k *kafkaClient) deleteBatch(ops []*pendingOp[string]) {
	topics := make([]string, len(ops))
	for i, op := range ops {
		topics[i] = op.arg
	}
	ctx, cancel := k.withTimeout(context.Background())
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
		// A retried request whose first attempt went through (its answer lost with a
		// broken connection) is refused with INVALID_PARTITIONS: the topic already has
		// the count. That is success, not an error.
		if errors.Is(r.Err, kerr.InvalidPartitions) {
			if meta, merr := k.metadata(ctx, topic); merr == nil && meta.Exists && meta.Partitions == want {
				return nil
			}
		}
		return topicError(topic, "CreatePartitions", r.Err, r.ErrMessage)
	}
	return nil
}

// configOps returns the IncrementalAlterConfigs operations that turn the
// topic's managed configs into desired: SET for each desired key that some
// broker shows missing or with a value that means something else (sameValue),
// DELETE for each key of the previous state (old) that is not desired,
// whether or not a broker shows it, so a broker lagging behind an earlier
// write cannot hide it. Keys that neither old nor desired has were set outside
// Pulumi and are left alone: a preview shows only the state and the inputs,
// so the update changes nothing else (see Topic.Update). The result is sorted
// by key, so requests are deterministic.
func configOps(old, desired map[string]string, seen []map[string]string) []kadm.AlterConfig {
	set := map[string]bool{}
	for _, cur := range seen {
		for key, v := range desired {
			if got, ok := cur[key]; !ok || !sameValue(key, got, v) {
				set[key] = true
			}
		}
	}
	var ops []kadm.AlterConfig
	for key := range set {
		ops = append(ops, kadm.AlterConfig{Op: kadm.SetConfig, Name: key, Value: kadm.StringPtr(desired[key])})
	}
	for _, key := range removedKeys(old, desired) {
		ops = append(ops, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: key})
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
	return ops
}

// removedKeys returns, sorted, the keys of old that desired lacks.
func removedKeys(old, desired map[string]string) []string {
	var keys []string
	for key := range old {
		if _, ok := desired[key]; !ok {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	return keys
}

// configChanges reads the topic's dynamic configs from every broker and
// returns the operations that turn them into desired (see configOps), and the
// keys set outside Pulumi, which the operations leave alone.
func (k *kafkaClient) configChanges(ctx context.Context, topic string, old, desired map[string]string) (ops []kadm.AlterConfig, unmanaged []string, err error) {
	answers, err := askEveryBroker(ctx, k, topic, k.configsFrom)
	if err != nil {
		return nil, nil, err
	}
	var seen []map[string]string
	for _, a := range answers {
		if a.Answer.Exists {
			seen = append(seen, a.Answer.Dynamic)
		}
	}
	if len(seen) == 0 {
		return nil, nil, topicError(topic, "DescribeConfigs", kerr.UnknownTopicOrPartition, "")
	}
	return configOps(old, desired, seen), unmanagedKeys(old, desired, seen), nil
}

// reconcileConfigs applies configChanges with IncrementalAlterConfigs (never
// the legacy AlterConfigs, which would replace the whole set), then waits
// until every broker shows it. old is the config last recorded in the state
// (nil when adopting). It returns the keys set outside Pulumi, which it leaves
// alone, for the caller's warning.
func (k *kafkaClient) reconcileConfigs(ctx context.Context, topic string, old, desired map[string]string) (unmanaged []string, err error) {
	ops, unmanaged, err := k.configChanges(ctx, topic, old, desired)
	if err != nil || len(ops) == 0 {
		return unmanaged, err
	}
	actx, cancel := k.withTimeout(ctx)
	resps, err := k.adm.AlterTopicConfigs(actx, ops, topic)
	cancel()
	if err != nil {
		return unmanaged, requestError(topic, "IncrementalAlterConfigs", err)
	}
	r, err := resps.On(topic, nil)
	if err != nil {
		return unmanaged, fmt.Errorf("topic %q: IncrementalAlterConfigs answered without this topic", topic)
	}
	if r.Err != nil {
		return unmanaged, topicError(topic, "IncrementalAlterConfigs", r.Err, r.ErrMessage)
	}
	return unmanaged, k.waitConfigs(ctx, topic, desired, removedKeys(old, desired))
}

// changeReplicationFactor reassigns every partition of the topic to rf
// replicas with ResizeReplicas: existing replicas and the preferred leader
// stay, only the difference is added or dropped. While new replicas copy, the
// move is throttled (see ReassignThrottleBytesPerSecond); the throttle is
// removed afterwards, also when the reassignment fails. It then polls
// ListPartitionReassignments until none remain for the topic. Each request is
// bounded by the request timeout; the wait as a whole only by ctx, because
// moving data can take far longer than one request. progress receives one
// line per poll.
func (k *kafkaClient) changeReplicationFactor(ctx context.Context, topic string, rf int, progress func(string)) (err error) {
	current, brokers, err := k.assignment(ctx, topic)
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
