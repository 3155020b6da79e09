package kafkaadmin

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
)

// The two modes of a ReplicaPlacement.
const (
	// PlacementDrain only moves replicas off brokers outside 0..brokers-1,
	// onto registered brokers inside: it runs before the StatefulSet shrinks.
	PlacementDrain = "drain"
	// PlacementBalance waits for brokers 0..brokers-1 and spreads every
	// replica and preferred leader over them: it runs after the StatefulSet
	// grows.
	PlacementBalance = "balance"
)

// PlacementProbeTimeout bounds the first request of a preview, and of a
// drain's create: a new stack has no brokers yet, and its preview (and its
// drain, which runs before the brokers exist) must not wait the full
// request timeout to find out.
const PlacementProbeTimeout = 10 * time.Second

// PlacementView is the cluster as a ReplicaPlacement sees it: every
// partition's replicas (preferred leader first) and the registered brokers.
type PlacementView struct {
	Current    map[placement.PartitionID][]int32
	Registered []placement.Broker
}

// ReadPlacement reads the view once every broker shows the same replicas.
func (k *Client) ReadPlacement(ctx context.Context) (PlacementView, error) {
	current, registered, err := k.ClusterAssignment(ctx)
	return PlacementView{current, registered}, err
}

// usable are the registered brokers among 0..n-1.
func (v PlacementView) usable(n int) []placement.Broker {
	var out []placement.Broker
	for _, b := range v.Registered {
		if b.ID >= 0 && int(b.ID) < n {
			out = append(out, b)
		}
	}
	return out
}

// missing are the brokers among 0..n-1 that are not registered.
func (v PlacementView) missing(n int) []int32 {
	var out []int32
	for _, id := range placement.BrokerRange(n) {
		if !slices.ContainsFunc(v.Registered, func(b placement.Broker) bool { return b.ID == id }) {
			out = append(out, id)
		}
	}
	return out
}

// plan is what mode would do now. A balance with brokers missing is planned
// as if they had registered without a rack when assumeMissing is set (a
// preview's estimate); the real run waits for them first.
func (v PlacementView) plan(mode string, n int, assumeMissing bool) (placement.Plan, error) {
	usable := v.usable(n)
	if mode == PlacementDrain {
		leaving, _, _ := placement.OutsideBrokers(v.Current, n)
		var parts []placement.PartitionID
		for p, rs := range v.Current {
			if slices.ContainsFunc(rs, func(r int32) bool { return slices.Contains(leaving, r) }) {
				parts = append(parts, p)
			}
		}
		if err := placement.CheckFits(v.Current, parts, n, usable); err != nil {
			return placement.Plan{}, err
		}
		return placement.PlanDrain(v.Current, leaving, usable)
	}
	brokers := usable
	if assumeMissing {
		for _, id := range v.missing(n) {
			brokers = append(brokers, placement.Broker{ID: id})
		}
	}
	if err := placement.CheckFits(v.Current, slices.Collect(maps.Keys(v.Current)), n, brokers); err != nil {
		return placement.Plan{}, err
	}
	return placement.PlanRebalance(v.Current, brokers)
}

// Misplaced counts what is not as mode wants: for a balance with every
// Broker of 0..n-1 registered, the replicas and partitions its plan would
// move or reorder; otherwise (a drain, or brokers missing, e.g. restarting)
// the replicas on brokers outside 0..n-1 and their partitions. A plan that
// cannot be made counts the same way: Read must not fail on it.
func (v PlacementView) Misplaced(mode string, n int) (replicas, partitions int) {
	if mode == PlacementBalance && len(v.missing(n)) == 0 {
		if plan, err := placement.PlanRebalance(v.Current, v.usable(n)); err == nil {
			return plan.ReplicasMoved, len(plan.Moves)
		}
	}
	_, replicas, partitions = placement.OutsideBrokers(v.Current, n)
	return replicas, partitions
}

// PartitionSet is every partition of current, for ElectLeaders.
func PartitionSet(current map[placement.PartitionID][]int32) kadm.TopicsSet {
	set := kadm.TopicsSet{}
	for p := range current {
		set.Add(p.Topic, p.Partition)
	}
	return set
}

