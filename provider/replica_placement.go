package provider

import (
	"context"
	"fmt"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/rules"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
)

// ReplicaPlacementToken is the Pulumi type token of the ReplicaPlacement
// resource.
const ReplicaPlacementToken = "umbrellakafka:index:ReplicaPlacement"

// DefaultPlacementTimeoutSeconds is how long a balance waits, by default,
// for its brokers to register: new broker pods are scheduled, pull their
// image and start a JVM first.
const DefaultPlacementTimeoutSeconds = 600

// ReplicaPlacement is the controller of umbrellakafka:index:ReplicaPlacement
// (issue 17): it keeps the cluster's replicas on brokers 0..brokers-1. A
// program places one in drain mode before the broker StatefulSet (so that a
// shrink first moves every replica off the brokers that go) and one in
// balance mode after it (so that a grow ends with every broker holding a
// fair share), and one `pulumi up` then runs the steps in that order.
//
// Create and Update run the moves and wait for them; a run cut short leaves
// Kafka's reassignments running, and the next run waits for them and goes
// on. Delete moves nothing back. Read reports what is misplaced now, so a
// refresh shows an update when the cluster drifted.
type ReplicaPlacement struct{}

// ReplicaPlacementArgs are the inputs of a ReplicaPlacement.
type ReplicaPlacementArgs struct {
	// Brokers is the broker count: brokers 0..Brokers-1 hold every replica.
	Brokers int `pulumi:"brokers"`
	// Mode is drain or balance.
	Mode string `pulumi:"mode"`
	// ThrottleBytesPerSecond is the replication rate each broker may use for
	// the moves, each way.
	ThrottleBytesPerSecond *int `pulumi:"throttleBytesPerSecond,optional"`
	// TimeoutSeconds bounds a balance's wait for its brokers to register.
	TimeoutSeconds *int `pulumi:"timeoutSeconds,optional"`
}

// PlacementResult is what the last run did.
type PlacementResult struct {
	// ReplicasMoved counts the replicas copied to a broker that did not hold them.
	ReplicasMoved int `pulumi:"replicasMoved"`
	// BytesMoved is their size when the move began.
	BytesMoved int `pulumi:"bytesMoved"`
	// PartitionsChanged counts the partitions whose replica list changed.
	PartitionsChanged int `pulumi:"partitionsChanged"`
	// Resumed counts the reassignments of an earlier, interrupted run that
	// this run waited for.
	Resumed int `pulumi:"resumed"`
	// UnregisteredBrokers are the brokers outside 0..brokers-1 whose
	// registration a balance ended (absent when none).
	UnregisteredBrokers []int `pulumi:"unregisteredBrokers,optional"`
}

// ReplicaPlacementState is the recorded state: the inputs, what is
// misplaced (as last read), and what the last run did.
type ReplicaPlacementState struct {
	ReplicaPlacementArgs
	// MisplacedReplicas and MisplacedPartitions count what a run would move
	// (see PlacementView.misplaced); above 0, Diff proposes an update.
	MisplacedReplicas   int `pulumi:"misplacedReplicas"`
	MisplacedPartitions int `pulumi:"misplacedPartitions"`
	// LastResult is absent until a run reached Kafka.
	LastResult *PlacementResult `pulumi:"lastResult,optional"`
}

// Compile-time checks that ReplicaPlacement implements every lifecycle step
// it claims.
var (
	_ infer.CustomResource[ReplicaPlacementArgs, ReplicaPlacementState] = ReplicaPlacement{}
	_ infer.CustomCheck[ReplicaPlacementArgs]                           = ReplicaPlacement{}
	_ infer.CustomDiff[ReplicaPlacementArgs, ReplicaPlacementState]     = ReplicaPlacement{}
	_ infer.CustomRead[ReplicaPlacementArgs, ReplicaPlacementState]     = ReplicaPlacement{}
	_ infer.CustomUpdate[ReplicaPlacementArgs, ReplicaPlacementState]   = ReplicaPlacement{}
	_ infer.CustomDelete[ReplicaPlacementState]                         = ReplicaPlacement{}
	_ infer.Annotated                                                   = (*ReplicaPlacement)(nil)
	_ infer.Annotated                                                   = (*ReplicaPlacementArgs)(nil)
	_ infer.Annotated                                                   = (*ReplicaPlacementState)(nil)
	_ infer.Annotated                                                   = (*PlacementResult)(nil)
)

