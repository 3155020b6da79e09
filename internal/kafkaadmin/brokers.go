package kafkaadmin

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ReplicasOnBrokers returns, for each broker id in ids that
// still holds replicas, the partitions ("topic-N", internal topics included)
// with a replica on it, sorted. Every registered broker is asked and the
// answers are merged, so one broker's stale metadata cannot hide a replica.
//
// The program calls it at preview before removing broker pods (lowering
// `brokers`): a pod that goes away takes its replicas with it.
func (k *Client) ReplicasOnBrokers(ctx context.Context, ids []int32) (map[int32][]string, error) {
	first, err := k.allMetadata(ctx, k.raw)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's partitions from %v: %w", k.bootstrap, err)
	}
	found := map[int32]map[string]bool{}
	collect(found, first, ids)
	for _, b := range first.Brokers {
		resp, err := k.allMetadata(ctx, k.Broker(b.NodeID))
		if err != nil {
			return nil, fmt.Errorf("reading the partitions broker %d knows: %w", b.NodeID, err)
		}
		collect(found, resp, ids)
	}
	out := map[int32][]string{}
	for id, parts := range found {
		for p := range parts {
			out[id] = append(out[id], p)
		}
		sort.Strings(out[id])
	}
	return out, nil
}

// allMetadata asks r for every topic (a nil topic list means all of them).
func (k *Client) allMetadata(ctx context.Context, r kmsg.Requestor) (*kmsg.MetadataResponse, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	resp, err := req.RequestWith(ctx, r)
	if err != nil {
		return nil, err
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, fmt.Errorf("topic %s: %w", deref(t.Topic), err)
		}
	}
	return resp, nil
}

// collect adds to found every partition of resp with a replica on one of ids.
func collect(found map[int32]map[string]bool, resp *kmsg.MetadataResponse, ids []int32) {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			for _, r := range p.Replicas {
				if !slices.Contains(ids, r) {
					continue
				}
				if found[r] == nil {
					found[r] = map[string]bool{}
				}
				found[r][fmt.Sprintf("%s-%d", deref(t.Topic), p.Partition)] = true
			}
		}
	}
}
