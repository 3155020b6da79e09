package provider

import (
	"sort"
	"strconv"

	p "github.com/pulumi/pulumi-go-provider"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
	"github.com/umbrella-platform/umbrella-streaming/internal/topicconfig"
)

// Kafka reads topic config values back in its own canonical form: booleans
// in lower case, list items joined by "," without blanks, numbers without a
// sign or leading zeros, surrounding blanks dropped. The provider keeps the
// value as written in the inputs and compares values by what they mean, per
// Kafka's config type (topicconfig.SameValue), so that "compact, delete" or " TRUE "
// match what Kafka shows; Read keeps the input's spelling when Kafka's value
// means the same (keepSpelling), so a refresh shows no drift.

// keepSpelling returns Kafka's configs with each value that means the same as
// the one in written (the state or the inputs) spelled as written.
func keepSpelling(kafka map[string]string, written ...map[string]string) map[string]string {
	out := make(map[string]string, len(kafka))
	for key, v := range kafka {
		out[key] = v
		for _, w := range written {
			if wv, ok := w[key]; ok && topicconfig.SameValue(key, wv, v) {
				out[key] = wv
				break
			}
		}
	}
	return out
}

// isThrottleKey reports whether key is one of Kafka's throttled-replica
// lists, which kafka-reassign-partitions sets and clears around a
// reassignment. The provider never records, changes or deletes them unless
// the inputs or the state name them.
func isThrottleKey(key string) bool {
	def, ok := topicconfig.Lookup(key)
	return ok && def.Replicas
}

// checkConfigs returns a check failure for each config key that is not a
// Kafka 4.1 topic config and each value Kafka's validator would refuse,
// sorted by key.
func checkConfigs(cfg map[string]string) []p.CheckFailure {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var failures []p.CheckFailure
	for _, key := range keys {
		prop := "config[" + strconv.Quote(key) + "]"
		def, ok := topicconfig.Lookup(key)
		if !ok {
			fix := "remove it, or use one of Kafka's topic configs (kafka-configs.sh --describe --all --entity-type topics lists them)"
			if near, ok := rules.Nearest(key, topicconfig.Names()); ok {
				fix = "rename it to " + near
			}
			failures = append(failures, p.CheckFailure{Property: prop, Reason: rules.Message(prop, cfg[key],
				"is not a topic config of Kafka 4.1, so creating the topic would fail with INVALID_CONFIG", fix)})
			continue
		}
		if problem, fix := def.Check(cfg[key]); problem != "" {
			failures = append(failures, p.CheckFailure{Property: prop, Reason: rules.Message(prop, cfg[key], problem, fix)})
		}
	}
	return failures
}
