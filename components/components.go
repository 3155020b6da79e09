package components

import (
	"fmt"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// Component type tokens.
const (
	NamespaceType     = "umbrella:streaming:Namespace"
	KafkaClusterType  = "umbrella:streaming:KafkaCluster"
	BrokerPolicyType  = "umbrella:streaming:BrokerPolicy"
	MonitoringType    = "umbrella:streaming:Monitoring"
	TopicsType        = "umbrella:streaming:Topics"
	KafkaImageType    = "umbrella:streaming:KafkaImage"
	DefaultImageBuild = "infrastructure/kafka"
)

// Namespace is the umbrella-streaming namespace with Pod Security enforcement.
type Namespace struct {
	pulumi.ResourceState
	// Name is the namespace's name, known once it exists; children depend on it.
	Name pulumi.StringOutput `pulumi:"name"`
}

// NewNamespace registers the namespace.
func NewNamespace(ctx *pulumi.Context, name string, s *config.Spec, opts ...pulumi.ResourceOption) (*Namespace, error) {
	c := &Namespace{}
	if err := ctx.RegisterComponentResource(NamespaceType, name, c, opts...); err != nil {
		return nil, err
	}
	// Retained on destroy: deleting the namespace would delete the brokers' PVCs,
	// the only copy of the data.
	ns, err := corev1.NewNamespace(ctx, name, BuildNamespace(s), pulumi.Parent(c), pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", name, err)
	}
	c.Name = ns.Metadata.Name().Elem()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"name": c.Name})
}

// KafkaImage builds the seed's thin wrapper image with pulumi-docker.
type KafkaImage struct {
	pulumi.ResourceState
	// Ref is the built image's reference (repo digest when pushed).
	Ref pulumi.StringOutput `pulumi:"ref"`
}

// NewKafkaImage builds infrastructure/kafka/Dockerfile as s.Image.BuildName, on
// the official image of the stack's Kafka release.
func NewKafkaImage(ctx *pulumi.Context, name string, s *config.Spec, contextDir string, opts ...pulumi.ResourceOption) (*KafkaImage, error) {
	c := &KafkaImage{}
	if err := ctx.RegisterComponentResource(KafkaImageType, name, c, opts...); err != nil {
		return nil, err
	}
	img, err := docker.NewImage(ctx, name, &docker.ImageArgs{
		ImageName: pulumi.String(s.Image.BuildName),
		Build: &docker.DockerBuildArgs{
			Context:    pulumi.String(contextDir),
			Dockerfile: pulumi.String(contextDir + "/Dockerfile"),
			Platform:   pulumi.String("linux/amd64"),
			// The official image of the stack's Kafka release (kafka.version).
			Args: pulumi.StringMap{"KAFKA_BASE_IMAGE": pulumi.String("apache/kafka:" + s.Kafka.Version)},
		},
		SkipPush: pulumi.Bool(!s.Image.Push),
	}, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("kafka image %s: %w", name, err)
	}
	c.Ref = img.ImageName
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"ref": c.Ref})
}

// KafkaClusterArgs are the inputs of a KafkaCluster.
type KafkaClusterArgs struct {
	Spec *config.Spec
	// Image is the image the brokers run.
	Image pulumi.StringInput
	// Security is the secure mode's certificates (nil in plaintext mode).
	Security *Security
	// Before are resources the StatefulSet waits for (the placement's drain).
	Before []pulumi.Resource
}

// KafkaCluster is the KRaft broker set: ConfigMap, headless and client Services,
// StatefulSet and (with more than one broker) a PodDisruptionBudget.
type KafkaCluster struct {
	pulumi.ResourceState
	// StatefulSet is the broker StatefulSet; topic resources depend on it.
	StatefulSet *appsv1.StatefulSet
	// Bootstrap is the in-cluster bootstrap address.
	Bootstrap pulumi.StringOutput `pulumi:"bootstrap"`
	// Replicas is the StatefulSet's replica count.
	Replicas pulumi.IntOutput `pulumi:"replicas"`
}

