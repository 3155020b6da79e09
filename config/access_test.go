package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badAccess breaks topics.access once in an otherwise valid dev config; each
// names the single problem line Build must report (field, value, limit, fix).
var badAccess = []badCase{
	{"access unknown", func(r *Raw) { r.Topics = &RawTopics{Access: sp("tunnel")} },
		`topics.access = "tunnel": unknown access mode (allowed: direct, kubernetes); use direct (the deploy machine reaches every broker's address) or kubernetes (through the Kubernetes API, from outside the cluster)`},
	{"access kubernetes with the job manager", func(r *Raw) {
		r.Topics = &RawTopics{Manager: sp(TopicManagerJob), Access: sp(TopicAccessKubernetes)}
	},
		`topics.access = "kubernetes": applies only to topics.manager = provider (the job already runs inside the cluster); remove topics.access or set topics.manager = provider`},
	{"access kubernetes with a loopback bootstrap server", func(r *Raw) {
		r.Topics = &RawTopics{Access: sp(TopicAccessKubernetes), BootstrapServers: []string{"127.0.0.1:19092"}}
	},
		`topics.bootstrapServers[0] = "127.0.0.1:19092": is not an in-cluster name in namespace umbrella-streaming, which topics.access = kubernetes needs to find the broker pod; leave bootstrapServers empty (the kafka Service) or use kafka-0.kafka-headless.umbrella-streaming.svc:9092`},
	{"access kubernetes with another namespace's service", func(r *Raw) {
		r.Topics = &RawTopics{Access: sp(TopicAccessKubernetes), BootstrapServers: []string{"kafka.other.svc.cluster.local:9092"}}
	},
		`topics.bootstrapServers[0] = "kafka.other.svc.cluster.local:9092": is not an in-cluster name in namespace umbrella-streaming, which topics.access = kubernetes needs to find the broker pod; leave bootstrapServers empty (the kafka Service) or use kafka-0.kafka-headless.umbrella-streaming.svc:9092`},
}

func TestBadTopicAccessNamesFieldValueLimitAndFix(t *testing.T) {
	for _, c := range badAccess {
		t.Run(c.name, func(t *testing.T) {
			spec, err := breakDev(t, c.mut, ModeApply)
			require.Error(t, err)
			assert.Nil(t, spec)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, []string{c.want}, ve.Problems)
		})
	}
}

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
