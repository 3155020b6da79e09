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

// BootstrapServers is what the topic provider dials: the stack's explicit list, or
// the in-cluster client Service when the deploy machine runs inside the cluster;
// in secure mode the brokers' mTLS INTERNAL listener, where the deployer's
// certificate makes it a super user (the client listener only takes the
// services' SCRAM users, which the provider itself creates).
func BootstrapServers(s *config.Spec) []string {
	switch {
	case len(s.TopicProvider.BootstrapServers) > 0:
		return append([]string(nil), s.TopicProvider.BootstrapServers...)
	case s.Secure():
		return []string{InternalBootstrapAddress(s.Namespace)}
	}
	return []string{BootstrapAddress(s.Namespace)}
}

// Settings of the topic provider that this program always sets.
const (
	// TopicProviderTimeoutSeconds is timeout: 30 s, what the program has
	// always used, rather than the provider's pulumi-kafka default of 120 s,
	// so an unreachable cluster fails a preview's pre-flight read sooner.
	TopicProviderTimeoutSeconds = 30
)

// KafkaConnection is how this program reaches its brokers, the deployer's
// TLS identity aside (a Pulumi output here, PEM text in the guard): the one
// description from which both the provider's settings (BuildTopicProvider)
// and the program's own pre-flight client (program.Connection) are made.
// Without TLS the client listener (ClientListener) is PLAINTEXT. The
// Kubernetes access names the broker pods and Services by the names this
// program gives them, with no kubeconfig: $KUBECONFIG (else ~/.kube/config)
// is read like the Kubernetes provider does, so no credentials enter the state.
func KafkaConnection(s *config.Spec) kafkaadmin.Connection {
	conn := kafkaadmin.Connection{BootstrapServers: BootstrapServers(s), Timeout: TopicProviderTimeoutSeconds * time.Second}
	if s.TopicProvider.Access == config.TopicAccessKubernetes {
		conn.Kubernetes = &kubetunnel.Target{Namespace: s.Namespace, StatefulSet: StatefulSetName,
			HeadlessService: HeadlessServiceName, BootstrapService: ClientServiceName}
	}
	return conn
}

// BuildTopicProvider returns the umbrellakafka provider's arguments from
// KafkaConnection; tls is the deployer's identity in secure mode (nil in
// plaintext mode).
func BuildTopicProvider(s *config.Spec, tls *ProviderTLS) *umbrellakafka.ProviderArgs {
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
		ProtectTopics: pulumi.Bool(s.TopicProvider.ProtectTopics),
		AllowReplace:  pulumi.Bool(s.TopicProvider.AllowReplace),
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
// an explicit provider configured from the stack. Each resource is named after the
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
