package provider

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// KraftQuorumToken is the Pulumi type token of the KraftQuorum resource.
const KraftQuorumToken = "umbrellakafka:index:KraftQuorum"

// KRaft quorum modes: which way a KraftQuorum may change the voters.
const (
	// QuorumShrink only removes voters that are not wanted (before the
	// StatefulSet, while the leaving controllers still run).
	QuorumShrink = "shrink"
	// QuorumGrow adds the wanted voters (after the StatefulSet, once they run
	// as controllers) and removes any that are not wanted.
	QuorumGrow = "grow"
)

// DefaultQuorumTimeoutSeconds is how long a grow waits, by default, for a
// new controller to follow the metadata log: its pod restarts and starts a
// JVM first, and Kubernetes may report the StatefulSet updated before its
// roll ends.
const DefaultQuorumTimeoutSeconds = 600

// KraftQuorum is the controller of umbrellakafka:index:KraftQuorum (issue
// 17): it keeps the KRaft metadata quorum's voters equal to the stack's
// controllers, one voter at a time (EnsureVoters). A program places one in
// shrink mode before the StatefulSet (it demotes the controllers that go
// while they still run; enableDynamic first migrates a static quorum) and one
// in grow mode after it (it promotes the new controllers once they follow
// the log). Delete changes nothing.
type KraftQuorum struct{}

// KraftQuorumArgs are the inputs of a KraftQuorum.
type KraftQuorumArgs struct {
	// Voters are the node ids the quorum should have as voters.
	Voters []int `pulumi:"voters"`
	// ControllerEndpoints maps each voter's node id to its controller
	// listener's host:port, which AddRaftVoter registers.
	ControllerEndpoints map[string]string `pulumi:"controllerEndpoints"`
	// ControllerListener is the controller listener's name.
	ControllerListener *string `pulumi:"controllerListener,optional"`
	// Mode is shrink or grow.
	Mode string `pulumi:"mode"`
	// EnableDynamic finalizes kraft.version 1 first (a static quorum's
	// migration).
	EnableDynamic *bool `pulumi:"enableDynamic,optional"`
	// TimeoutSeconds bounds the wait for each new voter to follow the log.
	TimeoutSeconds *int `pulumi:"timeoutSeconds,optional"`
}

// KraftQuorumState is the recorded state: the inputs, the voters as last
// read, and the steps of the last run.
type KraftQuorumState struct {
	KraftQuorumArgs
	// CurrentVoters are the voters as last read (after the last run, or by
	// a refresh); -1 entries never occur.
	CurrentVoters []int `pulumi:"currentVoters"`
	// KraftVersion is the finalized kraft.version as last read (0 static,
	// 1 dynamic).
	KraftVersion int `pulumi:"kraftVersion"`
	// LastSteps are the voter changes the last run made.
	LastSteps []string `pulumi:"lastSteps"`
}

var (
	_ infer.CustomResource[KraftQuorumArgs, KraftQuorumState] = KraftQuorum{}
	_ infer.CustomCheck[KraftQuorumArgs]                      = KraftQuorum{}
	_ infer.CustomDiff[KraftQuorumArgs, KraftQuorumState]     = KraftQuorum{}
	_ infer.CustomRead[KraftQuorumArgs, KraftQuorumState]     = KraftQuorum{}
	_ infer.CustomUpdate[KraftQuorumArgs, KraftQuorumState]   = KraftQuorum{}
	_ infer.CustomDelete[KraftQuorumState]                    = KraftQuorum{}
	_ infer.Annotated                                         = (*KraftQuorum)(nil)
	_ infer.Annotated                                         = (*KraftQuorumArgs)(nil)
	_ infer.Annotated                                         = (*KraftQuorumState)(nil)
)

// Annotate sets the type token and documents the resource.
func (r *KraftQuorum) Annotate(a infer.Annotator) {
	a.SetToken("index", "KraftQuorum")
	a.Describe(r, "Keeps the KRaft metadata quorum's voters equal to voters (KIP-853 dynamic quorum, Kafka 4.1; no "+
		"pulumi-kafka equivalent), one voter at a time, never leaving fewer than a caught-up majority. Mode \"shrink\", "+
		"placed before the broker StatefulSet, only removes voters that are not wanted, while those controllers still "+
		"run; mode \"grow\", placed after it, adds each wanted controller once it follows the metadata log as an "+
		"observer, then removes any voter not wanted. enableDynamic first finalizes kraft.version 1, which migrates a "+
		"static quorum live. An interrupted run is resumed by the next; Delete changes nothing.")
}

