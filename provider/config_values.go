package provider

import (
	"sort"
	"strconv"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
	"github.com/umbrella-platform/umbrella-streaming/internal/topicconfig"
)

// Kafka reads topic config values back in its own canonical form: booleans
// in lower case, list items joined by "," without blanks, numbers without a
// sign or leading zeros, surrounding blanks dropped. The provider keeps the
// value as written in the inputs and compares values by what they mean, per
// Kafka's config type (sameValue), so that "compact, delete" or " TRUE "
// match what Kafka shows; Read keeps the input's spelling when Kafka's value
// means the same (keepSpelling), so a refresh shows no drift.

// sameValue reports whether a and b are the same value of the topic config
// key, as Kafka's ConfigDef parses them. Unknown keys compare exactly.
func sameValue(key, a, b string) bool {
	if a == b {
		return true
	}
	def, ok := topicconfig.Lookup(key)
	if !ok {
		return false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch def.Type {
	case topicconfig.Boolean:
		return strings.EqualFold(a, b)
	case topicconfig.Int, topicconfig.Long:
		x, errx := strconv.ParseInt(a, 10, 64)
		y, erry := strconv.ParseInt(b, 10, 64)
		return errx == nil && erry == nil && x == y
	case topicconfig.Double:
		x, errx := strconv.ParseFloat(a, 64)
		y, erry := strconv.ParseFloat(b, 64)
		return errx == nil && erry == nil && x == y
	case topicconfig.List:
		return slicesEqual(topicconfig.SplitList(a), topicconfig.SplitList(b))
	}
	return a == b
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// keepSpelling returns Kafka's configs with each value that means the same as
// the one in written (the state or the inputs) spelled as written.
func keepSpelling(kafka map[string]string, written ...map[string]string) map[string]string {
	out := make(map[string]string, len(kafka))
	for key, v := range kafka {
		out[key] = v
		for _, w := range written {
			if wv, ok := w[key]; ok && sameValue(key, wv, v) {
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

// unmanagedKeys returns, sorted, the keys some broker shows that neither the
// previous state nor the inputs have: set outside Pulumi, and left alone.
func unmanagedKeys(old, desired map[string]string, seen []map[string]string) []string {
	set := map[string]bool{}
	for _, cur := range seen {
		for key := range cur {
			_, inOld := old[key]
			_, inDesired := desired[key]
			if !inOld && !inDesired {
				set[key] = true
			}
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
