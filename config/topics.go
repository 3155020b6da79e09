package config

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
	"github.com/umbrella-platform/umbrella-streaming/internal/topicconfig"
)

// resolveTopics merges the inventory (plus topics.extra) with topicDefaults and
// topicOverrides, validating each value. The result is sorted by name.
func resolveTopics(p *problems, raw Raw, tops *RawTopics, s *Spec) []TopicSpec {
	base := resolveTopicDefaults(p, raw, s)
	names := newTopicNames()
	ids := map[string]bool{}
	var out []TopicSpec
	for _, e := range topicEntries(tops) {
		id := e.inv.Name
		if e.extra != nil {
			if msg := rules.TopicName(e.field, id); msg != "" {
				p.addMessage(msg)
				continue
			}
			checkTopic(p, e.field, *e.extra, s)
		}
		ids[id] = true
		t, field := mergeTopic(p, raw, e, base, s)
		if t.Name != id {
			if msg := rules.TopicName(field, t.Name); msg != "" {
				p.addMessage(msg)
				continue
			}
		}
		if !names.claim(p, t.Name, field) {
			continue
		}
		checkResolved(p, t, s)
		out = append(out, t)
	}
	checkOverrideIDs(p, raw, tops, ids)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// topicBase is what every topic starts from: topicDefaults over the
// project's defaults.
type topicBase struct {
	partitions, replicationFactor int
	// raw is topicDefaults without its name, applied to every topic.
	raw RawTopic
}

// resolveTopicDefaults reads and checks topicDefaults. A name there is
// refused and dropped, so it does not also surface as a collision of every
// topic with the first.
func resolveTopicDefaults(p *problems, raw Raw, s *Spec) topicBase {
	def := orEmpty(raw.TopicDefaults)
	base := topicBase{
		partitions:        orInt(def.Partitions, DefaultTopicPartitions),
		replicationFactor: orInt(def.ReplicationFactor, DefaultTopicReplicationFactor),
		raw:               *def,
	}
	checkTopic(p, "topicDefaults", *def, s)
	if def.Name != nil {
		p.add("topicDefaults.name", *def.Name, "would give every topic the same name",
			"remove it; rename one topic with topicOverrides.<topic>.name or topics.extra.<topic>.name")
		base.raw.Name = nil
	}
	return base
}

// topicEntry is one topic to resolve: an inventory topic, or one of
// topics.extra with its entry and field.
type topicEntry struct {
	inv   InventoryTopic
	extra *RawTopic
	field string
}

// topicEntries lists the inventory in its order, then topics.extra sorted by
// name, so problems come out in a stable order.
func topicEntries(tops *RawTopics) []topicEntry {
	entries := make([]topicEntry, 0, len(Inventory)+len(tops.Extra))
	for _, t := range Inventory {
		entries = append(entries, topicEntry{inv: t})
	}
	extraNames := make([]string, 0, len(tops.Extra))
	for n := range tops.Extra {
		extraNames = append(extraNames, n)
	}
	sort.Strings(extraNames)
	for _, n := range extraNames {
		rt := tops.Extra[n]
		entries = append(entries, topicEntry{inv: InventoryTopic{Name: n, Key: "", Producers: "", Consumers: ""}, extra: &rt, field: "topics.extra." + n})
	}
	return entries
}

// mergeTopic applies topicDefaults, the extra entry and the topic's override,
// in that order, to one entry. It returns the topic and the field its name
// was last set by, so a problem with the name points where to fix it.
func mergeTopic(p *problems, raw Raw, e topicEntry, base topicBase, s *Spec) (TopicSpec, string) {
	id := e.inv.Name
	t := TopicSpec{ID: id, Name: id, Key: e.inv.Key, Producers: e.inv.Producers, Consumers: e.inv.Consumers,
		Partitions: base.partitions, ReplicationFactor: base.replicationFactor, Config: map[string]string{}}
	applyTopic(&t, base.raw)
	field := orField(e.field, "topics")
	if e.extra != nil {
		applyTopic(&t, *e.extra)
		if e.extra.Name != nil {
			field = e.field + ".name"
		}
	}
	if o, ok := raw.TopicOverrides[id]; ok {
		checkTopic(p, "topicOverrides."+id, o, s)
		applyTopic(&t, o)
		if o.Name != nil {
			field = "topicOverrides." + id + ".name"
		}
	}
	return t, field
}

// topicNames are the topic names taken so far. Kafka treats '.' and '_' alike
// in metric names and refuses topics that collide, so names are kept
// normalised, each with the field that set it, to point a collision at a
// rename.
type topicNames struct {
	byNorm  map[string]string
	fieldOf map[string]string
}

func newTopicNames() topicNames {
	return topicNames{byNorm: map[string]string{}, fieldOf: map[string]string{}}
}

// claim takes name for the topic set by field, or records why it cannot and
// returns false.
func (n topicNames) claim(p *problems, name, field string) bool {
	norm := strings.ReplaceAll(name, ".", "_")
	if prev, dup := n.byNorm[norm]; dup {
		what := "duplicates topic " + strconv.Quote(prev)
		if prev != name {
			what = "collides with topic " + strconv.Quote(prev) + " ('.' and '_' are the same to Kafka)"
		}
		if field == "topics" && strings.HasSuffix(n.fieldOf[norm], ".name") {
			field = n.fieldOf[norm]
		}
		p.add(field, name, what, "rename it or remove one of them")
		return false
	}
	n.byNorm[norm] = name
	n.fieldOf[norm] = field
	return true
}

// checkOverrideIDs: overrides must name a known topic (by its id), since a
// typo would otherwise be silently ignored.
func checkOverrideIDs(p *problems, raw Raw, tops *RawTopics, ids map[string]bool) {
	ovNames := make([]string, 0, len(raw.TopicOverrides))
	for n := range raw.TopicOverrides {
		ovNames = append(ovNames, n)
	}
	sort.Strings(ovNames)
	for _, n := range ovNames {
		if !ids[n] {
			p.add("topicOverrides."+n, n, "names no topic in the inventory or topics.extra", "fix the name (known: "+strings.Join(knownTopicNames(tops), ", ")+") or add it under topics.extra")
		}
	}
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
	if r.Name != nil {
		t.Name = *r.Name
	}
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
	if r.Partitions != nil {
		checkPartitions(p, field+".partitions", *r.Partitions)
	}
	if r.ReplicationFactor != nil {
		checkReplicationFactor(p, field+".replicationFactor", *r.ReplicationFactor, "set it to 1 (dev) or 3 (prod)")
	}
	if r.RetentionHours != nil {
		checkRetentionHours(p, field+".retentionHours", *r.RetentionHours)
	}
	if r.CleanupPolicy != nil && !slices.Contains(CleanupPolicies, *r.CleanupPolicy) {
		p.add(field+".cleanupPolicy", *r.CleanupPolicy, "unknown cleanup policy (allowed: "+strings.Join(CleanupPolicies, ", ")+")", "use delete or compact")
	}
	checkSetTwice(p, field, r)
	keys := make([]string, 0, len(r.Config))
	for k := range r.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		checkTopicConfig(p, field+".config."+k, k, r.Config[k])
	}
}

