package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicSummary is one topic as ListTopics shows it.
type TopicSummary struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	// Config holds the topic's dynamic configs (those set on the topic).
	Config map[string]string
}

// ListTopics is one broker's view of all topics and their dynamic configs,
// sorted by name.
func (k *Client) ListTopics(ctx context.Context) ([]TopicSummary, error) {
	ids, err := k.BrokerIDs(ctx)
	if err != nil {
		return nil, err
	}
	// One broker answers both requests, so that the configs are of the topics it listed.
	b := k.Broker(ids[0])
	mctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(mctx, b) // no topic list: all topics
	if err != nil {
		return nil, fmt.Errorf("listing the topics (Metadata to broker %d): %w%s", ids[0], err, HintSuffix(RequestHint(err)))
	}
	topics := map[string]*TopicSummary{}
	var names []string
	for _, t := range meta.Topics {
		name := deref(t.Topic)
		// A topic being deleted is left out; one being created (no leader yet) is listed.
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil && !kerr.IsRetriable(err) {
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				continue
			}
			return nil, TopicError(name, "Metadata", err, "")
		}
		rf := 0
		for _, p := range t.Partitions {
			rf = max(rf, len(p.Replicas))
		}
		topics[name] = &TopicSummary{Name: name, Partitions: len(t.Partitions), ReplicationFactor: rf, Config: map[string]string{}}
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > 0 {
		if err := k.dynamicConfigsOf(ctx, b, topics, names); err != nil {
			return nil, err
		}
	}
	out := []TopicSummary{}
	for _, n := range names {
		if t := topics[n]; t != nil {
			out = append(out, *t)
		}
	}
	return out, nil
}

// dynamicConfigsOf fills in each topic's dynamic topic configs with one
// DescribeConfigs request (configsMany). A topic deleted since the listing is
// dropped.
func (k *Client) dynamicConfigsOf(ctx context.Context, r kmsg.Requestor, topics map[string]*TopicSummary, names []string) error {
	errs := map[string]error{}
	configs, err := k.ConfigsMany(ctx, r, names, errs)
	if err != nil {
		return fmt.Errorf("reading the topics' configs (DescribeConfigs): %w%s", err, HintSuffix(RequestHint(err)))
	}
	for _, name := range names {
		if err := errs[name]; err != nil {
			return err
		}
		t := topics[name]
		if t == nil {
			continue
		}
		c := configs[name]
		if !c.Exists {
			topics[name] = nil
			continue
		}
		maps.Copy(t.Config, c.Dynamic)
	}
	return nil
}