// Annotate sets the type token and documents the resource.
func (r *ReplicaPlacement) Annotate(a infer.Annotator) {
	a.SetToken("index", "ReplicaPlacement")
	a.Describe(r, "Keeps every replica of the cluster on brokers 0..brokers-1 (no pulumi-kafka equivalent). Mode "+
		"\"drain\", placed before the broker StatefulSet, moves the replicas off brokers >= brokers onto registered "+
		"brokers below it (nothing else), so a shrink removes only empty brokers; mode \"balance\", placed after it, "+
		"waits until brokers 0..brokers-1 are registered and moves replicas and preferred leaders until every broker "+
		"holds a fair share, racks kept, then unregisters the brokers a shrink stopped (outside the range, holding "+
		"nothing). Moves are throttled and waited for; a preview logs how many replicas and "+
		"bytes would move, and fails when a topic's replication factor exceeds the brokers left. An interrupted run "+
		"is resumed by the next; Delete moves nothing. A refresh reads what is misplaced, and an update follows.")
}

// Annotate documents the inputs and sets their defaults.
func (a *ReplicaPlacementArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Brokers, "The broker count: brokers 0..brokers-1 must hold every replica (the StatefulSet's "+
		"replicas, whose pods carry node IDs 0..brokers-1).")
	an.Describe(&a.Mode, "\"drain\": only move replicas off brokers >= brokers, onto registered brokers below it "+
		"(before a shrink). \"balance\": wait for brokers 0..brokers-1, then spread replicas and preferred leaders "+
		"evenly over them (after a grow).")
	an.Describe(&a.ThrottleBytesPerSecond, "Replication rate each broker may use for the moves, in bytes per second "+
		"each way (leader.replication.throttled.rate and follower.replication.throttled.rate while moving; removed "+
		"afterwards). Default 52428800 (50 MiB/s).")
	an.SetDefault(&a.ThrottleBytesPerSecond, kafkaadmin.ReassignThrottleBytesPerSecond)
	an.Describe(&a.TimeoutSeconds, "How long a balance waits for brokers 0..brokers-1 to register, in seconds. "+
		"Default 600. The moves themselves are not bounded by it.")
	an.SetDefault(&a.TimeoutSeconds, DefaultPlacementTimeoutSeconds)
}

// Annotate documents the outputs.
func (s *ReplicaPlacementState) Annotate(an infer.Annotator) {
	an.Describe(&s.MisplacedReplicas, "Replicas a run would copy to another broker, as last read from Kafka "+
		"(after the last run, or by a refresh). Above 0 (or misplacedPartitions above 0), the next up updates.")
	an.Describe(&s.MisplacedPartitions, "Partitions whose replica list (or preferred leader, in balance mode) a run "+
		"would change, as last read from Kafka.")
	an.Describe(&s.LastResult, "What the last run that reached Kafka did.")
}

// Annotate documents the result fields.
func (r *PlacementResult) Annotate(an infer.Annotator) {
	an.SetToken("index", "PlacementResult")
	an.Describe(&r.ReplicasMoved, "Replicas copied to a broker that did not hold them.")
	an.Describe(&r.BytesMoved, "Their size when the moves began (each partition's largest replica).")
	an.Describe(&r.PartitionsChanged, "Partitions whose replica list or preferred leader changed.")
	an.Describe(&r.Resumed, "Reassignments of an earlier, interrupted run that this run waited for.")
	an.Describe(&r.UnregisteredBrokers, "Brokers outside 0..brokers-1 whose registration a balance ended once they "+
		"had stopped holding no replica (a scale-down's): Kafka keeps a stopped broker registered, and judges a "+
		"metadata.version change against it, until it is unregistered.")
}