// checkPartitions: at least one, and a count Kafka can carry (32-bit).
func checkPartitions(p *problems, field string, n int) {
	p.addMessage(rules.Partitions(field, n))
}

// checkReplicationFactor: at least one copy, and a factor Kafka can carry
// (16-bit). Whether the cluster has that many brokers is checked on the
// resolved topic (checkResolved) or by buildBroker.
func checkReplicationFactor(p *problems, field string, n int, fix string) {
	p.addMessage(rules.ReplicationFactor(field, n, fix))
}

// checkRetentionHours: -1 (forever) or 1 up to Kafka's log.retention.hours
// limit (a 32-bit int). A topic's retentionHours becomes retention.ms, which
// would hold more, but one limit for both keeps one rule, and 2^31 hours is
// 245,000 years.
func checkRetentionHours(p *problems, field string, n int) {
	switch {
	case n < -1 || n == 0:
		p.add(field, n, "must be positive, or -1 to keep data forever", "use 168 (7 days)")
	case n > rules.MaxKafkaInt:
		p.add(field, n, fmt.Sprintf("exceeds %d, the largest log.retention.hours Kafka takes (a 32-bit int)", rules.MaxKafkaInt), "use -1 to keep data forever, or a smaller number of hours")
	}
}

// checkSetTwice refuses an entry that sets one topic config both through its
// own field and in config: one would silently win.
func checkSetTwice(p *problems, field string, r RawTopic) {
	for _, twin := range []struct {
		set       bool
		own, name string
	}{
		{r.RetentionHours != nil, "retentionHours", "retention.ms"},
		{r.CleanupPolicy != nil, "cleanupPolicy", "cleanup.policy"},
	} {
		if v, ok := r.Config[twin.name]; ok && twin.set {
			p.add(field+".config."+twin.name, v, fmt.Sprintf("is set next to %s.%s, which sets the same topic config; one would silently win", field, twin.own),
				"keep one of them")
		}
	}
}

