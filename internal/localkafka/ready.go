package localkafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// waitReady polls until every node in ids answers a metadata request on its
// own client port listing itself, the cluster lists every running node as a
// broker, and the KRaft quorum has a leader. It fails at once if a node's
// process exits.
func (c *Cluster) waitReady(ctx context.Context, ids []int) error {
	ready := map[int]bool{}
	var lastErr error
	err := poll.Until(ctx, 250*time.Millisecond, c.opts.StartTimeout, func(ctx context.Context) (bool, error) {
		for _, id := range ids {
			n := c.nodes[id]
			if _, _, ok := n.running(); !ok {
				return false, fmt.Errorf("localkafka: node %d stopped while starting (%s): %s", id, n.exitState(),
					diagnose(c.opts.Dir, id))
			}
		}
		lastErr = nil
		for _, id := range ids {
			if ready[id] {
				continue
			}
			if err := c.probe(ctx, id); err != nil {
				lastErr = fmt.Errorf("node %d: %w", id, err)
				continue
			}
			ready[id] = true
		}
		if lastErr == nil {
			lastErr = c.clusterReady(ctx)
		}
		return lastErr == nil, nil
	})
	if err == nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return err // ready, or a node stopped
	}
	var pending []string
	for _, id := range ids {
		if !ready[id] {
			pending = append(pending, diagnose(c.opts.Dir, id))
		}
	}
	if len(pending) == 0 {
		pending = append(pending, "every node answers; logs: "+c.allLogs())
	}
	return fmt.Errorf("localkafka: cluster not ready after %s (last check: %v):\n%s", c.opts.StartTimeout,
		lastErr, strings.Join(pending, "\n"))
}

func (c *Cluster) allLogs() string {
	var parts []string
	for _, n := range c.nodes {
		parts = append(parts, fmt.Sprintf("node %d (%s)", n.id, c.Logs(n.id)))
	}
	return strings.Join(parts, "; ")
}

// probe sends a metadata request to node id alone, through a fresh client
// seeded with only that node, and checks the node lists itself.
func (c *Cluster) probe(ctx context.Context, id int) error {
	cl, err := kgo.NewClient(append(c.adminTLS(), kgo.SeedBrokers(c.Addr(id)), kgo.DialTimeout(time.Second),
		kgo.RequestRetries(0))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(pctx, cl)
	if err != nil {
		return err
	}
	for _, b := range resp.Brokers {
		if int(b.NodeID) == id {
			return nil
		}
	}
	return fmt.Errorf("answers but does not list itself among brokers %v", brokerIDs(resp.Brokers))
}

func brokerIDs(bs []kmsg.MetadataResponseBroker) []int32 {
	ids := make([]int32, len(bs))
	for i, b := range bs {
		ids[i] = b.NodeID
	}
	slices.Sort(ids)
	return ids
}

// clusterReady checks the quorum has a leader and the cluster metadata lists
// every running node.
func (c *Cluster) clusterReady(ctx context.Context) error {
	q, err := c.Quorum(ctx)
	if err != nil {
		return err
	}
	if q.Leader < 0 {
		return errors.New("the KRaft quorum has no leader yet")
	}
	mctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(mctx, c.admin)
	if err != nil {
		return err
	}
	listed := brokerIDs(resp.Brokers)
	for _, n := range c.nodes {
		if _, _, ok := n.running(); ok && !slices.Contains(listed, int32(n.id)) {
			return fmt.Errorf("the cluster lists brokers %v, not yet node %d", listed, n.id)
		}
	}
	return nil
}
