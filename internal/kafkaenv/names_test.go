package kafkaenv

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The translation table apache/kafka documents (docker/examples README: "." is
// "_", "_" is "__", "-" is "___"), and where ours differs on purpose.
func TestPropertyNameTable(t *testing.T) {
	for _, c := range []struct {
		variable, property string
		ok                 bool
	}{
		{"KAFKA_NODE_ID", "node.id", true},
		{"KAFKA_ADVERTISED_LISTENERS", "advertised.listeners", true},
		{"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "listener.security.protocol.map", true},
		{"KAFKA_LISTENER_NAME_EXTERNAL_SSL_CLIENT_AUTH", "listener.name.external.ssl.client.auth", true},
		{"KAFKA_LOG_DIRS", "log.dirs", true},
		{"KAFKA_AUTO_CREATE_TOPICS_ENABLE", "auto.create.topics.enable", true},
		{"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "group.initial.rebalance.delay.ms", true},
		// "__" is an underscore, "___" a dash.
		{"KAFKA_LISTENER_NAME_SASL__SSL_X", "listener.name.sasl_ssl.x", true},
		{"KAFKA_CONFLUENT_SUPPORT___METRICS_ENABLE", "confluent.support-metrics.enable", true},
		{"KAFKA_A____B", "a-.b", true}, // four: "___" first, then "_", as apache/kafka replaces
		// Only the leading prefix goes (apache/kafka drops every "KAFKA_": metrics.reporters).
		{"KAFKA_KAFKA_METRICS_REPORTERS", "kafka.metrics.reporters", true},
		// The launch step's own variables never become properties.
		{"KAFKA_HEAP_OPTS", "", false},
		{"KAFKA_OPTS", "", false},
		{"KAFKA_JMX_PORT", "", false},
		{"KAFKA_LOG4J_ROOT_LOGLEVEL", "", false},
		{"KAFKA_LOG4J_LOGGERS", "", false},
		{"KAFKA_SSL_KEYSTORE_FILENAME", "", false},
		{"KAFKA_VERSION", "", false},
		// Not ours at all.
		{"CLUSTER_ID", "", false},
		{"KAFKA_", "", false},
		{"kafka_node_id", "", false},
		{"PATH", "", false},
	} {
		got, ok := PropertyName(c.variable)
		assert.Equal(t, c.ok, ok, c.variable)
		assert.Equal(t, c.property, got, c.variable)
	}
}

func TestVariableNameInvertsPropertyName(t *testing.T) {
	for _, p := range []string{"node.id", "advertised.listeners", "listener.name.sasl_ssl.x", "confluent.support-metrics.enable",
		"a_b-c.d", "share.coordinator.state.topic.min.isr", "kafka.metrics.reporters"} {
		v := VariableName(p)
		back, ok := PropertyName(v)
		assert.True(t, ok, v)
		assert.Equal(t, p, back, v)
	}
	assert.Equal(t, "KAFKA_A__B___C_D", VariableName("a_b-c.d"))
}

func TestLaunchVarsSortedAndExcluded(t *testing.T) {
	vars := LaunchVars()
	assert.IsNonDecreasing(t, vars)
	assert.Contains(t, vars, "KAFKA_HEAP_OPTS")
	for _, v := range vars {
		_, ok := PropertyName(v)
		assert.False(t, ok, v)
	}
}
