package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

var topicConfigRE = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z0-9]+)*$`)

// resolveTopics merges the inventory (plus topics.extra) with topicDefaults and
// topicOverrides, validating each value. The result is sorted by name.
func resolveTopics(p *problems, raw Raw, tops *RawTopics, s *Spec) []TopicSpec {
	def := orEmpty(raw.TopicDefaults)
	defParts := orInt(def.Partitions, DefaultTopicPartitions)
	defRF := orInt(def.ReplicationFactor, DefaultTopicReplicationFactor)
	checkTopic(p, "topicDefaults", *def, s)

	type entry struct {
		inv   InventoryTopic
		extra *RawTopic
		field string
	}
	entries := make([]entry, 0, len(Inventory)+len(tops.Extra))
	for _, t := range Inventory {
		entries = append(entries, entry{inv: t})
	}
	extraNames := make([]string, 0, len(tops.Extra))
	for n := range tops.Extra {
		extraNames = append(extraNames, n)
	}
	sort.Strings(extraNames)
	for _, n := range extraNames {
		rt := tops.Extra[n]
		entries = append(entries, entry{inv: InventoryTopic{Name: n, Key: "", Producers: "", Consumers: ""}, extra: &rt, field: "topics.extra." + n})
	}

	// Kafka treats '.' and '_' alike in metric names and refuses topics that collide.
	seen := map[string]string{}
	var out []TopicSpec
	for _, e := range entries {
		name := e.inv.Name
		if e.extra != nil {
			if msg := rules.TopicName(e.field, name); msg != "" {
				p.addMessage(msg)
				continue
			}
			checkTopic(p, e.field, *e.extra, s)
		}
		norm := strings.ReplaceAll(name, ".", "_")
		if prev, dup := seen[norm]; dup {
			what := "duplicates topic " + strconv.Quote(prev)
			if prev != name {
				what = "collides with topic " + strconv.Quote(prev) + " ('.' and '_' are the same to Kafka)"
			}
			p.add(orField(e.field, "topics"), name, what, "rename it or remove one of them")
			continue
		}
		seen[norm] = name
		t := TopicSpec{Name: name, Key: e.inv.Key, Producers: e.inv.Producers, Consumers: e.inv.Consumers,
			Partitions: defParts, ReplicationFactor: defRF, Config: map[string]string{}}
		applyTopic(&t, *def)
		if e.extra != nil {
			applyTopic(&t, *e.extra)
		}
		if o, ok := raw.TopicOverrides[name]; ok {
			checkTopic(p, "topicOverrides."+name, o, s)
			applyTopic(&t, o)
		}
		checkResolved(p, t, s)
		out = append(out, t)
	}
	// Overrides must name a known topic: a typo would otherwise be silently ignored.
	ovNames := make([]string, 0, len(raw.TopicOverrides))
	for n := range raw.TopicOverrides {
		ovNames = append(ovNames, n)
	}
	sort.Strings(ovNames)
	for _, n := range ovNames {
		if _, ok := seen[strings.ReplaceAll(n, ".", "_")]; !ok || seen[strings.ReplaceAll(n, ".", "_")] != n {
			p.add("topicOverrides."+n, n, "names no topic in the inventory or topics.extra", "fix the name (known: "+strings.Join(knownTopicNames(tops), ", ")+") or add it under topics.extra")
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func orField(f, d string) string {
	if f == "" {
		return d
	}
	return f
}

func knownTopicNames(tops *RawTopics) []string {
	var names []string
	for _, t := range Inventory {
		names = append(names, t.Name)
	}
	for n := range tops.Extra {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func applyTopic(t *TopicSpec, r RawTopic) {
	if r.Partitions != nil {
		t.Partitions = *r.Partitions
	}
	if r.ReplicationFactor != nil {
		t.ReplicationFactor = *r.ReplicationFactor
	}
	if r.RetentionHours != nil {
		if *r.RetentionHours == -1 {
			t.Config["retention.ms"] = "-1"
		} else {
			t.Config["retention.ms"] = strconv.FormatInt(int64(*r.RetentionHours)*3600*1000, 10)
		}
	}
	if r.CleanupPolicy != nil {
		t.Config["cleanup.policy"] = *r.CleanupPolicy
	}
	for k, v := range r.Config {
		t.Config[k] = v
	}
}

// checkTopic validates the values one topicDefaults/topicOverrides/extra entry sets.
func checkTopic(p *problems, field string, r RawTopic, s *Spec) {
	if r.Partitions != nil && *r.Partitions < 1 {
		p.add(field+".partitions", *r.Partitions, "must be at least 1", "set partitions to 1 or more")
	}
	if r.ReplicationFactor != nil && *r.ReplicationFactor < 1 {
		p.add(field+".replicationFactor", *r.ReplicationFactor, "must be at least 1", "set it to 1 (dev) or 3 (prod)")
	}
	if r.RetentionHours != nil && (*r.RetentionHours < -1 || *r.RetentionHours == 0) {
		p.add(field+".retentionHours", *r.RetentionHours, "must be positive, or -1 to keep data forever", "use 168 (7 days)")
	}
	if r.CleanupPolicy != nil && !contains(CleanupPolicies, *r.CleanupPolicy) {
		p.add(field+".cleanupPolicy", *r.CleanupPolicy, "unknown cleanup policy (allowed: "+strings.Join(CleanupPolicies, ", ")+")", "use delete or compact")
	}
	keys := make([]string, 0, len(r.Config))
	for k := range r.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !topicConfigRE.MatchString(k) {
			p.add(field+".config", k, "is not a Kafka topic config name (lower-case words joined by '.')", "use a name from Kafka's topic configs, e.g. retention.ms")
		}
		if k == "min.insync.replicas" {
			if n, err := strconv.Atoi(r.Config[k]); err != nil || n < 1 {
				p.add(field+".config.min.insync.replicas", r.Config[k], "must be a whole number of at least 1", "use 1 (dev) or 2 (prod)")
			}
		}
	}
}

// checkResolved checks one resolved topic against the cluster it lands on.
func checkResolved(p *problems, t TopicSpec, s *Spec) {
	field := "topics." + t.Name
	if s.Brokers >= 1 && t.ReplicationFactor > s.Brokers {
		p.add(field+".replicationFactor", t.ReplicationFactor, fmt.Sprintf("exceeds brokers (%d): Kafka cannot place more copies than brokers", s.Brokers),
			fmt.Sprintf("lower it to %d (topicDefaults or topicOverrides.%s) or raise brokers", s.Brokers, t.Name))
	}
	minISR := s.Broker.MinInsyncReplicas
	if v, ok := t.Config["min.insync.replicas"]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			minISR = n
		}
	}
	if t.ReplicationFactor >= 1 && minISR > t.ReplicationFactor {
		p.add(field+".replicationFactor", t.ReplicationFactor, fmt.Sprintf("is below min.insync.replicas (%d): every acks=all write would fail with NOT_ENOUGH_REPLICAS", minISR),
			fmt.Sprintf("raise the replication factor to at least %d or lower min.insync.replicas", minISR))
	}
}
