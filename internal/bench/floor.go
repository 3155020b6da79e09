package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// FloorTimes are the raw floor for n topics: one batched kadm call per phase
// on an already connected client.
type FloorTimes struct {
	// Create is one CreateTopics of n; CreateSettled adds the wait until every
	// broker's own metadata shows all n with every partition led (what the
	// provider waits for before it reports a create done).
	Create, CreateSettled time.Duration
	// Read is one DescribeTopicConfigs of n plus one ListTopics of n.
	Read time.Duration
	// Delete is one DeleteTopics of n; DeleteSettled adds the wait until no
	// broker shows any of them.
	Delete, DeleteSettled time.Duration
}

// RunFloor creates, reads and deletes the n benchmark topics with one
// batched kadm call each, checking every item's error, and leaves none behind.
func RunFloor(ctx context.Context, cl *kgo.Client, n int) (FloorTimes, error) {
	adm := kadm.NewClient(cl)
	names := TopicNames(n)
	var t FloorTimes

	start := time.Now()
	created, err := adm.CreateTopics(ctx, TopicPartitions, TopicReplicationFactor, nil, names...)
	t.Create = time.Since(start)
	if err == nil {
		err = itemErrors(func(yield func(string, error)) {
			for _, r := range created {
				yield(r.Topic, r.Err)
			}
		})
	}
	if err != nil {
		return t, fmt.Errorf("bench: CreateTopics of %d: %w", n, err)
	}
	if err := waitBrokers(ctx, cl, names, true); err != nil {
		return t, err
	}
	t.CreateSettled = time.Since(start)

	start = time.Now()
	configs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return t, fmt.Errorf("bench: DescribeTopicConfigs of %d: %w", n, err)
	}
	listed, err := adm.ListTopics(ctx, names...)
	t.Read = time.Since(start)
	if err != nil {
		return t, fmt.Errorf("bench: ListTopics of %d: %w", n, err)
	}
	if len(configs) != n || len(listed) != n {
		return t, fmt.Errorf("bench: read %d configs and %d topics, want %d", len(configs), len(listed), n)
	}
	if err := itemErrors(func(yield func(string, error)) {
		for _, c := range configs {
			yield(c.Name, c.Err)
		}
		for _, d := range listed {
			yield(d.Topic, d.Err)
		}
	}); err != nil {
		return t, fmt.Errorf("bench: reading %d topics: %w", n, err)
	}

	start = time.Now()
	deleted, err := adm.DeleteTopics(ctx, names...)
	t.Delete = time.Since(start)
	if err == nil {
		err = itemErrors(func(yield func(string, error)) {
			for _, r := range deleted {
				yield(r.Topic, r.Err)
			}
		})
	}
	if err != nil {
		return t, fmt.Errorf("bench: DeleteTopics of %d: %w", n, err)
	}
	if err := waitBrokers(ctx, cl, names, false); err != nil {
		return t, err
	}
	t.DeleteSettled = time.Since(start)
	return t, nil
}

// itemErrors joins the per-item errors (at most three named) of a batched
// answer.
func itemErrors(each func(yield func(string, error))) error {
	var bad []string
	var count int
	each(func(topic string, err error) {
		if err != nil {
			count++
			if len(bad) < 3 {
				bad = append(bad, fmt.Sprintf("%s: %v", topic, err))
			}
		}
	})
	if count == 0 {
		return nil
	}
	return fmt.Errorf("%d topics failed, e.g. %s", count, strings.Join(bad, "; "))
}

// waitBrokers polls every broker alone with one metadata request for all
// names until each shows all of them with every partition led (exist) or
// none of them (!exist).
func waitBrokers(ctx context.Context, cl *kgo.Client, names []string, exist bool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	brokers, err := brokerIDs(ctx, cl)
	if err != nil {
		return err
	}
	var lag string
	err = poll.Until(ctx, 20*time.Millisecond, 0, func(ctx context.Context) (bool, error) {
		lag = ""
		for _, id := range brokers {
			l, err := brokerLag(ctx, cl.Broker(int(id)), names, exist)
			if err != nil {
				l = err.Error()
			}
			if l != "" {
				lag = fmt.Sprintf("broker %d: %s", id, l)
				break
			}
		}
		return lag == "", nil
	})
	if err != nil {
		return fmt.Errorf("bench: waiting until every broker shows %d topics %s: %w; last, %s",
			len(names), map[bool]string{true: "created", false: "deleted"}[exist], err, lag)
	}
	return nil
}

// brokerLag returns what the first topic that is not yet as wanted looks like
// on broker r, or "" when all are.
func brokerLag(ctx context.Context, r kmsg.Requestor, names []string, exist bool) (string, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, name := range names {
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, t)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := req.RequestWith(rctx, r)
	if err != nil {
		return "", err
	}
	for _, t := range resp.Topics {
		name := deref(t.Topic)
		terr := kerr.ErrorForCode(t.ErrorCode)
		switch {
		case !exist && errors.Is(terr, kerr.UnknownTopicOrPartition):
		case !exist:
			return name + " still shown", nil
		case terr != nil:
			return fmt.Sprintf("%s: %v", name, terr), nil
		case len(t.Partitions) != TopicPartitions:
			return fmt.Sprintf("%s has %d partitions", name, len(t.Partitions)), nil
		default:
			for _, p := range t.Partitions {
				if p.Leader < 0 {
					return fmt.Sprintf("%s partition %d has no leader", name, p.Partition), nil
				}
			}
		}
	}
	return "", nil
}

// brokerIDs lists the cluster's brokers from a metadata request.
func brokerIDs(ctx context.Context, cl *kgo.Client) ([]int32, error) {
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("bench: metadata: %w", err)
	}
	ids := make([]int32, len(resp.Brokers))
	for i, b := range resp.Brokers {
		ids[i] = b.NodeID
	}
	return ids, nil
}

// Cleanup deletes every topic named bench-* left by an interrupted run and
// waits until no broker shows one.
func Cleanup(ctx context.Context, cl *kgo.Client) error {
	req := kmsg.NewPtrMetadataRequest() // nil Topics: all topics
	req.Topics = nil
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("bench: listing topics: %w", err)
	}
	var left []string
	for _, t := range resp.Topics {
		if name := deref(t.Topic); strings.HasPrefix(name, "bench-") && t.ErrorCode == 0 {
			left = append(left, name)
		}
	}
	if len(left) == 0 {
		return nil
	}
	if _, err := kadm.NewClient(cl).DeleteTopics(ctx, left...); err != nil {
		return fmt.Errorf("bench: deleting %d leftover topics: %w", len(left), err)
	}
	return waitBrokers(ctx, cl, left, false)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