// Annotate documents the inputs and sets their defaults.
func (a *KraftQuorumArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Voters, "The node ids that should be the quorum's voters (the controllers: pods 0..controllers-1).")
	an.Describe(&a.ControllerEndpoints, "Each voter's controller listener as host:port, keyed by node id: the "+
		"endpoint AddRaftVoter registers (the node's advertised controller listener).")
	an.Describe(&a.ControllerListener, "The controller listener's name (controller.listener.names). Default CONTROLLER.")
	an.SetDefault(&a.ControllerListener, "CONTROLLER")
	an.Describe(&a.Mode, "\"shrink\": only remove voters not in voters (before the StatefulSet). \"grow\": add the "+
		"missing voters once they run as controllers, then remove the others (after it).")
	an.Describe(&a.EnableDynamic, "Finalize kraft.version 1 first (kafka-features upgrade --feature kraft.version=1): "+
		"migrates a static quorum (controller.quorum.voters) live. Default false.")
	an.SetDefault(&a.EnableDynamic, false)
	an.Describe(&a.TimeoutSeconds, "How long a grow waits for each new controller to run and follow the metadata "+
		"log before adding it, in seconds (the broker StatefulSet may still be rolling it). Default 600.")
	an.SetDefault(&a.TimeoutSeconds, DefaultQuorumTimeoutSeconds)
}

// Annotate documents the outputs.
func (s *KraftQuorumState) Annotate(an infer.Annotator) {
	an.Describe(&s.CurrentVoters, "The voters as last read from Kafka (after the last run, or by a refresh). When "+
		"they differ from what the mode wants, the next up updates.")
	an.Describe(&s.KraftVersion, "The finalized kraft.version as last read: 0 static, 1 dynamic.")
	an.Describe(&s.LastSteps, "The voter changes the last run made, in order.")
}

// Check validates the inputs before anything runs.
func (KraftQuorum) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[KraftQuorumArgs], error) {
	args, failures, err := infer.DefaultCheck[KraftQuorumArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[KraftQuorumArgs]{Inputs: args, Failures: failures}, err
	}
	known := func(key string) bool {
		v, ok := req.NewInputs.GetOk(key)
		return !ok || !v.IsComputed()
	}
	return infer.CheckResponse[KraftQuorumArgs]{Inputs: args, Failures: checkKraftQuorum(args, known)}, nil
}

// checkKraftQuorum is the pure core of Check.
func checkKraftQuorum(a KraftQuorumArgs, known func(string) bool) []p.CheckFailure {
	var failures []p.CheckFailure
	fail := func(field string, value any, problem, fix string) {
		failures = append(failures, p.CheckFailure{Property: field, Reason: rules.Message(field, value, problem, fix)})
	}
	if known("voters") {
		if problem, fix := voterSetProblem(a.Voters); problem != "" {
			fail("voters", a.Voters, problem, fix)
		}
	}
	if known("voters") && known("controllerEndpoints") {
		for _, id := range a.Voters {
			ep, ok := a.ControllerEndpoints[strconv.Itoa(id)]
			if !ok {
				fail("controllerEndpoints", a.ControllerEndpoints, fmt.Sprintf("has no entry for voter %d", id),
					fmt.Sprintf(`add "%d": "<host>:<controller port>"`, id))
				continue
			}
			if _, err := parseEndpoint("", ep); err != nil {
				fail(fmt.Sprintf("controllerEndpoints[%d]", id), ep, "is not host:port", "give the controller listener "+
					"as host:port, e.g. kafka-1.kafka-headless.umbrella-streaming.svc.cluster.local:9093")
			}
		}
	}
	if known("timeoutSeconds") && deref(a.TimeoutSeconds) < 1 {
		fail("timeoutSeconds", deref(a.TimeoutSeconds), "is below 1",
			"set how long to wait for a new controller, e.g. 600")
	}
	if known("mode") && a.Mode != QuorumShrink && a.Mode != QuorumGrow {
		fix := `use "shrink" (before the StatefulSet) or "grow" (after it)`
		if near, ok := rules.Nearest(a.Mode, []string{QuorumShrink, QuorumGrow}); ok {
			fix = fmt.Sprintf("did you mean %q? ", near) + fix
		}
		fail("mode", a.Mode, "is not a quorum mode", fix)
	}
	return failures
}

