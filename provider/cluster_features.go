package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// ClusterFeaturesToken is the Pulumi type token of the ClusterFeatures resource.
const ClusterFeaturesToken = "umbrellakafka:index:ClusterFeatures"

// ClusterFeatures modes: where in the program an instance stands.
const (
	// FeaturesGuard stands before the broker StatefulSet and changes
	// nothing: it refuses, at preview and before the roll, a software
	// version the cluster's finalized metadata.version rules out, and a
	// metadata change in the same update as a software change.
	FeaturesGuard = "guard"
	// FeaturesFinalize stands after the StatefulSet: once every broker runs
	// the software, it sets metadata.version as asked.
	FeaturesFinalize = "finalize"
)

// releasePattern is a Kafka release, X.Y.Z.
var releasePattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// MetadataLatest, as metadataVersion, is the newest level every broker
// supports.
const MetadataLatest = "latest"

// ClusterFeatures is the controller of umbrellakafka:index:ClusterFeatures
// (issue 28): Kafka software upgrades by stack config. Strimzi keeps the
// broker version and the metadata version apart, rolls the software first
// and raises the metadata version only once every broker runs it, since a
// raised metadata version cannot always be lowered; this resource is that
// second step, and the guard that keeps the first from going wrong.
type ClusterFeatures struct{}

// ClusterFeaturesArgs are the inputs of a ClusterFeatures.
type ClusterFeaturesArgs struct {
	// SoftwareVersion is the Kafka release the broker pods run (X.Y.Z).
	SoftwareVersion string `pulumi:"softwareVersion"`
	// MetadataVersion is "" (leave it), "latest", or a release "X.Y".
	MetadataVersion *string `pulumi:"metadataVersion,optional"`
	// Mode is guard or finalize.
	Mode string `pulumi:"mode"`
	// RollOrder names the pods in the order a software change rolls them,
	// for the guard's preview; it changes nothing, so Diff ignores it.
	RollOrder []string `pulumi:"rollOrder,optional"`
}

// ClusterFeaturesState is the recorded state: the inputs and the cluster's
// features as last read.
type ClusterFeaturesState struct {
	ClusterFeaturesArgs
	// FinalizedMetadataLevel is the finalized metadata.version level.
	FinalizedMetadataLevel int `pulumi:"finalizedMetadataLevel"`
	// FinalizedMetadataVersion names it: "27 (4.1)".
	FinalizedMetadataVersion string `pulumi:"finalizedMetadataVersion"`
	// SupportedMetadataLevel is the newest level every broker supports.
	SupportedMetadataLevel int `pulumi:"supportedMetadataLevel"`
	// KraftVersion is the finalized kraft.version.
	KraftVersion int `pulumi:"kraftVersion"`
}

var (
	_ infer.CustomResource[ClusterFeaturesArgs, ClusterFeaturesState] = ClusterFeatures{}
	_ infer.CustomCheck[ClusterFeaturesArgs]                          = ClusterFeatures{}
	_ infer.CustomDiff[ClusterFeaturesArgs, ClusterFeaturesState]     = ClusterFeatures{}
	_ infer.CustomRead[ClusterFeaturesArgs, ClusterFeaturesState]     = ClusterFeatures{}
	_ infer.CustomUpdate[ClusterFeaturesArgs, ClusterFeaturesState]   = ClusterFeatures{}
	_ infer.CustomDelete[ClusterFeaturesState]                        = ClusterFeatures{}
	_ infer.Annotated                                                 = (*ClusterFeatures)(nil)
	_ infer.Annotated                                                 = (*ClusterFeaturesArgs)(nil)
	_ infer.Annotated                                                 = (*ClusterFeaturesState)(nil)
)

// Annotate sets the type token and documents the resource.
func (r *ClusterFeatures) Annotate(a infer.Annotator) {
	a.SetToken("index", "ClusterFeatures")
	a.Describe(r, "Kafka software upgrades by stack config (no pulumi-kafka equivalent): the cluster's metadata.version, "+
		"raised in an update of its own once every broker runs the software that supports it, as Kafka's upgrade notes "+
		"and Strimzi do. Mode \"guard\", placed before the broker StatefulSet, changes nothing: it refuses a software "+
		"version that cannot run the finalized metadata version, and a metadata change in the same update as a software "+
		"change. Mode \"finalize\", placed after it, sets metadata.version (latest, or a release such as 4.1) with "+
		"UpdateFeatures once every broker supports it; Kafka itself judges any lowering. Delete changes nothing.")
}

