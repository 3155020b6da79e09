package kafkaenv

import (
	"sort"
	"strings"
)

// Prefix marks the variables that become server properties.
const Prefix = "KAFKA_"

// ClusterIDVar names the KRaft cluster id, the one unprefixed variable the image
// reads (storage is formatted with it).
const ClusterIDVar = "CLUSTER_ID"

// launchVars are KAFKA_ variables the launch step itself reads: they set JVM
// flags, logging or the SSL files, never a server property. The first eleven
// are apache/kafka's own exclusions (KafkaDockerWrapper); the rest it turns
// into meaningless properties (heap.opts, jmx.port, ssl.keystore.filename, …)
// that Kafka logs as unknown, and we leave them out.
var launchVars = map[string]bool{
	"KAFKA_VERSION": true, "KAFKA_HEAP_OPT": true, "KAFKA_LOG4J_OPTS": true, "KAFKA_OPTS": true,
	"KAFKA_JMX_OPTS": true, "KAFKA_JVM_PERFORMANCE_OPTS": true, "KAFKA_GC_LOG_OPTS": true,
	"KAFKA_LOG4J_ROOT_LOGLEVEL": true, "KAFKA_LOG4J_LOGGERS": true, "KAFKA_TOOLS_LOG4J_LOGLEVEL": true,
	"KAFKA_JMX_HOSTNAME": true,
	// Ours on top: kafka-run-class.sh's and the launch step's inputs.
	"KAFKA_HEAP_OPTS": true, "KAFKA_JMX_PORT": true, "KAFKA_DEBUG": true, "KAFKA_DEBUG_OPTS": true,
	sslKeystoreFile: true, sslKeyCredentials: true, sslKeystoreCredentials: true,
	sslTruststoreFile: true, sslTruststoreCredentials: true,
}

// LaunchVars lists, sorted, the KAFKA_ variables that never become properties.
func LaunchVars() []string {
	out := make([]string, 0, len(launchVars))
	for k := range launchVars {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// PropertyName is the server property a variable sets, and whether it sets one:
// KAFKA_ADVERTISED_LISTENERS → advertised.listeners, KAFKA_A__B → a_b,
// KAFKA_A___B → a-b (apache/kafka's rule, replacements in that order: "_" → ".",
// then "..." → "-", then ".." → "_"). Only the leading prefix is dropped, where
// apache/kafka drops every "KAFKA_" in the name (so it maps
// KAFKA_KAFKA_METRICS_REPORTERS to metrics.reporters, not kafka.metrics.reporters).
func PropertyName(variable string) (string, bool) {
	if !strings.HasPrefix(variable, Prefix) || len(variable) == len(Prefix) || launchVars[variable] {
		return "", false
	}
	p := strings.ToLower(strings.TrimPrefix(variable, Prefix))
	p = strings.ReplaceAll(p, "_", ".")
	p = strings.ReplaceAll(p, "...", "-")
	p = strings.ReplaceAll(p, "..", "_")
	return p, true
}

// VariableName is the variable that sets a property: the inverse of
// PropertyName, for messages and docs (advertised.listeners →
// KAFKA_ADVERTISED_LISTENERS).
func VariableName(property string) string {
	v := strings.ReplaceAll(property, "_", "__")
	v = strings.ReplaceAll(v, "-", "___")
	v = strings.ReplaceAll(v, ".", "_")
	return Prefix + strings.ToUpper(v)
}
