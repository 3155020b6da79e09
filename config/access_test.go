package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTopicAccess(t *testing.T) {
	s, err := Build("dev", validDev())
	require.NoError(t, err)
	assert.Equal(t, TopicAccessDirect, s.TopicProvider.Access, "direct by default")

	r := validDev()
	r.Topics = &RawTopics{Access: sp(TopicAccessKubernetes)}
	s, err = Build("dev", r)
	require.NoError(t, err)
	assert.Equal(t, TopicAccessKubernetes, s.TopicProvider.Access)
	assert.Empty(t, s.TopicProvider.BootstrapServers, "the kafka Service's address, mapped to a broker pod")

	r.Topics.BootstrapServers = []string{"kafka-0.kafka-headless.umbrella-streaming.svc:9092",
		"kafka.umbrella-streaming.svc.cluster.local:9092"}
	_, err = Build("dev", r)
	require.NoError(t, err, "in-cluster names of the namespace are fine")
}