// Check validates the inputs before anything runs.
func (ReplicaPlacement) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[ReplicaPlacementArgs], error) {
	args, failures, err := infer.DefaultCheck[ReplicaPlacementArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[ReplicaPlacementArgs]{Inputs: args, Failures: failures}, err
	}
	known := func(key string) bool {
		v, ok := req.NewInputs.GetOk(key)
		return !ok || !v.IsComputed()
	}
	return infer.CheckResponse[ReplicaPlacementArgs]{Inputs: args, Failures: checkPlacement(args, known)}, nil
}

// checkPlacement is the pure core of Check; known tells whether an input is
// known yet (a computed one is checked when it is).
func checkPlacement(a ReplicaPlacementArgs, known func(string) bool) []p.CheckFailure {
	var failures []p.CheckFailure
	fail := func(field string, value any, problem, fix string) {
		failures = append(failures, p.CheckFailure{Property: field, Reason: rules.Message(field, value, problem, fix)})
	}
	if known("brokers") && a.Brokers < 1 {
		fail("brokers", a.Brokers, "is below 1", "a cluster needs at least one broker to hold the replicas")
	}
	if known("mode") && a.Mode != kafkaadmin.PlacementDrain && a.Mode != kafkaadmin.PlacementBalance {
		fix := `use "drain" (before the StatefulSet, for a shrink) or "balance" (after it, for a grow)`
		if near, ok := rules.Nearest(a.Mode, []string{kafkaadmin.PlacementDrain, kafkaadmin.PlacementBalance}); ok {
			fix = fmt.Sprintf("did you mean %q? ", near) + fix
		}
		fail("mode", a.Mode, "is not a placement mode", fix)
	}
	if known("throttleBytesPerSecond") && deref(a.ThrottleBytesPerSecond) < 1 {
		fail("throttleBytesPerSecond", deref(a.ThrottleBytesPerSecond), "is below 1",
			"set the bytes per second each broker may replicate for the moves, e.g. 52428800 (50 MiB/s)")
	}
	if known("timeoutSeconds") && deref(a.TimeoutSeconds) < 1 {
		fail("timeoutSeconds", deref(a.TimeoutSeconds), "is below 1",
			"set how long to wait for the brokers to register, e.g. 600")
	}
	return failures
}

// Diff proposes an update in place for any input change, and for a state
// that records misplaced replicas (a refresh read them, or the last run left
// some). Nothing ever replaces a placement.
func (ReplicaPlacement) Diff(_ context.Context, req infer.DiffRequest[ReplicaPlacementArgs, ReplicaPlacementState]) (infer.DiffResponse, error) {
	return diffPlacement(req.State, req.Inputs), nil
}

// diffPlacement is the pure core of Diff.
func diffPlacement(olds ReplicaPlacementState, news ReplicaPlacementArgs) p.DiffResponse {
	d := map[string]p.PropertyDiff{}
	changed := func(field string, old, new any) {
		if old != new {
			d[field] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
		}
	}
	changed("brokers", olds.Brokers, news.Brokers)
	changed("mode", olds.Mode, news.Mode)
	changed("throttleBytesPerSecond", throttleOf(olds.ReplicaPlacementArgs), throttleOf(news))
	changed("timeoutSeconds", waitOf(olds.ReplicaPlacementArgs), waitOf(news))
	if olds.MisplacedReplicas > 0 {
		d["misplacedReplicas"] = p.PropertyDiff{Kind: p.Update}
	}
	if olds.MisplacedPartitions > 0 {
		d["misplacedPartitions"] = p.PropertyDiff{Kind: p.Update}
	}
	return p.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d}
}

// throttleOf is the throttle input, defaulted.
func throttleOf(a ReplicaPlacementArgs) int64 {
	if t := deref(a.ThrottleBytesPerSecond); t > 0 {
		return int64(t)
	}
	return kafkaadmin.ReassignThrottleBytesPerSecond
}