// voterSetProblem says what is wrong with a wanted voter set, and the fix
// ("" when nothing is).
func voterSetProblem(voters []int) (problem, fix string) {
	if len(voters) == 0 {
		return "is empty: the KRaft quorum needs at least one voter", "give the controllers' node ids, e.g. [0] or [0 1 2]"
	}
	seen := map[int]bool{}
	for _, id := range voters {
		switch {
		case id < 0:
			return fmt.Sprintf("node id %d is negative", id), "node ids are the pod ordinals 0, 1, 2..."
		case seen[id]:
			return fmt.Sprintf("lists node %d twice", id), "list each controller once"
		}
		seen[id] = true
	}
	return "", ""
}

// parseEndpoint reads host:port into a QuorumEndpoint on listener.
func parseEndpoint(listener, hostPort string) (kafkaadmin.QuorumEndpoint, error) {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return kafkaadmin.QuorumEndpoint{}, err
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 || host == "" {
		return kafkaadmin.QuorumEndpoint{}, fmt.Errorf("%q is not host:port", hostPort)
	}
	return kafkaadmin.QuorumEndpoint{Listener: listener, Host: host, Port: uint16(n)}, nil
}

func int32s(ids []int) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

func ints(ids []int32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// Diff proposes an update in place for any input change, and for recorded
// voters the mode would change (a refresh read them, or a run was cut).
func (KraftQuorum) Diff(_ context.Context, req infer.DiffRequest[KraftQuorumArgs, KraftQuorumState]) (infer.DiffResponse, error) {
	return diffKraftQuorum(req.State, req.Inputs), nil
}

// diffKraftQuorum is the pure core of Diff.
func diffKraftQuorum(olds KraftQuorumState, news KraftQuorumArgs) p.DiffResponse {
	d := map[string]p.PropertyDiff{}
	changed := func(field string, differs bool) {
		if differs {
			d[field] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
		}
	}
	changed("voters", !slices.Equal(sortedInts(olds.Voters), sortedInts(news.Voters)))
	changed("controllerEndpoints", !maps.Equal(olds.ControllerEndpoints, news.ControllerEndpoints))
	changed("controllerListener", deref(olds.ControllerListener) != deref(news.ControllerListener))
	changed("mode", olds.Mode != news.Mode)
	changed("enableDynamic", deref(olds.EnableDynamic) != deref(news.EnableDynamic))
	changed("timeoutSeconds", quorumWaitOf(olds.KraftQuorumArgs) != quorumWaitOf(news))
	if len(quorumPlan(olds.CurrentVoters, news)) > 0 {
		d["currentVoters"] = p.PropertyDiff{Kind: p.Update}
	}
	return p.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d}
}

// quorumWaitOf is the timeoutSeconds input, defaulted.
func quorumWaitOf(a KraftQuorumArgs) time.Duration {
	if t := deref(a.TimeoutSeconds); t > 0 {
		return time.Duration(t) * time.Second
	}
	return DefaultQuorumTimeoutSeconds * time.Second
}

func sortedInts(v []int) []int { return slices.Sorted(slices.Values(v)) }

// quorumTarget is the voter set a run of mode walks to from current: grow
// wants exactly voters; shrink keeps only the current voters that are
// wanted (it never adds).
func quorumTarget(current []int, a KraftQuorumArgs) []int32 {
	if a.Mode == QuorumGrow {
		return int32s(sortedInts(a.Voters))
	}
	var keep []int32
	for _, id := range sortedInts(current) {
		if slices.Contains(a.Voters, id) {
			keep = append(keep, int32(id))
		}
	}
	return keep
}

