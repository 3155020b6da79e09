package components

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
)

// BootstrapServers is what the Kafka admin connection dials: the stack's explicit list, or
// the in-cluster client Service when the deploy machine runs inside the cluster;
// in secure mode the brokers' mTLS INTERNAL listener, where the deployer's
// certificate makes it a super user (the client listener only takes the
// services' SCRAM users, which the provider itself creates).
func BootstrapServers(s *config.Spec) []string {
	switch {
	case len(s.KafkaAdmin.BootstrapServers) > 0:
		return append([]string(nil), s.KafkaAdmin.BootstrapServers...)
	case s.Secure():
		return []string{InternalBootstrapAddress(s.Namespace)}
	}
	return []string{BootstrapAddress(s.Namespace)}
}

// Settings of the Kafka admin provider that this program always sets.
const (
	// KafkaAdminTimeoutSeconds is timeout: 30 s, what the program has
	// always used, rather than the provider's pulumi-kafka default of 120 s,
	// so an unreachable cluster fails a preview's pre-flight read sooner.
	KafkaAdminTimeoutSeconds = 30
)

// KafkaConnection is how this program reaches its brokers, the deployer's
// TLS identity aside (a Pulumi output here, PEM text in the guard): the one
// description from which both the provider's settings (BuildKafkaAdminProvider)
// and the program's own pre-flight client (program.Connection) are made.
// Without TLS the client listener (ClientListener) is PLAINTEXT. The
// Kubernetes access names the broker pods and Services by the names this
// program gives them, with no kubeconfig: $KUBECONFIG (else ~/.kube/config)
// is read like the Kubernetes provider does, so no credentials enter the state.
func KafkaConnection(s *config.Spec) kafkaadmin.Connection {
	conn := kafkaadmin.Connection{BootstrapServers: BootstrapServers(s), Timeout: KafkaAdminTimeoutSeconds * time.Second}
	if s.KafkaAdmin.Access == config.AdminAccessKubernetes {
		conn.Kubernetes = &kubetunnel.Target{Namespace: s.Namespace, StatefulSet: StatefulSetName,
			HeadlessService: HeadlessServiceName, BootstrapService: ClientServiceName}
	}
	return conn
}

// BuildKafkaAdminProvider returns the umbrellakafka provider's arguments from
// KafkaConnection; tls is the deployer's identity in secure mode (nil in
// plaintext mode).
func BuildKafkaAdminProvider(s *config.Spec, tls *ProviderTLS) *umbrellakafka.ProviderArgs {
	conn := KafkaConnection(s)
	servers := pulumi.StringArray{}
	for _, b := range conn.BootstrapServers {
		servers = append(servers, pulumi.String(b))
	}
	args := &umbrellakafka.ProviderArgs{
		BootstrapServers: servers,
		// The provider defaults to TLS as pulumi-kafka does, so plaintext is
		// said explicitly; an environment variable (KAFKA_ENABLE_TLS) must not
		// flip it either.
		TlsEnabled:    pulumi.Bool(false),
		Timeout:       pulumi.Int(int(conn.Timeout / time.Second)),
		ProtectTopics: pulumi.Bool(s.KafkaAdmin.ProtectTopics),
		AllowReplace:  pulumi.Bool(s.KafkaAdmin.AllowReplace),
	}
	if k := conn.Kubernetes; k != nil {
		args.Kubernetes = &umbrellakafka.KubernetesAccessArgs{
			Namespace:        pulumi.String(k.Namespace),
			StatefulSet:      pulumi.String(k.StatefulSet),
			HeadlessService:  pulumi.String(k.HeadlessService),
			BootstrapService: pulumi.StringPtr(k.BootstrapService),
		}
	}
	if tls != nil {
		args.TlsEnabled = pulumi.Bool(true)
		args.CaCert = tls.CACert
		args.ClientCert = tls.ClientCert
		args.ClientKey = tls.ClientKey
	}
	return args
}

// KafkaAdminType is the component token of the Kafka admin connection.
const KafkaAdminType = "umbrella:streaming:KafkaAdmin"

