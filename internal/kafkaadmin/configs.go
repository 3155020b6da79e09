package kafkaadmin

import (
	"context"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/umbrella-platform/umbrella-streaming/internal/topicconfig"
)

// UnmanagedKeys returns, sorted, the keys some broker shows that neither the
// previous state nor the inputs have: set outside Pulumi, and left alone.
func UnmanagedKeys(old, desired map[string]string, seen []map[string]string) []string {
	set := map[string]bool{}
	for _, cur := range seen {
		for key := range cur {
			_, inOld := old[key]
			_, inDesired := desired[key]
			if !inOld && !inDesired {
				set[key] = true
			}
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TopicConfigs is what one DescribeConfigs request says about a topic.
type TopicConfigs struct {
	// Exists is false when Kafka answered UNKNOWN_TOPIC_OR_PARTITION.
	Exists bool
	// Dynamic are the configs whose source is DYNAMIC_TOPIC_CONFIG.
	Dynamic map[string]string
}

// ConfigsFrom issues a DescribeConfigs request for one topic through r and
// keeps the configs whose source is DYNAMIC_TOPIC_CONFIG, i.e. those set on
// the topic itself. Broker, static and default values are left out: they are
// not the topic's inputs and would show as perpetual diffs.
func (k *Client) ConfigsFrom(ctx context.Context, r kmsg.Requestor, topic string) (TopicConfigs, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := topicConfigsRequest(topic).RequestWith(ctx, r)
	if err != nil {
		return TopicConfigs{}, requestError(topic, "DescribeConfigs", err)
	}
	for _, rc := range resp.Resources {
		if rc.ResourceName == topic {
			return topicConfigsOf(rc)
		}
	}
	return TopicConfigs{}, fmt.Errorf("topic %q: DescribeConfigs answered without this topic", topic)
}

// waitConfigs waits until every broker shows each desired config with a
// value that means the same (topicconfig.SameValue: Kafka reads values back in its own
// canonical form) and none of the removed keys: after CreateTopics or
// IncrementalAlterConfigs. Keys set outside Pulumi are not waited on.
func (k *Client) waitConfigs(ctx context.Context, topic string, desired map[string]string, removed []string) error {
	return waitEveryBroker(ctx, k, topic, fmt.Sprintf("the configs %v", desired), k.ConfigsFrom,
		func(c, _ TopicConfigs) (bool, string) {
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

// configOps returns the IncrementalAlterConfigs operations that turn the
// topic's managed configs into desired: SET for each desired key that some
// Broker shows missing or with a value that means something else (topicconfig.SameValue),
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
			if got, ok := cur[key]; !ok || !topicconfig.SameValue(key, got, v) {
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
func (k *Client) configChanges(ctx context.Context, topic string, old, desired map[string]string) (ops []kadm.AlterConfig, unmanaged []string, err error) {
	answers, err := askEveryBroker(ctx, k, topic, k.ConfigsFrom)
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
		return nil, nil, TopicError(topic, "DescribeConfigs", kerr.UnknownTopicOrPartition, "")
	}
	return configOps(old, desired, seen), UnmanagedKeys(old, desired, seen), nil
}

// ReconcileConfigs applies configChanges with IncrementalAlterConfigs (never
// the legacy AlterConfigs, which would replace the whole set), then waits
// until every broker shows it. old is the config last recorded in the state
// (nil when adopting). It returns the keys set outside Pulumi, which it leaves
// alone, for the caller's warning.
func (k *Client) ReconcileConfigs(ctx context.Context, topic string, old, desired map[string]string) (unmanaged []string, err error) {
	ops, unmanaged, err := k.configChanges(ctx, topic, old, desired)
	if err != nil || len(ops) == 0 {
		return unmanaged, err
	}
	actx, cancel := k.WithTimeout(ctx)
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
		return unmanaged, TopicError(topic, "IncrementalAlterConfigs", r.Err, r.ErrMessage)
	}
	return unmanaged, k.waitConfigs(ctx, topic, desired, removedKeys(old, desired))
}

// topicConfigsRequest asks for the configs of the topics named.
func topicConfigsRequest(topics ...string) *kmsg.DescribeConfigsRequest {
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, topic := range topics {
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType = kmsg.ConfigResourceTypeTopic
		res.ResourceName = topic
		req.Resources = append(req.Resources, res)
	}
	return req
}