// Probe asks for the broker list within PlacementProbeTimeout. It returns
// unreachable, the reason, when no broker answered (no cluster yet, or no
// route to it), and err when a broker answered with an error.
func (k *Client) Probe(ctx context.Context) (unreachable, err error) {
	pctx, cancel := context.WithTimeout(ctx, PlacementProbeTimeout)
	defer cancel()
	_, err = k.BrokerIDs(pctx)
	switch {
	case err == nil:
		return nil, nil
	case isKafkaError(err) || ctx.Err() != nil:
		return nil, err
	default:
		return err, nil
	}
}

// PreviewPlacement computes what a run would do, without changing anything,
// and says it in one line. from is the broker count before (the previous
// brokers input, or the registered brokers for a create). A plan that
// cannot be made (a topic's replication factor larger than the brokers) is
// an error, so the preview fails; Kafka out of reach is not.
func (k *Client) PreviewPlacement(ctx context.Context, mode string, from, n int, throttle int64) (string, error) {
	unreachable, err := k.Probe(ctx)
	if err != nil {
		return "", err
	}
	head := PlacementHead(mode, from, n)
	if unreachable != nil {
		return fmt.Sprintf("%s: Kafka did not answer within %s (%v); the plan will be computed during the update",
			head, PlacementProbeTimeout, unreachable), nil
	}
	v, err := k.ReadPlacement(ctx)
	if err != nil {
		return "", err
	}
	if from < 0 {
		from = len(v.Registered)
		head = PlacementHead(mode, from, n)
	}
	plan, err := v.plan(mode, n, true)
	if err != nil {
		return "", err
	}
	bytes, err := k.movedBytes(ctx, v.Current, plan)
	size := placement.HumanBytes(bytes)
	if err != nil {
		size = fmt.Sprintf("size unknown: the log dirs could not be read: %v", err)
	}
	line := head + ": " + describePlan(v, plan, mode, n, size, throttle)
	if mode == PlacementBalance {
		regs, err := k.Registrations(ctx)
		if err != nil {
			return "", err
		}
		if fenced, running := Leaving(regs, n); len(fenced)+len(running) > 0 {
			line += fmt.Sprintf("; then brokers %s (outside %s) are unregistered once stopped",
				placement.JoinIDs(slices.Sorted(slices.Values(append(fenced, running...)))), placement.IDRange(n))
		}
	}
	return line, nil
}

// PlacementHead starts a preview line: "drain to brokers 0-2 (brokers 5 -> 3)".
func PlacementHead(mode string, from, n int) string {
	verb := "drain to"
	if mode == PlacementBalance {
		verb = "balance over"
	}
	head := fmt.Sprintf("%s brokers %s", verb, placement.IDRange(n))
	if from >= 0 && from != n {
		head += fmt.Sprintf(" (brokers %d -> %d)", from, n)
	}
	return head
}

// describePlan says what plan moves.
func describePlan(v PlacementView, plan placement.Plan, mode string, n int, size string, throttle int64) string {
	missing := v.missing(n)
	if len(plan.Moves) == 0 {
		if mode == PlacementDrain {
			return fmt.Sprintf("no replica is on a broker outside %s, nothing moves", placement.IDRange(n))
		}
		if len(missing) > 0 {
			return fmt.Sprintf("nothing moves once brokers %s register", placement.JoinIDs(missing))
		}
		return "the replicas and preferred leaders are spread already, nothing moves"
	}
	rate := placement.HumanBytes(throttle) + "/s"
	if mode == PlacementDrain {
		leaving, _, _ := placement.OutsideBrokers(v.Current, n)
		return fmt.Sprintf("%d replicas (%s) of %d partitions move off brokers %s, throttled to %s",
			plan.ReplicasMoved, size, len(plan.Moves), placement.JoinIDs(leaving), rate)
	}
	s := fmt.Sprintf("%d replicas (%s) move and %d partitions change (preferred leaders included), throttled to %s",
		plan.ReplicasMoved, size, len(plan.Moves), rate)
	if len(missing) > 0 {
		s += fmt.Sprintf("; brokers %s are not registered yet: this estimate takes them as registered without a rack, "+
			"and the update waits for them and plans again", placement.JoinIDs(missing))
	}
	return s
}

