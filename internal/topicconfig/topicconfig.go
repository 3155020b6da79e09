// Package topicconfig is Kafka 4.1's table of topic configs: every name a
// topic accepts, its type and the validator Kafka applies, so a stack's topic
// settings are checked at preview instead of failing CreateTopics halfway
// through an update.
//
// The table is kept in code, copied from Kafka's own definitions
// (org.apache.kafka.storage.internals.log.LogConfig's ConfigDef in the
// kafka-storage 4.1.1 jar: LogConfig.configKeys(), each key's type and
// validator). tests/realkafka (TestTopicConfigTableMatchesKafka) holds it to
// a real 4.1.1 broker: the names and types a topic's DescribeConfigs reports,
// and, for probe values around every bound, the verdict of CreateTopics with
// validateOnly. A Kafka upgrade that adds, drops or retypes a topic config
// fails that test until the table follows.
//
// Values are parsed the way Kafka's ConfigDef parses them: surrounding blanks
// are ignored, booleans are true/false in any case, lists are comma-separated.
// Two deliberate differences make the table stricter, never looser: a DOUBLE
// must be a plain decimal (Java also takes NaN and suffixes such as 0.5d), and
// the test-only internal config internal.segment.bytes is not a name here
// (DescribeConfigs never shows it).
//
// It is a leaf package (standard library only), like package rules.
package topicconfig

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Type is a config's type, named as Kafka's ConfigDef.Type. Topic configs use
// Boolean, Int, Long, Double, String and List; Kafka's Class and Password
// types have no topic config in 4.1.
type Type string

// Kafka's config types.
const (
	Boolean  Type = "BOOLEAN"
	Int      Type = "INT"  // 32-bit
	Long     Type = "LONG" // 64-bit
	Double   Type = "DOUBLE"
	String   Type = "STRING"
	List     Type = "LIST"
	Class    Type = "CLASS"
	Password Type = "PASSWORD"
)

// Def is one topic config: its name, type and what Kafka's validator accepts.
type Def struct {
	// Name is the topic config name, e.g. retention.ms.
	Name string
	// Type is how Kafka parses the value.
	Type Type
	// Min and Max bound an Int, Long or Double inclusively: Kafka's Range
	// validator, or the type's own bounds where Kafka sets none. (Kafka's one
	// Double topic config has whole-number bounds, [0, 1].)
	Min, Max int64
	// Also lists values allowed outside [Min, Max] (compression.gzip.level's -1).
	Also []int64
	// Values lists what a String may be, or each item of a List (nil: anything).
	// Kafka compares them case-sensitively.
	Values []string
	// Replicas marks Kafka's throttled-replica list: "*" or partition:broker pairs.
	Replicas bool
}

const maxInt, minInt = math.MaxInt32, math.MinInt32

func boolean(name string) Def { return Def{Name: name, Type: Boolean} }

func intAtLeast(name string, lo int64) Def {
	return Def{Name: name, Type: Int, Min: lo, Max: maxInt}
}

func longAtLeast(name string, lo int64) Def {
	return Def{Name: name, Type: Long, Min: lo, Max: math.MaxInt64}
}

func oneOf(name string, values ...string) Def { return Def{Name: name, Type: String, Values: values} }

func replicas(name string) Def { return Def{Name: name, Type: List, Replicas: true} }

// table is Kafka 4.1.1's LogConfig, sorted by name. Each line says what
// Kafka's validator says (shown by LogConfig.configKeys() as e.g. "[0,...]").
var table = []Def{
	{Name: "cleanup.policy", Type: List, Values: []string{"compact", "delete"}},
	{Name: "compression.gzip.level", Type: Int, Min: 1, Max: 9, Also: []int64{-1}}, // -1: the codec's default
	{Name: "compression.lz4.level", Type: Int, Min: 1, Max: 17},
	oneOf("compression.type", "uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
	{Name: "compression.zstd.level", Type: Int, Min: -131072, Max: 22},
	longAtLeast("delete.retention.ms", 0),
	longAtLeast("file.delete.delay.ms", 0),
	longAtLeast("flush.messages", 1),
	longAtLeast("flush.ms", 0),
	replicas("follower.replication.throttled.replicas"),
	intAtLeast("index.interval.bytes", 0),
	replicas("leader.replication.throttled.replicas"),
	longAtLeast("local.retention.bytes", -2), // -2: same as retention.bytes
	longAtLeast("local.retention.ms", -2),    // -2: same as retention.ms
	longAtLeast("max.compaction.lag.ms", 1),
	intAtLeast("max.message.bytes", 0),
	longAtLeast("message.timestamp.after.max.ms", 0),
	longAtLeast("message.timestamp.before.max.ms", 0),
	oneOf("message.timestamp.type", "CreateTime", "LogAppendTime"),
	{Name: "min.cleanable.dirty.ratio", Type: Double, Min: 0, Max: 1},
	longAtLeast("min.compaction.lag.ms", 0),
	intAtLeast("min.insync.replicas", 1),
	boolean("preallocate"),
	boolean("remote.log.copy.disable"),
	boolean("remote.log.delete.on.disable"),
	boolean("remote.storage.enable"),
	// retention.bytes has no validator: -1 (any negative) is no size limit.
	{Name: "retention.bytes", Type: Long, Min: math.MinInt64, Max: math.MaxInt64},
	longAtLeast("retention.ms", -1), // -1: keep forever
	intAtLeast("segment.bytes", 1048576),
	intAtLeast("segment.index.bytes", 4),
	longAtLeast("segment.jitter.ms", 0),
	longAtLeast("segment.ms", 1),
	boolean("unclean.leader.election.enable"),
}

// All returns every topic config of Kafka 4.1, sorted by name.
func All() []Def { return append([]Def(nil), table...) }

// Names returns every topic config name, sorted.
func Names() []string {
	out := make([]string, len(table))
	for i, d := range table {
		out[i] = d.Name
	}
	return out
}

// Lookup returns the topic config with this name.
func Lookup(name string) (Def, bool) {
	i := sort.Search(len(table), func(i int) bool { return table[i].Name >= name })
	if i < len(table) && table[i].Name == name {
		return table[i], true
	}
	return Def{}, false
}

// Check returns why Kafka would refuse value for d, and what to write instead;
// both are "" when Kafka accepts it.
func (d Def) Check(value string) (problem, fix string) {
	v := strings.TrimSpace(value)
	switch d.Type {
	case Boolean:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return fmt.Sprintf("is not true or false (Kafka's %s is a boolean)", d.Name), "use true or false"
		}
	case Int, Long:
		return d.checkWhole(v)
	case Double:
		return d.checkDecimal(v)
	case String:
		return d.checkString(v)
	case List:
		return d.checkList(v)
	}
	return "", ""
}

