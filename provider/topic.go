package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
	"github.com/umbrella-platform/umbrella-streaming/internal/topicconfig"
)

// TopicToken is the Pulumi type token of the Topic resource.
const TopicToken = "umbrellakafka:index:Topic"

// Topic is the controller of umbrellakafka:index:Topic, one Kafka topic.
//
// The topic name is the resource ID, so `pulumi import
// umbrellakafka:index:Topic <resource name> <topic name>` adopts an existing
// topic. Renames are replacements (Kafka cannot rename), refused unless the
// provider's allowReplace is true; partition decreases are refused at
// preview; everything else is updated in place.
type Topic struct{}

// TopicArgs are the inputs of a Topic.
type TopicArgs struct {
	// Name is the Kafka topic name.
	Name string `pulumi:"name"`
	// Partitions is the partition count.
	Partitions int `pulumi:"partitions"`
	// ReplicationFactor is the number of replicas of every partition.
	ReplicationFactor int `pulumi:"replicationFactor"`
	// Config holds topic-level configuration overrides.
	Config map[string]string `pulumi:"config,optional"`
	// Adopt takes over an existing topic of the same name on create.
	Adopt *bool `pulumi:"adopt,optional"`
}

// TopicState is the recorded state of a Topic: the same fields as its inputs,
// as last read from or written to Kafka.
type TopicState struct {
	TopicArgs
}

// Compile-time checks that Topic implements every lifecycle step it claims.
var (
	_ infer.CustomResource[TopicArgs, TopicState] = Topic{}
	_ infer.CustomCheck[TopicArgs]                = Topic{}
	_ infer.CustomDiff[TopicArgs, TopicState]     = Topic{}
	_ infer.CustomRead[TopicArgs, TopicState]     = Topic{}
	_ infer.CustomUpdate[TopicArgs, TopicState]   = Topic{}
	_ infer.CustomDelete[TopicState]              = Topic{}
	_ infer.Annotated                             = (*Topic)(nil)
	_ infer.Annotated                             = (*TopicArgs)(nil)
)

// Annotate sets the type token and documents the resource.
func (t *Topic) Annotate(a infer.Annotator) {
	a.SetToken("index", "Topic")
	a.Describe(t, "A Kafka topic. The topic name is the ID: import an existing topic with "+
		"`pulumi import umbrellakafka:index:Topic <resource name> <topic name>`. A rename replaces the "+
		"topic (refused unless the provider sets allowReplace); a partition decrease is refused.")
}

// Annotate documents the Topic fields for the schema.
func (t *TopicArgs) Annotate(a infer.Annotator) {
	a.Describe(&t.Name,
		"Kafka topic name: 1 to 249 characters from [a-zA-Z0-9._-], not \".\" or \"..\". Changing it "+
			"replaces the topic (the new one is created, then the old one deleted with its data) and is refused unless the provider "+
			"sets allowReplace.")
	a.Describe(&t.Partitions,
		"Number of partitions (at least 1). It can be raised in place; Kafka cannot lower it, so a "+
			"decrease is refused at preview.")
	a.Describe(&t.ReplicationFactor,
		"Replicas per partition: at least 1 and at most the number of brokers. Changing it reassigns "+
			"the partitions in place with a balanced, rack-aware placement.")
	a.Describe(&t.Config,
		"Topic-level configuration overrides, e.g. {\"retention.ms\": \"604800000\", "+
			"\"cleanup.policy\": \"compact\"}: Kafka 4.1 topic configs, checked against Kafka's validators. "+
			"Values compare by meaning (\"compact, delete\" matches Kafka's \"compact,delete\"). Only these "+
			"keys, and keys recorded by a refresh, are managed; broker defaults are not recorded. Removing a key "+
			"reverts it to the broker default. Keys set outside Pulumi are left alone, with a warning, until a "+
			"refresh records them; throttled-replica lists are never recorded.")
	a.Describe(&t.Adopt,
		"On create, if a topic of this name already exists with the same partitions and "+
			"replicationFactor, take it over and set its config keys instead of failing. Config keys the "+
			"topic has that the inputs lack are left alone, with a warning.")
}

