package components

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
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
