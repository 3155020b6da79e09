package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKafkaAdminAccess(t *testing.T) {
	s, err := Build("dev", validDev())
	require.NoError(t, err)
	assert.Equal(t, AdminAccessDirect, s.KafkaAdmin.Access, "direct by default")

	r := validDev()
	r.Topics = &RawTopics{Access: sp(AdminAccessKubernetes)}
	s, err = Build("dev", r)
	require.NoError(t, err)
	assert.Equal(t, AdminAccessKubernetes, s.KafkaAdmin.Access)
	assert.Empty(t, s.KafkaAdmin.BootstrapServers, "the kafka Service's address, mapped to a broker pod")

	r.Topics.BootstrapServers = []string{"kafka-0.kafka-headless.umbrella-streaming.svc:9092",
		"kafka.umbrella-streaming.svc.cluster.local:9092"}
	_, err = Build("dev", r)
	require.NoError(t, err, "in-cluster names of the namespace are fine")
}

// TestKafkaAdminKeyAndItsOlderName guards the move of the admin connection's
// keys to kafkaAdmin (issue #26): topics.access and topics.bootstrapServers,
// which stacks written before it use, still configure the same connection; a
// stack may write both names only with one value, and a message names the
// key the stack wrote.
func TestKafkaAdminKeyAndItsOlderName(t *testing.T) {
	inCluster := []string{"kafka-0.kafka-headless.umbrella-streaming.svc:9092"}
	other := []string{"kafka.umbrella-streaming.svc:9092"}
	tests := []struct {
		name       string
		topics     *RawTopics
		admin      *RawKafkaAdmin
		wantAccess string
		wantServer []string
		problems   []string
	}{
		{name: "new key", admin: &RawKafkaAdmin{Access: sp(AdminAccessKubernetes), BootstrapServers: inCluster},
			wantAccess: AdminAccessKubernetes, wantServer: inCluster},
		{name: "older name", topics: &RawTopics{Access: sp(AdminAccessKubernetes), BootstrapServers: inCluster},
			wantAccess: AdminAccessKubernetes, wantServer: inCluster},
		{name: "both with one value",
			topics:     &RawTopics{Access: sp(AdminAccessKubernetes), BootstrapServers: inCluster},
			admin:      &RawKafkaAdmin{Access: sp(AdminAccessKubernetes), BootstrapServers: inCluster},
			wantAccess: AdminAccessKubernetes, wantServer: inCluster},
		{name: "each from its own name", topics: &RawTopics{BootstrapServers: inCluster},
			admin: &RawKafkaAdmin{Access: sp(AdminAccessKubernetes)}, wantAccess: AdminAccessKubernetes, wantServer: inCluster},
		{name: "both with two values",
			topics: &RawTopics{Access: sp(AdminAccessDirect), BootstrapServers: other},
			admin:  &RawKafkaAdmin{Access: sp(AdminAccessKubernetes), BootstrapServers: inCluster},
			problems: []string{
				`kafkaAdmin.access = "kubernetes": differs from topics.access = "direct", its older name, which the stack also sets; keep one: remove topics.access (or make both the same)`,
				`kafkaAdmin.bootstrapServers = [kafka-0.kafka-headless.umbrella-streaming.svc:9092]: differs from topics.bootstrapServers = [kafka.umbrella-streaming.svc:9092], its older name, which the stack also sets; keep one: remove topics.bootstrapServers (or make both the same)`,
			}},
		{name: "a message names the new key", admin: &RawKafkaAdmin{Access: sp("tunnel"), BootstrapServers: []string{"kafka"}},
			problems: []string{
				`kafkaAdmin.access = "tunnel": unknown access mode (allowed: direct, kubernetes); use direct (the deploy machine reaches every broker's address) or kubernetes (through the Kubernetes API, from outside the cluster)`,
				`kafkaAdmin.bootstrapServers[0] = "kafka": is not host:port; write it like kafka.example:9092`,
			}},
		{name: "job manager, new key", topics: &RawTopics{Manager: sp(TopicManagerJob)}, admin: &RawKafkaAdmin{Access: sp(AdminAccessKubernetes)},
			problems: []string{
				`kafkaAdmin.access = "kubernetes": applies only to topics.manager = provider (the job already runs inside the cluster); remove kafkaAdmin.access or set topics.manager = provider`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validDev()
			r.Topics, r.KafkaAdmin = tt.topics, tt.admin
			s, err := Build("dev", r)
			if tt.problems != nil {
				var ve *ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tt.problems, ve.Problems)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantAccess, s.KafkaAdmin.Access)
			assert.Equal(t, tt.wantServer, s.KafkaAdmin.BootstrapServers)
		})
	}
}
