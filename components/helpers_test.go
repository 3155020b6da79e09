package components

import (
	"testing"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

func ptr[T any](v T) *T { return &v }

func spec(t *testing.T, brokers, controllers int, mut ...func(*config.Raw)) *config.Spec {
	t.Helper()
	r := config.Raw{ClusterID: ptr("5BlkQlAaBVX6rb9uzmmt7w"), Brokers: ptr(brokers), Controllers: ptr(controllers)}
	if brokers >= 3 {
		r.Broker = &config.RawBroker{MinInsyncReplicas: ptr(2), DefaultReplicationFactor: ptr(3)}
		r.TopicDefaults = &config.RawTopic{ReplicationFactor: ptr(3)}
	}
	for _, m := range mut {
		m(&r)
	}
	s, err := config.Build("test", r)
	require.NoError(t, err)
	return s
}

func props(ps []Property) map[string]string {
	m := map[string]string{}
	for _, p := range ps {
		m[p.Key] = p.Value
	}
	return m
}

func sts(t *testing.T, s *config.Spec) *appsv1.StatefulSetSpecArgs {
	t.Helper()
	a := BuildStatefulSet(s, pulumi.String("apache/kafka:4.1.1"), nil)
	return a.Spec.(*appsv1.StatefulSetSpecArgs)
}

func podSpec(t *testing.T, s *config.Spec) *corev1.PodSpecArgs {
	return sts(t, s).Template.(*corev1.PodTemplateSpecArgs).Spec.(*corev1.PodSpecArgs)
}

func container(t *testing.T, s *config.Spec) *corev1.ContainerArgs {
	return podSpec(t, s).Containers.(corev1.ContainerArray)[0].(*corev1.ContainerArgs)
}
