package localkafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// Quorum is the KRaft metadata quorum as DescribeQuorum reports it.
type Quorum struct {
	// Leader is the active controller's node id, -1 if none.
	Leader int32
	// Epoch is the leader epoch.
	Epoch int32
	// Voters are the voters' node ids, ascending.
	Voters []int32
	// Observers are the brokers that follow the log without voting, ascending.
	Observers []int32
}

// Quorum describes the KRaft metadata quorum (the __cluster_metadata
// partition), asked through any broker.
func (c *Cluster) Quorum(ctx context.Context) (Quorum, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	p := kmsg.NewDescribeQuorumRequestTopicPartition()
	p.Partition = 0
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, c.admin)
	if err != nil {
		return Quorum{}, fmt.Errorf("DescribeQuorum: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return Quorum{}, fmt.Errorf("DescribeQuorum: %w", err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return Quorum{}, errors.New("DescribeQuorum: answer without the __cluster_metadata partition")
	}
	rp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
		return Quorum{}, fmt.Errorf("DescribeQuorum: %w", err)
	}
	q := Quorum{Leader: rp.LeaderID, Epoch: rp.LeaderEpoch}
	for _, v := range rp.CurrentVoters {
		q.Voters = append(q.Voters, v.ReplicaID)
	}
	for _, o := range rp.Observers {
		q.Observers = append(q.Observers, o.ReplicaID)
	}
	slices.Sort(q.Voters)
	slices.Sort(q.Observers)
	return q, nil
}

// PartitionState is one partition as a direct metadata request shows it.
type PartitionState struct {
	Partition int32
	Leader    int32
	Replicas  []int32
	ISR       []int32
}

// TopicState is one topic as a direct metadata request shows it.
type TopicState struct {
	Name       string
	ID         [16]byte
	Partitions []PartitionState // by partition
}

// Describe reads a topic with a metadata request sent now (kadm's ListTopics
// may answer from a cache). An unknown topic is an error wrapping
// kerr.UnknownTopicOrPartition.
func (c *Cluster) Describe(ctx context.Context, topic string) (TopicState, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, c.admin)
	if err != nil {
		return TopicState{}, fmt.Errorf("topic %q: metadata: %w", topic, err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return TopicState{}, fmt.Errorf("topic %q: %w", topic, err)
		}
		ts := TopicState{Name: topic, ID: t.TopicID}
		for _, p := range t.Partitions {
			ps := PartitionState{Partition: p.Partition, Leader: p.Leader,
				Replicas: slices.Clone(p.Replicas), ISR: slices.Clone(p.ISR)}
			slices.Sort(ps.Replicas)
			slices.Sort(ps.ISR)
			ts.Partitions = append(ts.Partitions, ps)
		}
		slices.SortFunc(ts.Partitions, func(a, b PartitionState) int { return int(a.Partition - b.Partition) })
		return ts, nil
	}
	return TopicState{}, fmt.Errorf("topic %q: metadata answer without it", topic)
}

// WaitInSync polls until every partition of topic has a leader and at least
// isr in-sync replicas, or ctx ends.
func (c *Cluster) WaitInSync(ctx context.Context, topic string, isr int) error {
	return c.WaitPartitions(ctx, topic, fmt.Sprintf("%d in-sync replicas per partition", isr), func(p PartitionState) bool {
		return p.Leader >= 0 && len(p.ISR) >= isr
	})
}

// WaitPartitions polls until the topic has partitions and every one of them
// satisfies ok (a topic whose metadata shows no partition satisfies nothing),
// or ctx ends; what names the state in the error.
func (c *Cluster) WaitPartitions(ctx context.Context, topic, what string, ok func(PartitionState) bool) error {
	var last TopicState
	var lastErr error
	err := poll.Until(ctx, 200*time.Millisecond, 0, func(ctx context.Context) (bool, error) {
		last, lastErr = c.Describe(ctx, topic)
		if lastErr != nil || len(last.Partitions) == 0 {
			return false, nil
		}
		for _, p := range last.Partitions {
			if !ok(p) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("topic %q: waiting for %s: %w (last: %+v, err %v)", topic, what, err, last.Partitions, lastErr)
	}
	return nil
}

// WaitPropagated polls every running node directly until each one's metadata
// shows topic with the given number of partitions, all led. Kafka brokers
// learn about a topic from the metadata log one by one, so right after a
// create a metadata request answered by another broker can still say
// UNKNOWN_TOPIC_OR_PARTITION.
func (c *Cluster) WaitPropagated(ctx context.Context, topic string, partitions int) error {
	var lastErr error
	err := poll.Until(ctx, 100*time.Millisecond, 0, func(ctx context.Context) (bool, error) {
		lastErr = nil
		for _, n := range c.nodes {
			if _, _, ok := n.running(); !ok {
				continue
			}
			if err := c.nodeSees(ctx, n.id, topic, partitions); err != nil {
				lastErr = fmt.Errorf("node %d: %w", n.id, err)
				break
			}
		}
		return lastErr == nil, nil
	})
	if err != nil {
		return fmt.Errorf("topic %q: waiting for every node to know it: %w (last: %v)", topic, err, lastErr)
	}
	return nil
}

// nodeSees asks node id alone for topic's metadata.
func (c *Cluster) nodeSees(ctx context.Context, id int, topic string, partitions int) error {
	cl, err := kgo.NewClient(append(c.adminTLS(), kgo.SeedBrokers(c.Addr(id)), kgo.DialTimeout(time.Second),
		kgo.RequestRetries(0))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("metadata answer with %d topics", len(resp.Topics))
	}
	t := resp.Topics[0]
	if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
		return err
	}
	if len(t.Partitions) != partitions {
		return fmt.Errorf("%d partitions, want %d", len(t.Partitions), partitions)
	}
	for _, p := range t.Partitions {
		if p.Leader < 0 || p.ErrorCode != 0 {
			return fmt.Errorf("partition %d has no leader yet", p.Partition)
		}
	}
	return nil
}
