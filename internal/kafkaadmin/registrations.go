package kafkaadmin

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
)

// BrokerRegistration is one broker as the controllers have it registered.
// A broker that stops stays registered, fenced, until it is unregistered:
// Kafka keeps judging feature changes (metadata.version) against its
// software, and Metadata never lists it.
type BrokerRegistration struct {
	ID     int32
	Fenced bool
}

// Registrations lists every registered broker, fenced ones included,
// sorted by id (DescribeCluster v2, Kafka 4.0 and later).
func (k *Client) Registrations(ctx context.Context) ([]BrokerRegistration, error) {
	rctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrDescribeClusterRequest()
	req.IncludeFencedBrokers = true
	resp, err := req.RequestWith(rctx, k.raw)
	if err != nil {
		return nil, fmt.Errorf("listing the registered brokers (DescribeCluster): %w%s", err, HintSuffix(RequestHint(err)))
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("listing the registered brokers (DescribeCluster): %s%w", messagePrefix(resp.ErrorMessage), err)
	}
	if resp.Version < 2 {
		return nil, fmt.Errorf("listing the registered brokers: the brokers answer DescribeCluster v%d, which cannot "+
			"list fenced brokers (v2 is Kafka 4.0 and later)", resp.Version)
	}
	out := make([]BrokerRegistration, 0, len(resp.Brokers))
	for _, b := range resp.Brokers {
		out = append(out, BrokerRegistration{ID: b.NodeID, Fenced: b.IsFenced})
	}
	slices.SortFunc(out, func(a, b BrokerRegistration) int { return int(a.ID - b.ID) })
	return out, nil
}

// messagePrefix is "msg: " for a non-empty error message.
func messagePrefix(msg *string) string {
	if msg == nil || *msg == "" {
		return ""
	}
	return *msg + ": "
}

// Leaving sorts the registrations of brokers outside 0..n-1, the brokers a
// scale-down removed: fenced (stopped) and still running.
func Leaving(regs []BrokerRegistration, n int) (fenced, running []int32) {
	for _, r := range regs {
		if int(r.ID) < n {
			continue
		}
		if r.Fenced {
			fenced = append(fenced, r.ID)
		} else {
			running = append(running, r.ID)
		}
	}
	return fenced, running
}

// UnregisterBroker removes broker id's registration, as kafka-cluster.sh
// unregister does. Kafka forwards it to the controllers.
func (k *Client) UnregisterBroker(ctx context.Context, id int32) error {
	rctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrUnregisterBrokerRequest()
	req.BrokerID = id
	resp, err := req.RequestWith(rctx, k.raw)
	if err != nil {
		return fmt.Errorf("unregistering broker %d: %w%s", id, err, HintSuffix(RequestHint(err)))
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil && err != kerr.BrokerIDNotRegistered {
		return fmt.Errorf("unregistering broker %d: %s%w", id, messagePrefix(resp.ErrorMessage), err)
	}
	return nil
}

// unregisterRemoved ends the registrations of the brokers outside 0..n-1
// once they have stopped and hold no replica: a balance after a
// scale-down, when the StatefulSet has taken their pods (it may report the
// shrink done while the last pods still stop, so this waits up to wait for
// them to stop). A broker outside the range that still holds a replica is
// left registered: it is not removed data that a registration hides.
func (k *Client) unregisterRemoved(ctx context.Context, n int, wait time.Duration, progress func(string)) ([]int32, error) {
	var fenced, last []int32
	err := Poll(ctx, wait, "waiting for the brokers outside "+placement.IDRange(n)+" to stop", func(ctx context.Context) (bool, error) {
		regs, err := k.Registrations(ctx)
		if err != nil {
			return false, err
		}
		var running []int32
		fenced, running = Leaving(regs, n)
		if len(running) > 0 && !slices.Equal(running, last) {
			progress(fmt.Sprintf("brokers %s (outside %s) still run: waiting for their pods to stop before unregistering them",
				placement.JoinIDs(running), placement.IDRange(n)))
		}
		last = running
		return len(running) == 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: brokers %s are still running although brokers is %d; check `kubectl get pods` "+
			"(their pods should be gone), then run up again", err, placement.JoinIDs(last), n)
	}
	if len(fenced) == 0 {
		return nil, nil
	}
	v, err := k.ReadPlacement(ctx)
	if err != nil {
		return nil, err
	}
	holding, _, _ := placement.OutsideBrokers(v.Current, n)
	var done []int32
	for _, id := range fenced {
		if slices.Contains(holding, id) {
			progress(fmt.Sprintf("broker %d stopped but still holds replicas: left registered (a drain moves them)", id))
			continue
		}
		if err := k.UnregisterBroker(ctx, id); err != nil {
			return done, err
		}
		done = append(done, id)
	}
	if len(done) > 0 {
		progress(fmt.Sprintf("unregistered brokers %s: stopped, outside %s, holding no replica", placement.JoinIDs(done), placement.IDRange(n)))
	}
	return done, nil
}
