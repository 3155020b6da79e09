package components

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
)

func TestKafkaAdminProviderAccess(t *testing.T) {
	raw := config.Raw{ClusterID: pulumi.StringRef("5BlkQlAaBVX6rb9uzmmt7w")}
	s, err := config.Build("dev", raw)
	require.NoError(t, err)
	assert.Nil(t, BuildKafkaAdminProvider(s, nil).Kubernetes, "direct access: no kubernetes option")
	assert.Equal(t, pulumi.Bool(false), BuildKafkaAdminProvider(s, nil).TlsEnabled,
		"the brokers listen PLAINTEXT; the provider's default (TLS, as pulumi-kafka) must be overridden")

	raw.Topics = &config.RawTopics{Access: pulumi.StringRef(config.AdminAccessKubernetes)}
	s, err = config.Build("dev", raw)
	require.NoError(t, err)
	args := BuildKafkaAdminProvider(s, nil)
	assert.Equal(t, pulumi.StringArray{pulumi.String("kafka.umbrella-streaming.svc.cluster.local:9092")}, args.BootstrapServers)
	assert.Equal(t, &umbrellakafka.KubernetesAccessArgs{
		Namespace:        pulumi.String("umbrella-streaming"),
		StatefulSet:      pulumi.String("kafka"),
		HeadlessService:  pulumi.String("kafka-headless"),
		BootstrapService: pulumi.StringPtr("kafka"),
	}, args.Kubernetes, "names from names.go; no kubeconfig: the provider reads $KUBECONFIG like the Kubernetes provider")
}

// adminMocks records each registration's name, parent and aliases.
type adminMocks struct {
	regs map[string]*pulumirpc.RegisterResourceRequest
}

func (m *adminMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.regs[args.TypeToken+"::"+args.Name] = args.RegisterRPC
	return args.Name + "_id", args.Inputs, nil
}

func (m *adminMocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return args.Args, nil
}

// TestKafkaAdminOwnsTheProvider guards the move of the provider out of Topics
// (issue #26): KafkaAdmin's only child is the provider, named after the
// component, and it carries an alias to its former URN, "topics-kafka" under
// the Topics component "topics", so a deployed stack keeps it
// (TestKafkaAdminKeepsTheDeployedProvider proves it through the engine).
func TestKafkaAdminOwnsTheProvider(t *testing.T) {
	s := spec(t, 1, 1)
	m := &adminMocks{regs: map[string]*pulumirpc.RegisterResourceRequest{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewKafkaAdmin(ctx, "kafka-admin", &KafkaAdminArgs{Spec: s, FormerTopics: "topics"})
		return err
	}, pulumi.WithMocks("umbrella-streaming", "dev", m))
	require.NoError(t, err)
	require.Len(t, m.regs, 2, "the component and its provider")
	comp := m.regs[KafkaAdminType+"::kafka-admin"]
	require.NotNil(t, comp)
	prov := m.regs["pulumi:providers:umbrellakafka::kafka-admin"]
	require.NotNil(t, prov)
	assert.Equal(t, "urn:pulumi:dev::umbrella-streaming::umbrella:streaming:KafkaAdmin::kafka-admin", prov.GetParent())
	former := "urn:pulumi:dev::umbrella-streaming::umbrella:streaming:Topics$pulumi:providers:umbrellakafka::topics-kafka"
	var aliases []string
	aliases = append(aliases, prov.GetAliasURNs()...)
	for _, a := range prov.GetAliases() {
		if u := a.GetUrn(); u != "" {
			aliases = append(aliases, u)
		} else if spec := a.GetSpec(); spec != nil {
			aliases = append(aliases, spec.GetParentUrn()+" "+spec.GetName())
		}
	}
	assert.Contains(t, [][]string{{former}, {"urn:pulumi:dev::umbrella-streaming::umbrella:streaming:Topics::topics topics-kafka"}}, aliases,
		"one alias: the former URN, or its spec (the Topics component as parent, the former name)")
}