// typeText names d's type for messages.
func (d Def) typeText() string {
	switch d.Type {
	case Int:
		return "an int (32-bit)"
	case Long:
		return "a long (64-bit)"
	case Double:
		return "a decimal number"
	}
	return strings.ToLower(string(d.Type))
}

// rangeText says which numbers d takes: "from 1 to 9, or -1", "of at least 0"
// (a long), "from 0 to 2147483647" (an int).
func (d Def) rangeText() string {
	typeMax := int64(maxInt)
	if d.Type == Long {
		typeMax = math.MaxInt64
	}
	var s string
	switch {
	case d.Max == typeMax && (d.Min == minInt || d.Min == math.MinInt64):
		s = "within its type's range"
	case d.Max == math.MaxInt64:
		s = fmt.Sprintf("of at least %d", d.Min) // past it, a value does not parse
	case d.Max == typeMax:
		s = fmt.Sprintf("from %d to %d", d.Min, d.Max)
	default:
		s = fmt.Sprintf("from %d to %d", d.Min, d.Max)
	}
	for _, a := range d.Also {
		s += fmt.Sprintf(", or %d", a)
	}
	return s
}

func (d Def) checkWhole(v string) (string, string) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		why := "is not a whole number"
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			why = "does not fit in 64 bits"
		}
		return fmt.Sprintf("%s (Kafka's %s is %s %s)", why, d.Name, d.typeText(), d.rangeText()), "use a whole number " + d.rangeText()
	}
	if n >= d.Min && n <= d.Max || d.isAlso(n) {
		return "", ""
	}
	return fmt.Sprintf("is out of range (Kafka's %s is %s %s)", d.Name, d.typeText(), d.rangeText()), "use a whole number " + d.rangeText()
}

func (d Def) inRange(f float64) bool { return f >= float64(d.Min) && f <= float64(d.Max) }

func (d Def) isAlso(n int64) bool {
	for _, a := range d.Also {
		if n == a {
			return true
		}
	}
	return false
}

func (d Def) checkDecimal(v string) (string, string) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprintf("is not a decimal number (Kafka's %s is a decimal %s)", d.Name, d.rangeText()), "use a decimal number " + d.rangeText() + ", e.g. 0.5"
	}
	if !d.inRange(f) {
		return fmt.Sprintf("is out of range (Kafka's %s is a decimal %s)", d.Name, d.rangeText()), "use a decimal number " + d.rangeText()
	}
	return "", ""
}

func (d Def) checkString(v string) (string, string) {
	if d.Values == nil || slices.Contains(d.Values, v) {
		return "", ""
	}
	problem := fmt.Sprintf("is not a value Kafka accepts for %s (allowed, case-sensitive: %s)", d.Name, strings.Join(d.Values, ", "))
	for _, ok := range d.Values {
		if strings.EqualFold(ok, v) {
			return problem, "write it " + ok
		}
	}
	return problem, "use one of the allowed values"
}

// throttledRE is one item of a throttled-replica list, as Kafka's
// ThrottledReplicaListValidator matches it (an empty item passes too).
var throttledRE = regexp.MustCompile(`^([0-9]+:[0-9]+)?$`)

// SplitList splits a List value as Kafka's ConfigDef does: blank means no
// items, else items between commas, blanks around them ignored.
func SplitList(v string) []string {
	if v == "" {
		return nil
	}
	items := strings.Split(v, ",")
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	return items
}

func (d Def) checkList(v string) (string, string) {
	items := SplitList(v)
	if d.Replicas {
		if strings.Join(items, "") == "*" {
			return "", ""
		}
		for _, it := range items {
			if !throttledRE.MatchString(it) {
				return fmt.Sprintf("is not '*' or a list of partition:broker pairs (Kafka's %s)", d.Name), "write it like 0:101,1:102, or * for every replica"
			}
		}
		return "", ""
	}
	for _, it := range items {
		if d.Values != nil && !slices.Contains(d.Values, it) {
			return fmt.Sprintf("has the item %q, which Kafka does not accept in %s (allowed items, case-sensitive: %s)", it, d.Name, strings.Join(d.Values, ", ")),
				"use a comma-separated list of " + strings.Join(d.Values, ", ")
		}
	}
	return "", ""
}
