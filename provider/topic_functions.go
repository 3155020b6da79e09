package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// GetTopic is the provider function umbrellakafka:index:getTopic, pulumi-kafka's
// kafka.getTopic: one existing topic's partitions, replication factor and
// topic-level configs. It reads the topic the way Topic's Read does, so it
// reports the same values a Topic of that name would record.
type GetTopic struct{}

// GetTopicArgs are the inputs of getTopic.
type GetTopicArgs struct {
	// Name is the topic to read.
	Name string `pulumi:"name"`
}

// GetTopicResult is what getTopic returns, under pulumi-kafka's names. It
// has no id output: pulumi-kafka's is the topic name again, and infer
// reserves "id" for resources.
type GetTopicResult struct {
	// Name is the topic name.
	Name string `pulumi:"name"`
	// Partitions is the partition count.
	Partitions int `pulumi:"partitions"`
	// ReplicationFactor is the replicas per partition.
	ReplicationFactor int `pulumi:"replicationFactor"`
	// Config are the topic-level (dynamic topic) configs.
	Config map[string]string `pulumi:"config"`
}

// GetTopics is the provider function umbrellakafka:index:getTopics,
// pulumi-kafka's kafka.getTopics: every topic of the cluster.
type GetTopics struct{}

// GetTopicsArgs are the (no) inputs of getTopics.
type GetTopicsArgs struct{}

// GetTopicsResult is what getTopics returns, under pulumi-kafka's names
// (without pulumi-kafka's id, a timestamp; infer reserves "id").
type GetTopicsResult struct {
	// Lists are the topics, sorted by name.
	Lists []GetTopicsList `pulumi:"lists"`
}

// GetTopicsList is one topic in getTopics' lists (pulumi-kafka's getTopicsList type).
type GetTopicsList struct {
	// TopicName is the topic name.
	TopicName string `pulumi:"topicName"`
	// Partitions is the partition count.
	Partitions int `pulumi:"partitions"`
	// ReplicationFactor is the replicas per partition.
	ReplicationFactor int `pulumi:"replicationFactor"`
	// Config are the topic-level (dynamic topic) configs.
	Config map[string]string `pulumi:"config"`
}

var (
	_ infer.Fn[GetTopicArgs, GetTopicResult]   = GetTopic{}
	_ infer.Fn[GetTopicsArgs, GetTopicsResult] = GetTopics{}
	_ infer.Annotated                          = (*GetTopic)(nil)
	_ infer.Annotated                          = (*GetTopicArgs)(nil)
	_ infer.Annotated                          = (*GetTopicResult)(nil)
	_ infer.Annotated                          = (*GetTopics)(nil)
	_ infer.Annotated                          = (*GetTopicsResult)(nil)
	_ infer.Annotated                          = (*GetTopicsList)(nil)
)

// configDescription documents the config output of both functions.
const configDescription = "The topic-level configs: those set on the topic itself (source DYNAMIC_TOPIC_CONFIG), " +
	"as a Topic's config records them; broker defaults are left out."

// Annotate sets the token and documents getTopic.
func (f *GetTopic) Annotate(a infer.Annotator) {
	a.SetToken("index", "getTopic")
	a.Describe(f, "Reads an existing Kafka topic: partitions, replication factor and topic-level configs "+
		"(pulumi-kafka's kafka.getTopic). Fails, naming the topic, when it does not exist.")
}

// Annotate documents getTopic's input.
func (a *GetTopicArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Name, "The name of the topic to read.")
}

// Annotate documents getTopic's outputs.
func (r *GetTopicResult) Annotate(a infer.Annotator) {
	a.Describe(&r.Name, "The name of the topic.")
	a.Describe(&r.Partitions, "Number of partitions.")
	a.Describe(&r.ReplicationFactor, "Number of replicas of each partition (the target of a reassignment in progress).")
	a.Describe(&r.Config, configDescription)
}