// Check validates the inputs with Kafka's rules. Values that are unknown
// during a preview are left for the next check.
func (Topic) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[TopicArgs], error) {
	args, failures, err := infer.DefaultCheck[TopicArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[TopicArgs]{Inputs: args, Failures: failures}, err
	}
	known := func(key string) bool {
		v, ok := req.NewInputs.GetOk(key)
		return ok && !v.IsComputed()
	}
	if known("name") {
		if msg := rules.TopicName("name", args.Name); msg != "" {
			failures = append(failures, p.CheckFailure{Property: "name", Reason: msg})
		} else if msg := internalTopic(args.Name); msg != "" {
			failures = append(failures, p.CheckFailure{Property: "name", Reason: msg})
		}
	}
	if known("partitions") {
		if msg := rules.Partitions("partitions", args.Partitions); msg != "" {
			failures = append(failures, p.CheckFailure{Property: "partitions", Reason: msg})
		}
	}
	if known("replicationFactor") {
		if msg := rules.ReplicationFactor("replicationFactor", args.ReplicationFactor, topicRFFix); msg != "" {
			failures = append(failures, p.CheckFailure{Property: "replicationFactor", Reason: msg})
		}
	}
	// Config values stay as written (not canonicalised): Diff, Update and Read
	// compare them with Kafka's by meaning (topicconfig.SameValue).
	if v, ok := req.NewInputs.GetOk("config"); ok && !v.HasComputed() {
		failures = append(failures, checkConfigs(args.Config)...)
	}
	return infer.CheckResponse[TopicArgs]{Inputs: args, Failures: failures}, nil
}

// internalTopic refuses Kafka's internal topics (__consumer_offsets,
// __transaction_state, and any name starting "__", the prefix Kafka keeps for
// them): the brokers create and configure them, and deleting or reassigning
// one from Pulumi would break every consumer group or transaction.
func internalTopic(name string) string {
	if !strings.HasPrefix(name, "__") {
		return ""
	}
	return rules.Message("name", name, "is a Kafka internal topic name (it starts with \"__\"): the brokers create "+
		"and manage these topics, and deleting or reassigning one breaks consumer groups and transactions",
		"remove this Topic (tune internal topics with broker settings such as offsets.topic.replication.factor), "+
			"or choose a name that does not start with \"__\"")
}

// topicRFFix is the fix a Topic's out-of-range replicationFactor is told.
const topicRFFix = "set it between 1 and the number of brokers (3 on a production cluster)"

// Diff compares the recorded state with the new inputs field by field.
func (Topic) Diff(ctx context.Context, req infer.DiffRequest[TopicArgs, TopicState]) (infer.DiffResponse, error) {
	cfg := infer.GetConfig[Config](ctx)
	if err := renameProtected(req.State.TopicArgs, req.Inputs, deref(cfg.AllowReplace), deref(cfg.ProtectTopics)); err != nil {
		return infer.DiffResponse{}, err
	}
	return diffTopic(req.State.TopicArgs, req.Inputs, deref(cfg.AllowReplace))
}

// configPath is the DetailedDiff key of one config entry, e.g. config["retention.ms"].
func configPath(key string) string { return "config[" + strconv.Quote(key) + "]" }

// diffTopic is the pure core of Diff. Zero values in news (an empty name,
// zero partitions or replication factor) are values still unknown during a
// preview, since Check rejects them when known; they are shown as updates
// and decided on the next diff.
func diffTopic(olds, news TopicArgs, allowReplace bool) (p.DiffResponse, error) {
	d := map[string]p.PropertyDiff{}

	if news.Name != olds.Name {
		switch {
		case news.Name == "":
			d["name"] = p.PropertyDiff{Kind: p.Update}
		case !allowReplace:
			return p.DiffResponse{}, fmt.Errorf("topic %q: renaming it to %q would replace it: Kafka cannot rename "+
				"topics, so Pulumi would delete %q with all its data and create an empty %q. Refused because the "+
				"provider's allowReplace is false. To keep the data, restore name = %q (and add %q as a new "+
				"Topic, then migrate producers and consumers); to accept the data loss, set allowReplace to "+
				"true on the provider (pulumi config set umbrellakafka:allowReplace true) for this update",
				olds.Name, news.Name, olds.Name, news.Name, olds.Name, news.Name)
		default:
			// The new name is free while the old topic exists, so the engine creates
			// the new topic first and deletes the old one only once that worked
			// (DeleteBeforeReplace stays false).
			d["name"] = p.PropertyDiff{Kind: p.UpdateReplace}
		}
	}

	switch {
	case news.Partitions == 0 || news.Partitions == olds.Partitions:
	case news.Partitions < olds.Partitions:
		return p.DiffResponse{}, partitionDecreaseError(olds.Name, olds.Partitions, news.Partitions)
	default:
		d["partitions"] = p.PropertyDiff{Kind: p.Update}
	}

	if news.ReplicationFactor != 0 && news.ReplicationFactor != olds.ReplicationFactor {
		d["replicationFactor"] = p.PropertyDiff{Kind: p.Update}
	}

	for key, v := range news.Config {
		old, ok := olds.Config[key]
		switch {
		case !ok:
			d[configPath(key)] = p.PropertyDiff{Kind: p.Add}
		case !topicconfig.SameValue(key, old, v):
			d[configPath(key)] = p.PropertyDiff{Kind: p.Update}
		}
	}
	for key := range olds.Config {
		if _, ok := news.Config[key]; !ok {
			d[configPath(key)] = p.PropertyDiff{Kind: p.Delete}
		}
	}

	// adopt acts only in Create: changing it on an existing topic changes nothing
	// in Kafka, so it is no diff (the engine still records the new input). A
	// `pulumi import`ed topic (read without adopt) thus shows no change against a
	// program that sets adopt.

	return p.DiffResponse{
		HasChanges:   len(d) > 0,
		DetailedDiff: d,
	}, nil
}

