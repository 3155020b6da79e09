package rules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTopicName(t *testing.T) {
	long := strings.Repeat("t", 250)
	for _, c := range []struct{ name, want string }{
		{"alerts", ""},
		{"audit.events_v2-x", ""},
		{strings.Repeat("t", 249), ""},
		{"", `name = "": invalid topic name: is empty; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'`},
		{".", `name = ".": invalid topic name: is '.' or '..', which Kafka forbids; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'`},
		{"..", `name = "..": invalid topic name: is '.' or '..', which Kafka forbids; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'`},
		{long, `name = "` + long + `": invalid topic name: is 250 characters long, over Kafka's limit of 249; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'`},
		{"a/b", `name = "a/b": invalid topic name: has characters outside [a-zA-Z0-9._-]; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'`},
		{"café", `name = "café": invalid topic name: has characters outside [a-zA-Z0-9._-]; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'`},
	} {
		assert.Equal(t, c.want, TopicName("name", c.name), c.name)
	}
}

func TestDNSLabelAndSubdomain(t *testing.T) {
	for s, want := range map[string]bool{
		"umbrella-streaming": true, "a": true, "0": true, strings.Repeat("a", 63): true,
		"": false, strings.Repeat("a", 64): false, "Umbrella": false, "a_b": false, "-a": false, "a-": false, "a.b": false,
	} {
		assert.Equal(t, want, DNSLabel(s), "DNSLabel(%q)", s)
	}
	for s, want := range map[string]bool{
		"fast-ssd": true, "fast.ssd.example": true, strings.Repeat("a.", 126) + "a": true,
		"": false, "Fast_SSD": false, "a..b": false, strings.Repeat("a.", 127) + "a": false,
	} {
		assert.Equal(t, want, DNSSubdomain(s), "DNSSubdomain(%q)", s)
	}
}

func TestInClusterHost(t *testing.T) {
	for _, c := range []struct {
		host, namespace string
		want            bool
	}{
		{"kafka.umbrella-streaming.svc", "umbrella-streaming", true},
		{"kafka-0.kafka-headless.umbrella-streaming.svc", "umbrella-streaming", true},
		{"kafka.umbrella-streaming.svc.cluster.local.", "umbrella-streaming", true},
		{"KAFKA.Umbrella-Streaming.SVC", "umbrella-streaming", true},
		{"kafka.other.svc.cluster.local", "umbrella-streaming", false},
		{"127.0.0.1", "umbrella-streaming", false},
		{"kafka.other.svc", "", true},
		{"kafka.other.svc.cluster.local", "", true},
		{"kafka.cluster.local", "", true},
		{"kafka.example", "", false},
		{"127.0.0.1", "", false},
	} {
		assert.Equal(t, c.want, InClusterHost(c.host, c.namespace), "InClusterHost(%q, %q)", c.host, c.namespace)
	}
}

func TestMessageShowsValues(t *testing.T) {
	assert.Equal(t, `f = "": empty; fill it`, Message("f", "", "empty", "fill it"))
	assert.Equal(t, "f = [a, b]: listed; drop one", Message("f", []string{"a", "b"}, "listed", "drop one"))
	assert.Equal(t, "f = 3: too many; use 1", Message("f", 3, "too many", "use 1"))
}

func TestNearest(t *testing.T) {
	fields := []string{"minInsyncReplicas", "defaultReplicationFactor", "numPartitions", "retentionHours", "retentionBytes"}
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"minInSyncReplicas", "minInsyncReplicas", true}, // case only
		{"minInsyncReplica", "minInsyncReplicas", true},  // one deletion
		{"retentionHour", "retentionHours", true},
		{"retentionByte", "retentionBytes", true},
		{"numPartitons", "numPartitions", true},
		{"replicas", "", false}, // a word of a field, not a typo of one
		{"zzz", "", false},
	} {
		got, ok := Nearest(c.name, fields)
		assert.Equal(t, c.ok, ok, c.name)
		assert.Equal(t, c.want, got, c.name)
	}
	got, ok := Nearest("szie", []string{"size", "storageClass"})
	assert.True(t, ok)
	assert.Equal(t, "size", got, "a swap of neighbours is one edit")
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"size", "szie", 1}, {"kitten", "sitting", 3},
		{"retention_ms", "retention.ms", 1}, {"ca", "abc", 3},
	} {
		assert.Equal(t, c.want, editDistance(c.a, c.b), "%q→%q", c.a, c.b)
	}
}

func TestSplitList(t *testing.T) {
	assert.Equal(t, []string{"a", "b c", "d"}, SplitList(" a, b c ,,d, "))
	assert.Nil(t, SplitList(" , "))
	assert.Nil(t, SplitList(""))
}