// Annotate sets the token and documents getTopics.
func (f *GetTopics) Annotate(a infer.Annotator) {
	a.SetToken("index", "getTopics")
	a.Describe(f, "Lists every topic of the Kafka cluster, internal topics (__consumer_offsets, ...) included, "+
		"with partitions, replication factor and topic-level configs (pulumi-kafka's kafka.getTopics).")
}

// Annotate documents getTopics' outputs.
func (r *GetTopicsResult) Annotate(a infer.Annotator) {
	a.Describe(&r.Lists, "Every topic of the cluster, sorted by name.")
}

// Annotate documents one topic of getTopics.
func (l *GetTopicsList) Annotate(a infer.Annotator) {
	a.SetToken("index", "getTopicsList")
	a.Describe(&l.TopicName, "The name of the topic.")
	a.Describe(&l.Partitions, "Number of partitions.")
	a.Describe(&l.ReplicationFactor, "Number of replicas of each partition.")
	a.Describe(&l.Config, configDescription)
}

// Invoke reads the topic: metadata from the first broker that knows it,
// then configs from that same broker.
func (GetTopic) Invoke(ctx context.Context, req infer.FunctionRequest[GetTopicArgs]) (
	infer.FunctionResponse[GetTopicResult], error,
) {
	name := req.Input.Name
	if name == "" {
		return infer.FunctionResponse[GetTopicResult]{}, errors.New("getTopic: name is empty: pass the name of an " +
			"existing topic (getTopics lists them)")
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.FunctionResponse[GetTopicResult]{}, err
	}
	meta, broker, err := cl.Lookup(ctx, name)
	if err != nil {
		return infer.FunctionResponse[GetTopicResult]{}, fmt.Errorf("getTopic: %w", err)
	}
	missing := fmt.Errorf("getTopic: topic %q does not exist in the Kafka cluster: check the name (getTopics "+
		"lists the topics), or create the topic before reading it", name)
	if !meta.Exists {
		return infer.FunctionResponse[GetTopicResult]{}, missing
	}
	// The broker that showed the topic: another one may not know it yet.
	configs, err := cl.ConfigsFrom(ctx, cl.Broker(broker), name)
	if err != nil {
		return infer.FunctionResponse[GetTopicResult]{}, fmt.Errorf("getTopic: %w", err)
	}
	if !configs.Exists {
		return infer.FunctionResponse[GetTopicResult]{}, missing // deleted since the metadata request
	}
	r, err := cl.ReassignmentOf(ctx, name, meta)
	if err != nil {
		return infer.FunctionResponse[GetTopicResult]{}, fmt.Errorf("getTopic: %w", err)
	}
	return infer.FunctionResponse[GetTopicResult]{Output: GetTopicResult{
		Name:              name,
		Partitions:        meta.Partitions,
		ReplicationFactor: r.TargetRF,
		Config:            configs.Dynamic,
	}}, nil
}

// Invoke lists every topic with one metadata request and reads all their
// configs with one DescribeConfigs request to the same broker.
func (GetTopics) Invoke(ctx context.Context, _ infer.FunctionRequest[GetTopicsArgs]) (
	infer.FunctionResponse[GetTopicsResult], error,
) {
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.FunctionResponse[GetTopicsResult]{}, err
	}
	res, err := listTopics(ctx, cl)
	if err != nil {
		return infer.FunctionResponse[GetTopicsResult]{}, fmt.Errorf("getTopics: %w", err)
	}
	return infer.FunctionResponse[GetTopicsResult]{Output: res}, nil
}

// listTopics is getTopics: one broker's view of all topics and their configs.
func listTopics(ctx context.Context, k *kafkaadmin.Client) (GetTopicsResult, error) {
	topics, err := k.ListTopics(ctx)
	if err != nil {
		return GetTopicsResult{}, err
	}
	out := GetTopicsResult{Lists: []GetTopicsList{}}
	for _, t := range topics {
		out.Lists = append(out.Lists, GetTopicsList{TopicName: t.Name, Partitions: t.Partitions,
			ReplicationFactor: t.ReplicationFactor, Config: t.Config})
	}
	return out, nil
}