// NewKafkaCluster registers the brokers.
func NewKafkaCluster(ctx *pulumi.Context, name string, args *KafkaClusterArgs, opts ...pulumi.ResourceOption) (*KafkaCluster, error) {
	s := args.Spec
	c := &KafkaCluster{}
	if err := ctx.RegisterComponentResource(KafkaClusterType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	cm, err := corev1.NewConfigMap(ctx, name+"-config", BuildConfigMap(s), parent)
	if err != nil {
		return nil, fmt.Errorf("kafka cluster %s: configmap: %w", name, err)
	}
	headless, err := corev1.NewService(ctx, name+"-headless", BuildHeadlessService(s), parent)
	if err != nil {
		return nil, fmt.Errorf("kafka cluster %s: headless service: %w", name, err)
	}
	if _, err := corev1.NewService(ctx, name+"-client", BuildClientService(s), parent); err != nil {
		return nil, fmt.Errorf("kafka cluster %s: client service: %w", name, err)
	}
	deps := append([]pulumi.Resource{cm, headless}, args.Before...)
	var tlsChecksum pulumi.StringInput
	if args.Security != nil {
		deps = append(deps, args.Security.TLSSecret)
		tlsChecksum = args.Security.TLSChecksum
	}
	sts, err := appsv1.NewStatefulSet(ctx, name, BuildStatefulSet(s, args.Image, tlsChecksum), parent, pulumi.DependsOn(deps))
	if err != nil {
		return nil, fmt.Errorf("kafka cluster %s: statefulset: %w", name, err)
	}
	if pdb := BuildPodDisruptionBudget(s); pdb != nil {
		if _, err := policyv1.NewPodDisruptionBudget(ctx, name+"-pdb", pdb, parent); err != nil {
			return nil, fmt.Errorf("kafka cluster %s: pdb: %w", name, err)
		}
	}
	c.StatefulSet = sts
	c.Bootstrap = pulumi.String(BootstrapAddress(s.Namespace)).ToStringOutput()
	c.Replicas = sts.Spec.Replicas().Elem()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"bootstrap": c.Bootstrap, "replicas": c.Replicas})
}

// BrokerPolicy is the NetworkPolicy around the brokers.
type BrokerPolicy struct {
	pulumi.ResourceState
	// Enabled reports whether a policy was created.
	Enabled pulumi.BoolOutput `pulumi:"enabled"`
}

// NewBrokerPolicy registers the NetworkPolicy, or nothing when it is off.
func NewBrokerPolicy(ctx *pulumi.Context, name string, s *config.Spec, opts ...pulumi.ResourceOption) (*BrokerPolicy, error) {
	c := &BrokerPolicy{}
	if err := ctx.RegisterComponentResource(BrokerPolicyType, name, c, opts...); err != nil {
		return nil, err
	}
	if np := BuildNetworkPolicy(s); np != nil {
		if _, err := networkingv1.NewNetworkPolicy(ctx, name, np, pulumi.Parent(c)); err != nil {
			return nil, fmt.Errorf("broker policy %s: %w", name, err)
		}
	}
	if jp := BuildTopicJobPolicy(s); jp != nil {
		if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-topic-init", jp, pulumi.Parent(c)); err != nil {
			return nil, fmt.Errorf("broker policy %s: topic job policy: %w", name, err)
		}
	}
	c.Enabled = pulumi.Bool(s.NetworkPolicy.Enabled).ToBoolOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"enabled": c.Enabled})
}

// Monitoring is the PodMonitor, PrometheusRule and Grafana dashboard.
type Monitoring struct {
	pulumi.ResourceState
	// Enabled reports whether monitoring objects were created.
	Enabled pulumi.BoolOutput `pulumi:"enabled"`
}