func partitionDecreaseError(topic string, from, to int) error {
	return fmt.Errorf("topic %q: partitions %d -> %d is a decrease, and Kafka cannot shrink a topic's "+
		"partitions. Restore partitions = %d, or create a new topic with %d partitions, migrate producers "+
		"and consumers to it, then remove this one", topic, from, to, from, to)
}

// Create creates the topic, or adopts an existing one when adopt is set, and
// returns once every broker shows it with its partitions led and its config,
// so that a Read right after it, whichever broker answers, finds it. A
// preview returns the inputs without contacting Kafka.
func (Topic) Create(ctx context.Context, req infer.CreateRequest[TopicArgs]) (infer.CreateResponse[TopicState], error) {
	in := req.Inputs
	resp := infer.CreateResponse[TopicState]{ID: in.Name, Output: TopicState{in}}
	if req.DryRun {
		return resp, nil
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.CreateResponse[TopicState]{}, err
	}
	err = cl.CreateTopic(ctx, in.Name, in.Partitions, in.ReplicationFactor, in.Config)
	switch {
	case errors.Is(err, kafkaadmin.ErrCreateUnanswered) && !deref(in.Adopt):
		// The broker may have created it before the connection broke: it is ours
		// if it is exactly what the inputs ask for.
		if err := matchesInputs(ctx, cl, in); err != nil {
			return infer.CreateResponse[TopicState]{}, err
		}
		p.GetLogger(ctx).Infof("topic %q: the answer to CreateTopics was lost; the topic it created matches the inputs", in.Name)
	case errors.Is(err, kerr.TopicAlreadyExists) && deref(in.Adopt):
		if err := adoptTopic(ctx, cl, in); err != nil {
			return infer.CreateResponse[TopicState]{}, err
		}
		p.GetLogger(ctx).Infof("topic %q: adopted the existing topic", in.Name)
	case errors.Is(err, kerr.TopicAlreadyExists):
		return infer.CreateResponse[TopicState]{}, fmt.Errorf("%w. Set adopt: true to take it over, or "+
			"import it with: pulumi import %s <resource name> %s", err, TopicToken, in.Name)
	case err != nil:
		return infer.CreateResponse[TopicState]{}, err
	}
	if err := cl.WaitCreated(ctx, in.Name, in.Partitions, in.Config); err != nil {
		// The topic exists: record it, so the next update resumes from it.
		return resp, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return resp, nil
}

// adoptTopic takes over an existing topic whose partitions and replication
// factor match the inputs, and sets the config keys of the inputs. Keys the
// topic has that the inputs lack are left alone with a warning: a create's
// preview cannot show them (see Update).
func adoptTopic(ctx context.Context, cl *kafkaadmin.Client, in TopicArgs) error {
	meta, _, err := cl.Lookup(ctx, in.Name)
	if err != nil {
		return err
	}
	if !meta.Exists {
		return fmt.Errorf("topic %q: CreateTopics said it exists but metadata does not show it "+
			"(it may be being deleted): retry the update", in.Name)
	}
	if meta.Partitions != in.Partitions || meta.ReplicationFactor != in.ReplicationFactor {
		return fmt.Errorf("topic %q already exists with partitions = %d and replicationFactor = %d, but the "+
			"inputs ask for %d and %d: adopt only takes over a matching topic. Set partitions = %d and "+
			"replicationFactor = %d to adopt it (change them in a later update), or choose another name",
			in.Name, meta.Partitions, meta.ReplicationFactor, in.Partitions, in.ReplicationFactor,
			meta.Partitions, meta.ReplicationFactor)
	}
	unmanaged, err := cl.ReconcileConfigs(ctx, in.Name, nil, in.Config)
	if len(unmanaged) > 0 {
		p.GetLogger(ctx).Warning(kafkaadmin.UnmanagedWarning(in.Name, unmanaged))
	}
	return err
}

// Read refreshes the state from Kafka: partitions and replication factor from
// a direct metadata request, config from the topic's dynamic configs only,
// both from the same broker. The replication factor is the target of any
// ongoing reassignment, and the configs leave out the throttled-replica lists
// unless the state or the inputs have them (readConfigs). A missing topic returns an empty ID, which tells
// Pulumi it is gone; since a broker that lags behind a create also answers
// UNKNOWN_TOPIC_OR_PARTITION, that takes every broker agreeing for about a
// second (see lookup). Read by ID (the topic name) is also how import works.
func (Topic) Read(ctx context.Context, req infer.ReadRequest[TopicArgs, TopicState]) (
	infer.ReadResponse[TopicArgs, TopicState], error,
) {
	topic := req.ID
	if topic == "" {
		topic = req.State.Name
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.ReadResponse[TopicArgs, TopicState]{}, err
	}
	meta, broker, err := cl.Lookup(ctx, topic)
	if err != nil || !meta.Exists {
		return infer.ReadResponse[TopicArgs, TopicState]{}, err
	}
	// The broker that showed the topic: another one may not know it yet.
	configs, err := cl.ConfigsFrom(ctx, cl.Broker(broker), topic)
	if err != nil || !configs.Exists {
		// Not existing here means deleted since the metadata request.
		return infer.ReadResponse[TopicArgs, TopicState]{}, err
	}
	r, err := cl.ReassignmentOf(ctx, topic, meta)
	if err != nil {
		return infer.ReadResponse[TopicArgs, TopicState]{}, err
	}
	cfg := readConfigs(configs.Dynamic, req.State.Config, req.Inputs.Config)
	if len(cfg) == 0 && req.State.Config == nil && req.Inputs.Config == nil {
		// Keep an unset config unset, so a refresh does not report {} as a change.
		cfg = nil
	}
	adopt := req.State.Adopt
	if adopt == nil {
		adopt = req.Inputs.Adopt
	}
	args := TopicArgs{
		Name:              topic,
		Partitions:        meta.Partitions,
		ReplicationFactor: r.TargetRF,
		Config:            cfg,
		Adopt:             adopt,
	}
	return infer.ReadResponse[TopicArgs, TopicState]{ID: topic, Inputs: args, State: TopicState{args}}, nil
}

// readConfigs is the config a Read records: every dynamic config Kafka shows,
// so a refresh records keys set outside Pulumi and the next preview shows
// their removal, except the throttled-replica lists, which only a reassignment
// tool sets and clears and which are recorded only when state or inputs name
// them. A value that means the same as the state's or the inputs' keeps their
// spelling (Kafka shows its canonical form).
func readConfigs(kafka, state, inputs map[string]string) map[string]string {
	cfg := keepSpelling(kafka, inputs, state)
	for key := range cfg {
		_, inState := state[key]
		_, inInputs := inputs[key]
		if isThrottleKey(key) && !inState && !inInputs {
			delete(cfg, key)
		}
	}
	return cfg
}

// partitionsRaisedError refuses inputs with fewer partitions than Kafka has:
// the count was raised outside Pulumi, and Kafka cannot lower it.
func partitionsRaisedError(topic string, has, want int) error {
	return fmt.Errorf("topic %q has %d partitions in Kafka (raised outside Pulumi), but the inputs ask for "+
		"partitions = %d, and Kafka cannot shrink a topic. Set partitions = %d (and run pulumi refresh to "+
		"record it)", topic, has, want, has)
}

// Delete deletes the topic and waits until no broker shows it any more. A
// topic that is already gone counts as deleted. With the provider's
// protectTopics set, it refuses.
func (Topic) Delete(ctx context.Context, req infer.DeleteRequest[TopicState]) (infer.DeleteResponse, error) {
	topic := req.ID
	if topic == "" {
		topic = req.State.Name
	}
	cfg := infer.GetConfig[Config](ctx)
	if deref(cfg.ProtectTopics) {
		return infer.DeleteResponse{}, protectedError(topic)
	}
	cl, err := cfg.client()
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	if err := cl.DeleteTopic(ctx, topic); err != nil {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, cl.WaitGone(ctx, topic)
}

func protectedError(topic string) error {
	return fmt.Errorf("topic %q is protected: the provider sets protectTopics = true, so deleting it (or "+
		"replacing it) is refused and its data is kept. To delete it on purpose, set protectTopics to false "+
		"(umbrella-streaming stacks: topics.protect: false; elsewhere umbrellakafka:protectTopics or the explicit provider's "+
		"protectTopics) and run the update "+
		"again; to stop managing it without deleting it, run pulumi state delete <urn>", topic)
}