// waitOf is the registration timeout input, defaulted.
func waitOf(a ReplicaPlacementArgs) time.Duration {
	if t := deref(a.TimeoutSeconds); t > 0 {
		return time.Duration(t) * time.Second
	}
	return DefaultPlacementTimeoutSeconds * time.Second
}

// Create runs the placement: on a new cluster nothing is misplaced, and an
// existing one is drained or balanced. A drain that finds no Kafka at all
// (a new stack, whose brokers the StatefulSet after it creates) has nothing
// to move. A preview computes and logs the plan.
func (ReplicaPlacement) Create(ctx context.Context, req infer.CreateRequest[ReplicaPlacementArgs]) (infer.CreateResponse[ReplicaPlacementState], error) {
	state, err := runPlacement(ctx, ReplicaPlacementState{ReplicaPlacementArgs: req.Inputs}, -1, req.DryRun, true)
	if err != nil {
		return infer.CreateResponse[ReplicaPlacementState]{}, err
	}
	return infer.CreateResponse[ReplicaPlacementState]{ID: req.Name, Output: state}, nil
}

// Update runs the placement with the new inputs (a preview computes and
// logs the plan). Reassignments an interrupted run left are waited for
// first, so an update after a cut run finishes it.
func (ReplicaPlacement) Update(ctx context.Context, req infer.UpdateRequest[ReplicaPlacementArgs, ReplicaPlacementState]) (infer.UpdateResponse[ReplicaPlacementState], error) {
	state := req.State
	state.ReplicaPlacementArgs = req.Inputs
	state, err := runPlacement(ctx, state, req.State.Brokers, req.DryRun, false)
	if err != nil {
		return infer.UpdateResponse[ReplicaPlacementState]{}, err
	}
	return infer.UpdateResponse[ReplicaPlacementState]{Output: state}, nil
}

// runPlacement is Create and Update: from is the previous broker count (-1
// for a create), create allows a drain to find no cluster.
func runPlacement(ctx context.Context, state ReplicaPlacementState, from int, dryRun, create bool) (ReplicaPlacementState, error) {
	in := state.ReplicaPlacementArgs
	log := p.GetLogger(ctx)
	if dryRun && in.Brokers < 1 {
		log.Infof("ReplicaPlacement %s: brokers is not known yet; the plan will be computed during the update", in.Mode)
		return state, nil
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return state, err
	}
	if dryRun {
		line, err := cl.PreviewPlacement(ctx, in.Mode, from, in.Brokers, throttleOf(in))
		if err != nil {
			return state, fmt.Errorf("ReplicaPlacement %s: %w", kafkaadmin.PlacementHead(in.Mode, from, in.Brokers), err)
		}
		log.Info("ReplicaPlacement " + line)
		return state, nil
	}
	if in.Mode == kafkaadmin.PlacementDrain {
		// A balance waits for its brokers (they may be starting); a drain
		// runs before them, so no answer means no cluster on a create, and
		// would otherwise be retried for as long as the update runs.
		unreachable, err := cl.Probe(ctx)
		switch {
		case err != nil:
			return state, err
		case unreachable != nil && create:
			log.Infof("ReplicaPlacement drain to brokers %s: Kafka did not answer within %s (%v): no cluster yet, "+
				"nothing to drain", placement.IDRange(in.Brokers), kafkaadmin.PlacementProbeTimeout, unreachable)
			return state, nil
		case unreachable != nil:
			return state, fmt.Errorf("ReplicaPlacement drain to brokers %s: Kafka did not answer within %s: %w: a drain "+
				"must read where the replicas are before brokers go; check bootstrapServers and that the brokers run, "+
				"then run again", placement.IDRange(in.Brokers), kafkaadmin.PlacementProbeTimeout, unreachable)
		}
	}
	return placeAndRecord(ctx, cl, state)
}