// NewMonitoring registers the monitoring objects, or nothing when monitoring is off.
func NewMonitoring(ctx *pulumi.Context, name string, s *config.Spec, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	c := &Monitoring{}
	if err := ctx.RegisterComponentResource(MonitoringType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	if pm := BuildPodMonitor(s); pm != nil {
		if _, err := apiextensions.NewCustomResource(ctx, name+"-podmonitor", pm, parent); err != nil {
			return nil, fmt.Errorf("monitoring %s: podmonitor: %w", name, err)
		}
	}
	if pr := BuildPrometheusRule(s); pr != nil {
		if _, err := apiextensions.NewCustomResource(ctx, name+"-rules", pr, parent); err != nil {
			return nil, fmt.Errorf("monitoring %s: prometheusrule: %w", name, err)
		}
	}
	if d := BuildDashboard(s); d != nil {
		if _, err := corev1.NewConfigMap(ctx, name+"-dashboard", d, parent); err != nil {
			return nil, fmt.Errorf("monitoring %s: dashboard: %w", name, err)
		}
	}
	c.Enabled = pulumi.Bool(s.Monitoring.Enabled).ToBoolOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"enabled": c.Enabled})
}

// TopicsArgs are the inputs of Topics.
type TopicsArgs struct {
	Spec *config.Spec
	// Image runs the topic Job (job manager).
	Image pulumi.StringInput
	// Admin is the Kafka admin connection the topics are made through
	// (provider manager only; nil for the job).
	Admin *KafkaAdmin
}

// Topics owns the platform topics through the configured manager. It is
// registered in two steps: NewTopics registers the component; Declare
// registers the topics once the brokers exist.
type Topics struct {
	pulumi.ResourceState
	// Table is the resolved topic table: name → {partitions, replicationFactor, config}.
	Table pulumi.MapOutput `pulumi:"table"`

	name string
	args *TopicsArgs
}

// TopicTable is the resolved topic table exported as a stack output.
func TopicTable(s *config.Spec) pulumi.Map {
	table := pulumi.Map{}
	for _, t := range s.Topics {
		cfg := pulumi.StringMap{}
		for k, v := range t.Config {
			cfg[k] = pulumi.String(v)
		}
		table[t.Name] = pulumi.Map{
			"partitions":        pulumi.Int(t.Partitions),
			"replicationFactor": pulumi.Int(t.ReplicationFactor),
			"config":            cfg,
			"key":               pulumi.String(t.Key),
		}
	}
	return table
}

// NewTopics registers the Topics component. The provider manager needs the
// Kafka admin connection (args.Admin).
func NewTopics(ctx *pulumi.Context, name string, args *TopicsArgs, opts ...pulumi.ResourceOption) (*Topics, error) {
	if args.Spec.TopicManager == config.TopicManagerProvider && args.Admin == nil {
		return nil, fmt.Errorf("topics %s: topics.manager = provider needs the Kafka admin connection (TopicsArgs.Admin)", name)
	}
	c := &Topics{name: name, args: args}
	if err := ctx.RegisterComponentResource(TopicsType, name, c, opts...); err != nil {
		return nil, err
	}
	return c, nil
}

// Declare registers the topics for the stack's manager, after brokers, and
// the component's outputs.
func (c *Topics) Declare(ctx *pulumi.Context, brokers pulumi.Resource) error {
	s, name := c.args.Spec, c.name
	parent := pulumi.Parent(c)
	switch s.TopicManager {
	case config.TopicManagerJob:
		scripts, err := corev1.NewConfigMap(ctx, name+"-scripts", BuildTopicScripts(s), parent)
		if err != nil {
			return fmt.Errorf("topics %s: scripts configmap: %w", name, err)
		}
		if _, err := batchv1.NewJob(ctx, name+"-job", BuildTopicJob(s, c.args.Image), parent,
			pulumi.DependsOn([]pulumi.Resource{brokers, scripts}), pulumi.DeleteBeforeReplace(true)); err != nil {
			return fmt.Errorf("topics %s: job: %w", name, err)
		}
	case config.TopicManagerProvider:
		if err := registerProviderTopics(ctx, s, c.args.Admin.Provider, parent, pulumi.DependsOn([]pulumi.Resource{brokers})); err != nil {
			return fmt.Errorf("topics %s: %w", name, err)
		}
	}
	c.Table = TopicTable(s).ToMapOutput()
	return ctx.RegisterResourceOutputs(c, pulumi.Map{"table": c.Table})
}