// Annotate documents the inputs.
func (a *ClusterFeaturesArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.SoftwareVersion, "The Kafka release the broker pods run, such as 4.1.2.")
	an.Describe(&a.MetadataVersion, "The metadata.version to finalize: unset leaves it as it is, \"latest\" is the newest "+
		"every broker supports, a release such as 4.1 is that release's level (kafka-features.sh --release-version).")
	an.Describe(&a.Mode, "\"guard\" (before the StatefulSet, changes nothing) or \"finalize\" (after it).")
	an.Describe(&a.RollOrder, "The pods in the order a software change rolls them, for the guard's preview (kafka-2, kafka-1, "+
		"kafka-0: a StatefulSet rolls the highest ordinal first); changes nothing.")
}

// Annotate documents the outputs.
func (s *ClusterFeaturesState) Annotate(an infer.Annotator) {
	an.Describe(&s.FinalizedMetadataLevel, "The finalized metadata.version level, as last read.")
	an.Describe(&s.FinalizedMetadataVersion, "That level with the release it belongs to, e.g. \"27 (4.1)\".")
	an.Describe(&s.SupportedMetadataLevel, "The newest metadata.version level every broker supports, as last read.")
	an.Describe(&s.KraftVersion, "The finalized kraft.version, as last read (KraftQuorum's enableDynamic raises it).")
}

// Check validates the inputs, and refuses a metadata change in the same
// update as a software change: the roll is not over when the metadata
// version would change, so some brokers would still run the old software.
func (ClusterFeatures) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[ClusterFeaturesArgs], error) {
	args, failures, err := infer.DefaultCheck[ClusterFeaturesArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[ClusterFeaturesArgs]{Inputs: args, Failures: failures}, err
	}
	var olds *ClusterFeaturesArgs
	if sv, ok := req.OldInputs.GetOk("softwareVersion"); ok && sv.IsString() {
		o := ClusterFeaturesArgs{SoftwareVersion: sv.AsString()}
		if mv, ok := req.OldInputs.GetOk("metadataVersion"); ok && mv.IsString() {
			v := mv.AsString()
			o.MetadataVersion = &v
		}
		olds = &o
	}
	return infer.CheckResponse[ClusterFeaturesArgs]{Inputs: args, Failures: checkClusterFeatures(olds, args)}, nil
}

// checkClusterFeatures is the pure core of Check.
func checkClusterFeatures(olds *ClusterFeaturesArgs, a ClusterFeaturesArgs) []p.CheckFailure {
	var failures []p.CheckFailure
	fail := func(field string, value any, problem, fix string) {
		failures = append(failures, p.CheckFailure{Property: field, Reason: rules.Message(field, value, problem, fix)})
	}
	if !releasePattern.MatchString(a.SoftwareVersion) {
		fail("softwareVersion", a.SoftwareVersion, "is not a Kafka release", "give the release the pods run, e.g. 4.1.2")
	}
	mv := deref(a.MetadataVersion)
	if mv != "" && mv != MetadataLatest {
		if _, ok := kafkaadmin.MetadataLevel(mv); !ok {
			fail("metadataVersion", mv, "is not a Kafka release line with a metadata version (known: "+knownReleases()+")",
				"use latest, a release such as 4.1, or leave it unset to keep the cluster's")
		}
	}
	if a.Mode != FeaturesGuard && a.Mode != FeaturesFinalize {
		fail("mode", a.Mode, "is not a features mode", `use "guard" (before the StatefulSet) or "finalize" (after it)`)
	}
	if olds != nil && olds.SoftwareVersion != a.SoftwareVersion && mv != "" && mv != deref(olds.MetadataVersion) {
		fail("metadataVersion", mv, fmt.Sprintf("changes in the same update as the software (%s -> %s): the metadata version "+
			"would change while the roll is not over, with some brokers still on %s", olds.SoftwareVersion, a.SoftwareVersion,
			olds.SoftwareVersion),
			fmt.Sprintf("%s for this update; once every broker runs %s, change it in an update of its own",
				keepMetadata(deref(olds.MetadataVersion)), a.SoftwareVersion))
	}
	return failures
}