// placeAndRecord runs the moves, records the result and reads back what is
// still misplaced.
func placeAndRecord(ctx context.Context, cl *kafkaadmin.Client, state ReplicaPlacementState) (ReplicaPlacementState, error) {
	in := state.ReplicaPlacementArgs
	log := p.GetLogger(ctx)
	start := time.Now()
	res, err := cl.Place(ctx, in.Mode, in.Brokers, throttleOf(in), waitOf(in), func(line string) {
		log.InfoStatus("ReplicaPlacement: " + line)
	})
	if err != nil {
		return state, fmt.Errorf("ReplicaPlacement %s: %w", kafkaadmin.PlacementHead(in.Mode, -1, in.Brokers), err)
	}
	state.LastResult = &PlacementResult{ReplicasMoved: res.ReplicasMoved, BytesMoved: int(res.BytesMoved),
		PartitionsChanged: res.Partitions, Resumed: res.Resumed}
	for _, id := range res.Unregistered {
		state.LastResult.UnregisteredBrokers = append(state.LastResult.UnregisteredBrokers, int(id))
	}
	log.Infof("ReplicaPlacement %s: %d replicas (%s) of %d partitions moved in %s; %d reassignments of an earlier run "+
		"waited for", kafkaadmin.PlacementHead(in.Mode, -1, in.Brokers), res.ReplicasMoved, placement.HumanBytes(res.BytesMoved),
		res.Partitions, time.Since(start).Round(100*time.Millisecond), res.Resumed)
	if len(res.Unregistered) > 0 {
		log.Infof("ReplicaPlacement %s: unregistered brokers %s (stopped, holding no replica)",
			kafkaadmin.PlacementHead(in.Mode, -1, in.Brokers), placement.JoinIDs(res.Unregistered))
	}
	v, err := cl.ReadPlacement(ctx)
	if err != nil {
		return state, err
	}
	if res.Resumed > 0 {
		// The cut run never elected the preferred leaders of the moves it
		// submitted, and this one may have had nothing left to move.
		if err := cl.ElectPreferred(ctx, kafkaadmin.PartitionSet(v.Current)); err != nil {
			return state, fmt.Errorf("ReplicaPlacement %s: after the resumed moves: %w", kafkaadmin.PlacementHead(in.Mode, -1, in.Brokers), err)
		}
	}
	state.MisplacedReplicas, state.MisplacedPartitions = v.Misplaced(in.Mode, in.Brokers)
	return state, nil
}

// Read reports what is misplaced now; the inputs stay as recorded. There is
// nothing to import: a placement holds no Kafka object.
func (ReplicaPlacement) Read(ctx context.Context, req infer.ReadRequest[ReplicaPlacementArgs, ReplicaPlacementState]) (infer.ReadResponse[ReplicaPlacementArgs, ReplicaPlacementState], error) {
	state := req.State
	if state.Mode == "" {
		return infer.ReadResponse[ReplicaPlacementArgs, ReplicaPlacementState]{}, fmt.Errorf("ReplicaPlacement %q "+
			"cannot be imported: it holds no Kafka object; declare it in the program instead (its first up drains or "+
			"balances)", req.ID)
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.ReadResponse[ReplicaPlacementArgs, ReplicaPlacementState]{}, err
	}
	v, err := cl.ReadPlacement(ctx)
	if err != nil {
		return infer.ReadResponse[ReplicaPlacementArgs, ReplicaPlacementState]{}, err
	}
	state.MisplacedReplicas, state.MisplacedPartitions = v.Misplaced(state.Mode, state.Brokers)
	return infer.ReadResponse[ReplicaPlacementArgs, ReplicaPlacementState]{ID: req.ID, Inputs: state.ReplicaPlacementArgs,
		State: state}, nil
}

// Delete moves nothing: removing the resource from the program leaves the
// replicas where they are.
func (ReplicaPlacement) Delete(context.Context, infer.DeleteRequest[ReplicaPlacementState]) (infer.DeleteResponse, error) {
	return infer.DeleteResponse{}, nil
}