// quorumPlan lists the voter steps from current to the mode's target, as
// nextVoterStep would take them (adds first, then removals); the leader is
// not known here, so removals are in id order.
func quorumPlan(current []int, a KraftQuorumArgs) []string {
	target := quorumTarget(current, a)
	var steps []string
	for _, id := range target {
		if !slices.Contains(current, int(id)) {
			steps = append(steps, kafkaadmin.VoterStep{Add: true, ID: id}.String())
		}
	}
	for _, id := range sortedInts(current) {
		if !slices.Contains(target, int32(id)) {
			steps = append(steps, kafkaadmin.VoterStep{ID: int32(id)}.String())
		}
	}
	return steps
}

// Create runs the quorum change. A shrink on a create finds no cluster on a
// new stack (the StatefulSet after it creates the nodes) and has nothing to
// do.
func (KraftQuorum) Create(ctx context.Context, req infer.CreateRequest[KraftQuorumArgs]) (infer.CreateResponse[KraftQuorumState], error) {
	// The lists are required outputs: empty until a run reads the quorum.
	state, err := runKraftQuorum(ctx, KraftQuorumState{KraftQuorumArgs: req.Inputs, CurrentVoters: []int{}, LastSteps: []string{}},
		req.DryRun, true)
	if err != nil {
		return infer.CreateResponse[KraftQuorumState]{}, err
	}
	return infer.CreateResponse[KraftQuorumState]{ID: req.Name, Output: state}, nil
}

// Update runs the quorum change with the new inputs.
func (KraftQuorum) Update(ctx context.Context, req infer.UpdateRequest[KraftQuorumArgs, KraftQuorumState]) (infer.UpdateResponse[KraftQuorumState], error) {
	state := req.State
	state.KraftQuorumArgs = req.Inputs
	state, err := runKraftQuorum(ctx, state, req.DryRun, false)
	if err != nil {
		return infer.UpdateResponse[KraftQuorumState]{}, err
	}
	return infer.UpdateResponse[KraftQuorumState]{Output: state}, nil
}

// quorumHead names a run in messages: "KraftQuorum grow to voters [0 1 2]".
func quorumHead(a KraftQuorumArgs) string {
	return fmt.Sprintf("KraftQuorum %s to voters %v", a.Mode, sortedInts(a.Voters))
}

// runKraftQuorum is Create and Update. A preview reads the quorum and logs
// the plan; Kafka out of reach is not an error there, nor for a shrink on a
// create.
func runKraftQuorum(ctx context.Context, state KraftQuorumState, dryRun, create bool) (KraftQuorumState, error) {
	in := state.KraftQuorumArgs
	log := p.GetLogger(ctx)
	if dryRun && len(in.Voters) == 0 {
		log.Infof("KraftQuorum %s: the voters are not known yet; the plan will be computed during the update", in.Mode)
		return state, nil
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return state, err
	}
	if dryRun || (create && in.Mode == QuorumShrink) {
		unreachable, err := cl.Probe(ctx)
		switch {
		case err != nil:
			return state, fmt.Errorf("%s: %w", quorumHead(in), err)
		case unreachable != nil && dryRun:
			log.Infof("%s: Kafka did not answer within %s (%v): the plan will be computed during the update",
				quorumHead(in), kafkaadmin.PlacementProbeTimeout, unreachable)
			return state, nil
		case unreachable != nil:
			log.Infof("%s: Kafka did not answer within %s (%v): no cluster yet, nothing to change",
				quorumHead(in), kafkaadmin.PlacementProbeTimeout, unreachable)
			return state, nil
		}
	}
	if dryRun {
		q, err := cl.DescribeQuorum(ctx)
		if err != nil {
			return state, fmt.Errorf("%s: %w", quorumHead(in), err)
		}
		log.Info(previewQuorumLine(q, in))
		return state, nil
	}
	return changeQuorum(ctx, cl, state)
}

// previewQuorumLine says what a run would do to the quorum q.
func previewQuorumLine(q kafkaadmin.Quorum, in KraftQuorumArgs) string {
	steps := quorumPlan(ints(q.VoterIDs()), in)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: voters now %v (kraft.version %d, leader %d)", quorumHead(in), q.VoterIDs(), q.KRaftVersion, q.LeaderID)
	if deref(in.EnableDynamic) && q.KRaftVersion < 1 {
		b.WriteString("; will finalize kraft.version 1 (static -> dynamic quorum)")
	}
	if len(steps) == 0 {
		b.WriteString("; no voter change")
	} else {
		fmt.Fprintf(&b, "; will %s, one at a time", strings.Join(steps, ", then "))
	}
	return b.String()
}