// KafkaAdminArgs are the inputs of KafkaAdmin.
type KafkaAdminArgs struct {
	Spec *config.Spec
	// TLS is the deployer's identity in secure mode (nil in plaintext mode).
	TLS *ProviderTLS
	// FormerTopics names the Topics component (registered at the stack's
	// root) under which the provider was "<FormerTopics>-kafka" before
	// KafkaAdmin owned it (issue #26). The provider is aliased to that URN,
	// so a stack deployed then keeps its provider, and every resource made
	// through it keeps its provider reference. Empty: no alias.
	FormerTopics string
}

// KafkaAdmin is the program's one administrative connection to its Kafka:
// the umbrellakafka provider (BuildKafkaAdminProvider) through which Topics,
// Placement, Quorum and ServiceAccess register their resources. Security's
// certificates are the exception: they exist before any broker does, so
// they come from a provider of their own that never dials Kafka. The
// provider is the component's only child and is named after it.
type KafkaAdmin struct {
	pulumi.ResourceState
	// Provider is the umbrellakafka provider, connected as KafkaConnection
	// says (as the deployer in secure mode).
	Provider *umbrellakafka.Provider
	// BootstrapServers are the addresses the provider dials.
	BootstrapServers pulumi.StringArrayOutput `pulumi:"bootstrapServers"`
}

// formerProviderAlias is the provider's URN before KafkaAdmin owned it: a
// child of the Topics component formerTopics, named after it.
func formerProviderAlias(ctx *pulumi.Context, formerTopics string) pulumi.Alias {
	topics := pulumi.CreateURN(pulumi.String(formerTopics), pulumi.String(TopicsType), nil,
		pulumi.String(ctx.Project()), pulumi.String(ctx.Stack()))
	return pulumi.Alias{Name: pulumi.String(formerTopics + "-kafka"), ParentURN: topics}
}

// NewKafkaAdmin registers the component and its provider.
func NewKafkaAdmin(ctx *pulumi.Context, name string, args *KafkaAdminArgs, opts ...pulumi.ResourceOption) (*KafkaAdmin, error) {
	c := &KafkaAdmin{}
	if err := ctx.RegisterComponentResource(KafkaAdminType, name, c, opts...); err != nil {
		return nil, err
	}
	provOpts := []pulumi.ResourceOption{pulumi.Parent(c)}
	if args.FormerTopics != "" {
		provOpts = append(provOpts, pulumi.Aliases([]pulumi.Alias{formerProviderAlias(ctx, args.FormerTopics)}))
	}
	pargs := BuildKafkaAdminProvider(args.Spec, args.TLS)
	prov, err := umbrellakafka.NewProvider(ctx, name, pargs, provOpts...)
	if err != nil {
		return nil, fmt.Errorf("kafka admin %s: provider: %w", name, err)
	}
	c.Provider = prov
	c.BootstrapServers = pargs.BootstrapServers.ToStringArrayOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"bootstrapServers": c.BootstrapServers})
}

// BuildTopic returns one Topic's arguments from its resolved spec. Adopt is on: a
// topic that create-topics.sh or an interrupted update already made is taken over
// (when partitions and RF match) instead of failing.
func BuildTopic(t config.TopicSpec) *umbrellakafka.TopicArgs {
	cfg := pulumi.StringMap{}
	for k, v := range t.Config {
		cfg[k] = pulumi.String(v)
	}
	return &umbrellakafka.TopicArgs{
		Name:              pulumi.String(t.Name),
		Partitions:        pulumi.Int(t.Partitions),
		ReplicationFactor: pulumi.Int(t.ReplicationFactor),
		Config:            cfg,
		Adopt:             pulumi.Bool(true),
	}
}

// registerProviderTopics declares one umbrellakafka Topic per resolved topic, through
// the Kafka admin provider. Each resource is named after the
// topic's stable id (its inventory name or topics.extra key), not its Kafka name:
// a rename (topicOverrides.<id>.name) then changes the name input of the same
// resource, which the provider refuses unless allowReplace and otherwise replaces
// by creating the new topic before deleting the old. Until a topic is renamed its
// id is its name, so existing stacks keep their URNs.
func registerProviderTopics(ctx *pulumi.Context, s *config.Spec, prov *umbrellakafka.Provider, parent, deps pulumi.ResourceOption) error {
	for _, t := range s.Topics {
		if _, err := umbrellakafka.NewTopic(ctx, t.ID, BuildTopic(t), parent, deps, pulumi.Provider(prov)); err != nil {
			return fmt.Errorf("topic %s: %w", t.ID, err)
		}
	}
	return nil
}