// keepMetadata says how to leave the metadata version as the last update had it.
func keepMetadata(old string) string {
	if old == "" {
		return "leave metadataVersion unset (kafka.metadataVersion) as it was"
	}
	return fmt.Sprintf("keep metadataVersion at %q", old)
}

func knownReleases() string {
	names := make([]string, len(kafkaadmin.MetadataReleases))
	for i, r := range kafkaadmin.MetadataReleases {
		names[i] = r.Release
	}
	return strings.Join(names, ", ")
}

// Diff proposes an update for any input change, and for a recorded
// metadata level the setting would change (drift a refresh found).
func (ClusterFeatures) Diff(_ context.Context, req infer.DiffRequest[ClusterFeaturesArgs, ClusterFeaturesState]) (infer.DiffResponse, error) {
	d := map[string]p.PropertyDiff{}
	if req.State.SoftwareVersion != req.Inputs.SoftwareVersion {
		d["softwareVersion"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if deref(req.State.MetadataVersion) != deref(req.Inputs.MetadataVersion) {
		d["metadataVersion"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if req.State.Mode != req.Inputs.Mode {
		d["mode"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if req.Inputs.Mode == FeaturesFinalize && metadataDrift(req.State, req.Inputs) {
		d["finalizedMetadataLevel"] = p.PropertyDiff{Kind: p.Update}
	}
	return infer.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d}, nil
}

// metadataDrift reports whether the recorded finalized level is not the one
// the setting wants: an explicit release's level, or for latest the newest
// level every broker supported when last read (after a software roll, the
// next up raises it).
func metadataDrift(s ClusterFeaturesState, in ClusterFeaturesArgs) bool {
	mv := deref(in.MetadataVersion)
	if mv == MetadataLatest {
		return s.FinalizedMetadataLevel < s.SupportedMetadataLevel
	}
	level, ok := kafkaadmin.MetadataLevel(mv)
	return ok && int(level) != s.FinalizedMetadataLevel
}

// Create runs the mode: a guard's checks, or the finalize step.
func (ClusterFeatures) Create(ctx context.Context, req infer.CreateRequest[ClusterFeaturesArgs]) (infer.CreateResponse[ClusterFeaturesState], error) {
	state, err := runClusterFeatures(ctx, ClusterFeaturesState{ClusterFeaturesArgs: req.Inputs}, req.DryRun, true, "")
	if err != nil {
		return infer.CreateResponse[ClusterFeaturesState]{}, err
	}
	return infer.CreateResponse[ClusterFeaturesState]{ID: req.Name, Output: state}, nil
}

// Update runs the mode with the new inputs.
func (ClusterFeatures) Update(ctx context.Context, req infer.UpdateRequest[ClusterFeaturesArgs, ClusterFeaturesState]) (infer.UpdateResponse[ClusterFeaturesState], error) {
	state := req.State
	state.ClusterFeaturesArgs = req.Inputs
	state, err := runClusterFeatures(ctx, state, req.DryRun, false, req.State.SoftwareVersion)
	if err != nil {
		return infer.UpdateResponse[ClusterFeaturesState]{}, err
	}
	return infer.UpdateResponse[ClusterFeaturesState]{Output: state}, nil
}

// featuresHead names a run in messages.
func featuresHead(a ClusterFeaturesArgs) string {
	mv := deref(a.MetadataVersion)
	if mv == "" {
		mv = "unchanged"
	}
	return fmt.Sprintf("ClusterFeatures %s (Kafka %s, metadata.version %s)", a.Mode, a.SoftwareVersion, mv)
}

// runClusterFeatures is Create and Update; from is the software the last
// update recorded ("" on a create). On a create Kafka may not exist yet (a
// new stack): there is nothing to guard or finalize then, since a new
// cluster is formatted at its software's newest metadata version. In an
// update that changed the software, finalize holds the metadata version
// where it is (latest is raised by the next up).
func runClusterFeatures(ctx context.Context, state ClusterFeaturesState, dryRun, create bool, from string) (ClusterFeaturesState, error) {
	in := state.ClusterFeaturesArgs
	softwareChanged := from != "" && from != in.SoftwareVersion
	log := p.GetLogger(ctx)
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return state, err
	}
	if dryRun || create {
		unreachable, err := cl.Probe(ctx)
		switch {
		case err != nil:
			return state, fmt.Errorf("%s: %w", featuresHead(in), err)
		case unreachable != nil:
			log.Infof("%s: Kafka did not answer within %s (%v): no cluster yet, nothing to check or change",
				featuresHead(in), kafkaadmin.PlacementProbeTimeout, unreachable)
			return state, nil
		}
	}
	f, err := cl.DescribeFeatures(ctx)
	if err != nil {
		return state, fmt.Errorf("%s: %w", featuresHead(in), err)
	}
	plan, err := planFeatures(in, f, softwareChanged)
	if err != nil {
		return state, fmt.Errorf("%s: %w", featuresHead(in), err)
	}
	line := featuresHead(in) + ": " + plan.String()
	if in.Mode == FeaturesGuard && softwareChanged {
		line += "; " + rollPlan(from, in)
	}
	log.Info(line)
	if plan.change {
		// Kafka judges the change against every broker and controller, and a
		// lowering against the metadata changes between the levels: at
		// preview without making it.
		if err := cl.SetFeature(ctx, kafkaadmin.MetadataVersionFeature, plan.target, plan.finalized, dryRun); err != nil {
			return state, fmt.Errorf("%s: %w%s", featuresHead(in), err, fencedHint(ctx, cl))
		}
		if dryRun {
			return recordFeatures(state, f), nil
		}
		if f, err = cl.DescribeFeatures(ctx); err != nil {
			return state, fmt.Errorf("%s: reading the features back: %w", featuresHead(in), err)
		}
	}
	return recordFeatures(state, f), nil
}

// fencedHint names, after a refused feature change, the registered brokers
// that are not running: Kafka judges the change against their last known
// software too, and nothing else lists them (a broker a scale-down removed
// stays registered until it is unregistered).
func fencedHint(ctx context.Context, cl *kafkaadmin.Client) string {
	regs, err := cl.Registrations(ctx)
	if err != nil {
		return ""
	}
	var fenced []int32
	for _, r := range regs {
		if r.Fenced {
			fenced = append(fenced, r.ID)
		}
	}
	if len(fenced) == 0 {
		return ""
	}
	return fmt.Sprintf("; brokers %s are registered but not running (fenced), and Kafka counts their software too: "+
		"start them, or if they were removed for good unregister them (an up whose brokers setting excludes them "+
		"does it in its placement balance; by hand: kafka-cluster.sh unregister --id N)", placement.JoinIDs(fenced))
}

// rollPlan is the guard's preview of a software change: the order the pods
// roll in. Kafka's upgrade notes roll every node one at a time (controllers
// and brokers alike; here each pod is both or a broker) and finalise after;
// the StatefulSet deletes the next pod only once the last serves again.
func rollPlan(from string, in ClusterFeaturesArgs) string {
	verb := "upgrade"
	if kafkaadmin.NewerVersion(from, in.SoftwareVersion) {
		verb = "roll back"
	}
	order := "highest ordinal first"
	if len(in.RollOrder) > 0 {
		order = strings.Join(in.RollOrder, ", ")
	}
	return fmt.Sprintf("Kafka %s -> %s (%s): the pods roll one at a time, each once the last serves again: %s; "+
		"metadata.version stays as it is until an update of its own changes it", from, in.SoftwareVersion, verb, order)
}

// featuresPlan is what a run found and will do.
type featuresPlan struct {
	finalized, supported, target int16
	change, held                 bool
}

func (fp featuresPlan) String() string {
	now := fmt.Sprintf("metadata.version now %s, every broker supports up to %s",
		kafkaadmin.MetadataName(fp.finalized), kafkaadmin.MetadataName(fp.supported))
	switch {
	case fp.held:
		return now + "; held there, since this update changes the software: the next up sets it"
	case !fp.change:
		return now + "; no change"
	}
	verb := "raise"
	if fp.target < fp.finalized {
		verb = "lower"
	}
	return fmt.Sprintf("%s; will %s it to %s", now, verb, kafkaadmin.MetadataName(fp.target))
}

// planFeatures is the pure core of a run: the guard's refusal of software
// that cannot run the finalized metadata version, and the target level.
func planFeatures(in ClusterFeaturesArgs, f kafkaadmin.Features, softwareChanged bool) (featuresPlan, error) {
	fp := featuresPlan{finalized: f.Finalized[kafkaadmin.MetadataVersionFeature]}
	r, without := f.SupportedByAll(kafkaadmin.MetadataVersionFeature)
	if len(without) > 0 {
		return fp, fmt.Errorf("brokers %v report no metadata.version support: they do not run KRaft-era software", without)
	}
	fp.supported = r.Max
	line := kafkaadmin.ReleaseLine(in.SoftwareVersion)
	if own, ok := kafkaadmin.MetadataLevel(line); ok && fp.finalized > own {
		return fp, fmt.Errorf("Kafka %s cannot run this cluster: its finalized metadata.version is %s, and Kafka %s "+
			"supports up to %s; a software change does not lower a finalized metadata version: keep kafka.version at a "+
			"%s release or newer",
			in.SoftwareVersion, kafkaadmin.MetadataName(fp.finalized), line, kafkaadmin.MetadataName(own),
			kafkaadmin.ReleaseOf(fp.finalized))
	}
	if in.Mode == FeaturesGuard {
		return fp, nil
	}
	if softwareChanged {
		fp.held = deref(in.MetadataVersion) != ""
		return fp, nil
	}
	switch mv := deref(in.MetadataVersion); mv {
	case "":
		fp.target = fp.finalized
	case MetadataLatest:
		fp.target = max(fp.supported, fp.finalized)
	default:
		level, _ := kafkaadmin.MetadataLevel(mv) // Check refused an unknown release
		if level > fp.supported {
			return fp, fmt.Errorf("metadataVersion %s is level %d, above what %s support: roll every broker to a %s "+
				"release first (kafka.version), then raise it", mv, level, strings.Join(f.Below(kafkaadmin.MetadataVersionFeature, level), ", "), mv)
		}
		fp.target = level
	}
	fp.change = fp.target != fp.finalized
	return fp, nil
}

// recordFeatures records what f shows.
func recordFeatures(state ClusterFeaturesState, f kafkaadmin.Features) ClusterFeaturesState {
	r, _ := f.SupportedByAll(kafkaadmin.MetadataVersionFeature)
	level := f.Finalized[kafkaadmin.MetadataVersionFeature]
	state.FinalizedMetadataLevel = int(level)
	state.FinalizedMetadataVersion = kafkaadmin.MetadataName(level)
	state.SupportedMetadataLevel = int(r.Max)
	state.KraftVersion = int(f.Finalized["kraft.version"])
	return state
}

// Read records the features now; the inputs stay as recorded.
func (ClusterFeatures) Read(ctx context.Context, req infer.ReadRequest[ClusterFeaturesArgs, ClusterFeaturesState]) (infer.ReadResponse[ClusterFeaturesArgs, ClusterFeaturesState], error) {
	state := req.State
	if state.Mode == "" {
		return infer.ReadResponse[ClusterFeaturesArgs, ClusterFeaturesState]{}, fmt.Errorf("ClusterFeatures %q cannot be "+
			"imported: it holds no Kafka object; declare it in the program instead", req.ID)
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.ReadResponse[ClusterFeaturesArgs, ClusterFeaturesState]{}, err
	}
	f, err := cl.DescribeFeatures(ctx)
	if err != nil {
		return infer.ReadResponse[ClusterFeaturesArgs, ClusterFeaturesState]{}, err
	}
	state = recordFeatures(state, f)
	return infer.ReadResponse[ClusterFeaturesArgs, ClusterFeaturesState]{ID: req.ID, Inputs: state.ClusterFeaturesArgs, State: state}, nil
}

// Delete changes nothing: the cluster keeps its features.
func (ClusterFeatures) Delete(context.Context, infer.DeleteRequest[ClusterFeaturesState]) (infer.DeleteResponse, error) {
	return infer.DeleteResponse{}, nil
}