// Place runs mode: a balance waits up to wait for brokers 0..n-1 to register,
// rebalances over them and unregisters the stopped, empty brokers outside
// them (a scale-down's); a drain moves the replicas off brokers outside
// them. Both wait first for reassignments still running (an interrupted run
// resumes) and throttle the moves at throttle bytes per second.
func (k *Client) Place(ctx context.Context, mode string, n int, throttle int64, wait time.Duration,
	progress func(string),
) (BalanceResult, error) {
	if mode == PlacementBalance {
		if err := k.waitRegistered(ctx, n, wait, progress); err != nil {
			return BalanceResult{}, err
		}
		res, err := k.Rebalance(ctx, placement.BrokerRange(n), throttle, progress)
		if err != nil {
			return res, err
		}
		res.Unregistered, err = k.unregisterRemoved(ctx, n, wait, progress)
		return res, err
	}
	return k.drain(ctx, n, throttle, progress)
}

// drain is Rebalance with PlanDrain: it waits for running reassignments,
// removes leftover throttles, plans and applies the moves off brokers
// outside 0..n-1, and waits until they are done.
func (k *Client) drain(ctx context.Context, n int, throttle int64, progress func(string)) (BalanceResult, error) {
	var res BalanceResult
	var err error
	if res.Resumed, err = k.finishEarlierMoves(ctx, progress); err != nil {
		return res, err
	}
	v, err := k.ReadPlacement(ctx)
	if err != nil {
		return res, err
	}
	plan, err := v.plan(PlacementDrain, n, false)
	if err != nil {
		return res, err
	}
	res.Partitions, res.ReplicasMoved = len(plan.Moves), plan.ReplicasMoved
	if len(plan.Moves) == 0 {
		progress("no replica is on a broker outside " + placement.IDRange(n))
		return res, nil
	}
	res.BytesMoved, _ = k.movedBytes(ctx, v.Current, plan) // a figure: an unread size counts 0
	progress(fmt.Sprintf("moving %d replicas (%s) of %d partitions off brokers outside %s",
		res.ReplicasMoved, placement.HumanBytes(res.BytesMoved), res.Partitions, placement.IDRange(n)))
	return res, k.applyPlan(ctx, v.Current, plan, clusterScope(throttle, progress))
}

// waitRegistered waits until brokers 0..n-1 are all registered (new broker
// pods take a while to start), for at most wait, as every registered broker
// sees it: Rebalance plans from one broker's list, and a broker that has not
// applied a registration yet would make it refuse the new broker.
func (k *Client) waitRegistered(ctx context.Context, n int, wait time.Duration, progress func(string)) error {
	var last string
	err := Poll(ctx, wait, "waiting for brokers "+placement.IDRange(n)+" to register", func(ctx context.Context) (bool, error) {
		ids, err := k.BrokerIDs(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		lag := missingFrom(ids, n, "")
		for _, id := range ids {
			if lag != "" {
				break
			}
			seen, err := k.brokersSeenBy(ctx, id)
			if err != nil {
				lag = fmt.Sprintf("broker %d: %v", id, err)
				break
			}
			lag = missingFrom(seen, n, fmt.Sprintf(" in broker %d's view", id))
		}
		if lag != "" && lag != last {
			progress(lag)
		}
		last = lag
		return lag == "", nil
	})
	if err != nil {
		return fmt.Errorf("%w; last, %s: check that the broker pods start (kubectl get pods), or raise timeoutSeconds", err, last)
	}
	return nil
}

// missingFrom says which of brokers 0..n-1 ids lacks ("" when none).
func missingFrom(ids []int32, n int, where string) string {
	var missing []int32
	for _, id := range placement.BrokerRange(n) {
		if !slices.Contains(ids, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("brokers %s not registered yet%s (registered: %s)", placement.JoinIDs(missing), where, placement.JoinIDs(ids))
}

// brokersSeenBy asks broker id alone for the registered brokers.
func (k *Client) brokersSeenBy(ctx context.Context, id int32) ([]int32, error) {
	rctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	resp, err := req.RequestWith(rctx, k.Broker(id))
	if err != nil {
		return nil, fmt.Errorf("Metadata request failed: %w", err)
	}
	return placement.BrokerIDs(brokersOf(resp.Brokers)), nil
}