// checkTopicConfig checks one topic config against Kafka 4.1's table
// (internal/topicconfig): a name Kafka has, a value its validator takes. It
// also refuses remote.storage.enable=true: these brokers run without tiered
// storage (components/properties.go sets no remote.log.storage.system.enable),
// so Kafka would refuse the topic.
func checkTopicConfig(p *problems, field, name, value string) {
	def, ok := topicconfig.Lookup(name)
	if !ok {
		fix := "remove it, or use one of Kafka's topic configs (kafka-configs.sh --describe --all --entity-type topics lists them)"
		if near, ok := rules.Nearest(name, topicconfig.Names()); ok {
			fix = "rename it to " + near
		}
		p.add(field, value, "is not a topic config of Kafka 4.1, so creating the topic would fail with INVALID_CONFIG", fix)
		return
	}
	if problem, fix := def.Check(value); problem != "" {
		p.add(field, value, problem, fix)
		return
	}
	if name == "remote.storage.enable" && strings.EqualFold(strings.TrimSpace(value), "true") {
		p.add(field, value, "needs tiered storage, which these brokers do not enable (no remote.log.storage.system.enable), so Kafka would refuse the topic",
			"remove it, or set it to false")
	}
}

// topicMinISR is a topic's effective min.insync.replicas: its own config, else
// the broker's.
func topicMinISR(s *Spec, t TopicSpec) int {
	if v, ok := t.Config["min.insync.replicas"]; ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n
		}
	}
	return s.Broker.MinInsyncReplicas
}

// checkResolved checks one resolved topic against the cluster it lands on.
func checkResolved(p *problems, t TopicSpec, s *Spec) {
	field := "topics." + t.Name
	p.addMessage(rules.ReplicationFactorAboveBrokers(field+".replicationFactor", t.ReplicationFactor, s.Brokers,
		fmt.Sprintf("lower it to %d (topicDefaults or topicOverrides.%s) or raise brokers", s.Brokers, t.Name)))
	minISR := topicMinISR(s, t)
	if t.ReplicationFactor >= 1 && minISR > t.ReplicationFactor {
		p.add(field+".replicationFactor", t.ReplicationFactor, fmt.Sprintf("is below min.insync.replicas (%d): every acks=all write would fail with NOT_ENOUGH_REPLICAS", minISR),
			fmt.Sprintf("raise the replication factor to at least %d or lower min.insync.replicas", minISR))
	}
	checkCompactionLag(p, field, t)
}

// checkCompactionLag: Kafka refuses a topic whose min.compaction.lag.ms
// exceeds its max.compaction.lag.ms (LogConfig.validateValues), however the
// two were set (topicDefaults, an override, or both).
func checkCompactionLag(p *problems, field string, t TopicSpec) {
	lo, errLo := strconv.ParseInt(strings.TrimSpace(t.Config["min.compaction.lag.ms"]), 10, 64)
	hi, errHi := strconv.ParseInt(strings.TrimSpace(t.Config["max.compaction.lag.ms"]), 10, 64)
	if errLo == nil && errHi == nil && lo > hi {
		p.add(field+".config.min.compaction.lag.ms", t.Config["min.compaction.lag.ms"],
			fmt.Sprintf("exceeds max.compaction.lag.ms (%d): Kafka refuses the topic", hi),
			"lower min.compaction.lag.ms or raise max.compaction.lag.ms")
	}
}
