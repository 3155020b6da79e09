package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProjectKeysPicksThisNamespace(t *testing.T) {
	assert.Equal(t, []string{"brokers", "brokrs", "clusterId"}, ProjectKeys([]string{
		"umbrella-streaming:clusterId", "kubernetes:enableConfigMapMutable", "umbrella-streaming:brokrs",
		"umbrella-streaming:brokers", "umbrella-streamingx:brokers",
	}))
	assert.Empty(t, ProjectKeys(nil))
}

// LoadFor reports every problem at once: unknown keys first, then values it
// cannot read, then the values' own problems.
func TestLoadReportsKeysThenDecodingThenValues(t *testing.T) {
	_, err := Load("dev", map[string]string{
		"clusterId": "5BlkQlAaBVX6rb9uzmmt7w", "brokrs": "3", "controllers": "2", "brokers": "3",
	})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 2)
	assert.Contains(t, ve.Problems[0], "brokrs = \"3\": is not a config key of umbrella-streaming")
	assert.Contains(t, ve.Problems[1], "controllers = 2: is even")

	_, err = Load("dev", map[string]string{
		"clusterId": "5BlkQlAaBVX6rb9uzmmt7w", "brokrs": "3", "brokers": "three", "storage": `{"szie":"1Gi"}`,
	})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{
		`brokrs = "3": is not a config key of umbrella-streaming, so nothing would read it (keys: availability, broker, brokers, clusterId, controllers, guardOverrides, image, kafka, kafkaAdmin, monitoring, networkPolicy, resources, security, services, storage, topicDefaults, topicOverrides, topics); rename it to brokers`,
		`brokers = "three": cannot be read as a whole number: not valid YAML/JSON of that type; check the key's type in Pulumi.yaml's config block`,
		`storage.szie = "1Gi": is not a field of storage, so nothing would read it (fields: size, storageClass); rename it to size`,
	}, ve.Problems, "values that cannot be read stop before BuildFor")
}

// A secret's value never appears in a message, whatever is wrong with it.
func TestMessagesDoNotPrintSecrets(t *testing.T) {
	values := map[string]string{
		"clusterId": "5BlkQlAaBVX6rb9uzmmt7w", "brokrs": "hunter2", "storage": `{"szie":"hunter2"}`, "broker": `{"minInsyncReplicas":"hunter2"}`,
	}
	src := MapSource(values)
	src.Secret = func(key string) bool { return key != "clusterId" }
	_, err := LoadFor("dev", src, ModeApply)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 3)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Contains(t, ve.Problems[0], "brokrs = [secret]: ")
	assert.Contains(t, ve.Problems[1], "storage.szie = [secret]: ")
	assert.Contains(t, ve.Problems[2], "broker = [secret]: cannot be read as an object")
}

func TestMutableTag(t *testing.T) {
	for ref, want := range map[string]string{
		"registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1": "",
		"127.0.0.1:5000/umbrella/kafka:4.1.1-umbrella.1":             "",
		"kafka@sha256:0123":                         "",
		"registry.example/kafka:latest@sha256:0123": "", // the digest pins it
		"registry.example/kafka:latest":             "has the tag latest",
		"registry.example:5000/kafka":               "has no tag, so it means latest",
		"kafka":                                     "has no tag, so it means latest",
	} {
		assert.Equal(t, want, mutableTag(ref), ref)
	}
}

// riskyConfigs are legal settings the preview warns about (Warnings): each
// builds, and names the single warning line the program logs.
var riskyConfigs = []badCase{
	{"broker min isr equals the default replication factor", func(r *Raw) {
		r.Brokers, r.Controllers = ip(3), ip(3)
		r.Broker = &RawBroker{MinInsyncReplicas: ip(3), DefaultReplicationFactor: ip(3)}
		r.TopicDefaults = &RawTopic{ReplicationFactor: ip(3), Config: map[string]string{"min.insync.replicas": "2"}}
	},
		`broker.minInsyncReplicas = 3: equals broker.defaultReplicationFactor (3): acks=all writes need every copy in sync, so while any one broker is down (a crash, a node drain, each step of a rolling update) consumer offset commits, transactions and writes to topics without their own min.insync.replicas fail with NOT_ENOUGH_REPLICAS; lower min.insync.replicas to 2 (broker.minInsyncReplicas) so one broker can be down, or raise the replication factor to 4`},
	{"topic min isr equals its replication factor", func(r *Raw) {
		r.Brokers, r.Controllers = ip(3), ip(3)
		r.TopicOverrides = map[string]RawTopic{"alerts": {ReplicationFactor: ip(2), Config: map[string]string{"min.insync.replicas": "2"}}}
	},
		`topics.alerts.replicationFactor = 2: equals min.insync.replicas (2): acks=all writes to alerts need every replica in sync, so they fail with NOT_ENOUGH_REPLICAS while any one broker is down (a crash, a node drain, each step of a rolling update); lower min.insync.replicas to 1 (topicOverrides.alerts.config or broker.minInsyncReplicas) so one broker can be down, or raise the replication factor to 3`},
	{"topic inherits the broker's min isr", func(r *Raw) {
		r.Brokers, r.Controllers = ip(3), ip(3)
		r.Broker = &RawBroker{MinInsyncReplicas: ip(2), DefaultReplicationFactor: ip(3)}
		r.TopicDefaults = &RawTopic{ReplicationFactor: ip(3)}
		r.TopicOverrides = map[string]RawTopic{"dead-letter": {ReplicationFactor: ip(2)}}
	},
		`topics.dead-letter.replicationFactor = 2: equals min.insync.replicas (2): acks=all writes to dead-letter need every replica in sync, so they fail with NOT_ENOUGH_REPLICAS while any one broker is down (a crash, a node drain, each step of a rolling update); lower min.insync.replicas to 1 (topicOverrides.dead-letter.config or broker.minInsyncReplicas) so one broker can be down, or raise the replication factor to 3`},
}

func TestRiskyConfigsBuildAndWarn(t *testing.T) {
	for _, c := range riskyConfigs {
		t.Run(c.name, func(t *testing.T) {
			s, err := breakDev(t, c.mut, ModeApply)
			require.NoError(t, err, "a warning never stops a deployment")
			assert.Equal(t, []string{c.want}, Warnings(s))
		})
	}
}

// Replication factor 1 has no replica to lose: min.insync.replicas 1 there is
// no risk, and the dev stack warns about nothing.
func TestNoWarningWithoutReplicas(t *testing.T) {
	s, err := Build("dev", validDev())
	require.NoError(t, err)
	assert.Empty(t, Warnings(s))
}
