// Package provider is umbrellakafka, a native Pulumi provider for Kafka
// topics built on pulumi-go-provider's infer layer and franz-go.
//
// The provider holds no state of its own. Configure only validates its
// configuration; the first operation that needs Kafka creates one franz-go
// client that all resources of the provider process share, so previews of new
// topics work with no broker reachable. Each Topic operation maps onto one or
// two admin requests (kadm), then asks every broker directly until all of
// them show the result: kadm's cached topic listing lags right after a
// change, and so does each broker's own view of the controller's metadata
// (one broker can still answer UNKNOWN_TOPIC_OR_PARTITION, or the previous
// configs, after another shows the change). For the same reason Read counts
// a topic as gone only when every broker says so.
//
// Safety rails live in the provider configuration: protectTopics turns every
// delete into an error, and allowReplace (false by default) makes a rename,
// the only change that replaces a topic, fail at preview.
package provider

import (
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Name is the Pulumi package name of the provider.
const Name = "umbrellakafka"

// Version is the provider version.
const Version = "0.1.0"

// GoImportPath is the import path of the generated Go SDK.
const GoImportPath = "github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"

// Provider returns a new umbrellakafka provider. Each call has its own
// configuration and its own lazily created Kafka client.
func Provider() p.Provider {
	cfg := &Config{}
	prov, err := infer.NewProviderBuilder().
		WithDisplayName("Umbrella Kafka").
		WithDescription("Manage Kafka topics (Kafka 4.x, KRaft) with a native provider.").
		WithNamespace("umbrella-platform").
		WithRepository("https://github.com/umbrella-platform/umbrella-streaming").
		WithKeywords("kafka", "category/infrastructure").
		WithLicense("Apache-2.0").
		WithGoImportPath(GoImportPath).
		WithConfig(infer.Config(cfg)).
		WithResources(infer.Resource(Topic{})).
		WithResources(infer.Resource(Acl{}), infer.Resource(Quota{}), infer.Resource(UserScramCredential{})).
		WithResources(infer.Resource(ListenerCertificates{})).
		WithResources(infer.Resource(ReplicaPlacement{})).
		WithResources(infer.Resource(KraftQuorum{}), infer.Resource(ClusterFeatures{})).
		WithFunctions(infer.Function(GetTopic{}), infer.Function(GetTopics{})).
		Build()
	if err != nil {
		// Build only fails when no resource is registered, which is a bug here.
		panic(err)
	}
	return decodeFresh(prov, cfg)
}