// changeQuorum enables the dynamic quorum if asked, walks the voters to the
// mode's target and records what it read and did.
func changeQuorum(ctx context.Context, cl *kafkaadmin.Client, state KraftQuorumState) (KraftQuorumState, error) {
	in := state.KraftQuorumArgs
	log := p.GetLogger(ctx)
	start := time.Now()
	if deref(in.EnableDynamic) {
		if err := cl.EnableDynamicQuorum(ctx); err != nil {
			return state, fmt.Errorf("%s: %w", quorumHead(in), err)
		}
	}
	q, err := cl.DescribeQuorum(ctx)
	if err != nil {
		return state, fmt.Errorf("%s: %w", quorumHead(in), err)
	}
	target := quorumTarget(ints(q.VoterIDs()), in)
	if len(target) == 0 {
		return state, fmt.Errorf("%s: none of the current voters %v is wanted, and a shrink never adds: the quorum "+
			"would lose every voter; keep at least one current controller in voters", quorumHead(in), q.VoterIDs())
	}
	steps, err := cl.EnsureVoters(kafkaadmin.WithObserverWait(ctx, quorumWaitOf(in)), target, func(id int32) kafkaadmin.QuorumEndpoint {
		ep, _ := parseEndpoint(deref(in.ControllerListener), in.ControllerEndpoints[strconv.Itoa(int(id))])
		return ep
	}, func(line string) { log.InfoStatus("KraftQuorum: " + line) })
	state.LastSteps = append([]string{}, steps...)
	if err != nil {
		return state, fmt.Errorf("%s: %w", quorumHead(in), err)
	}
	log.Infof("%s: %d voter changes in %s (%s)", quorumHead(in), len(steps), time.Since(start).Round(100*time.Millisecond),
		orNone(steps))
	return readQuorumInto(ctx, cl, state)
}

func orNone(steps []string) string {
	if len(steps) == 0 {
		return "none"
	}
	return strings.Join(steps, ", ")
}

// readQuorumInto records the quorum's voters and kraft.version.
func readQuorumInto(ctx context.Context, cl *kafkaadmin.Client, state KraftQuorumState) (KraftQuorumState, error) {
	q, err := cl.DescribeQuorum(ctx)
	if err != nil {
		return state, fmt.Errorf("%s: reading the quorum back: %w", quorumHead(state.KraftQuorumArgs), err)
	}
	state.CurrentVoters = ints(q.VoterIDs())
	state.KraftVersion = int(q.KRaftVersion)
	if state.LastSteps == nil {
		state.LastSteps = []string{}
	}
	return state, nil
}

// Read records the voters now; the inputs stay as recorded. There is nothing
// to import: the quorum is the cluster's, not an object the resource made.
func (KraftQuorum) Read(ctx context.Context, req infer.ReadRequest[KraftQuorumArgs, KraftQuorumState]) (infer.ReadResponse[KraftQuorumArgs, KraftQuorumState], error) {
	state := req.State
	if state.Mode == "" {
		return infer.ReadResponse[KraftQuorumArgs, KraftQuorumState]{}, fmt.Errorf("KraftQuorum %q cannot be imported: "+
			"it holds no Kafka object; declare it in the program instead", req.ID)
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.ReadResponse[KraftQuorumArgs, KraftQuorumState]{}, err
	}
	if state, err = readQuorumInto(ctx, cl, state); err != nil {
		return infer.ReadResponse[KraftQuorumArgs, KraftQuorumState]{}, err
	}
	return infer.ReadResponse[KraftQuorumArgs, KraftQuorumState]{ID: req.ID, Inputs: state.KraftQuorumArgs, State: state}, nil
}

// Delete changes nothing: removing the resource leaves the quorum as it is.
func (KraftQuorum) Delete(context.Context, infer.DeleteRequest[KraftQuorumState]) (infer.DeleteResponse, error) {
	return infer.DeleteResponse{}, nil
}
