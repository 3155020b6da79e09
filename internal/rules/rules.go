// Package rules is the one home of the naming rules that both the stack config
// (package config) and the topic provider (package provider) enforce: Kafka's
// topic-name rule, a topic's partition count and replication factor (topic.go),
// the Kubernetes DNS label and subdomain, and the check that a host is an
// in-cluster name. Each rule and its message live here once, so the
// program and the provider cannot drift apart.
//
// It is a leaf package (standard library only), so the provider binary does not
// pull in the Pulumi program's dependencies by using it.
//
// Messages follow one shape, "<field> = <value>: <problem>; <fix>", built by
// Message, so every message names the field, the value, the limit and the fix.
package rules

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// MaxTopicNameLength is Kafka's limit on a topic name (Topic.MAX_NAME_LENGTH).
const MaxTopicNameLength = 249

// TopicNameFix is the fix printed after every topic-name problem.
const TopicNameFix = "use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'"

// MaxKafkaInt is the largest value of a Kafka INT config (a Java int, 32-bit):
// num.partitions, log.retention.hours, min.insync.replicas, segment.bytes.
const MaxKafkaInt = math.MaxInt32

// MaxPartitions is the most partitions a topic can have: CreateTopics and
// CreatePartitions carry the count as a 32-bit number.
const MaxPartitions = math.MaxInt32

// MaxReplicationFactor is the largest replication factor Kafka can store: the
// CreateTopics request carries it as a 16-bit number.
const MaxReplicationFactor = math.MaxInt16

// MaxDNSLabelLength is the longest Kubernetes DNS label (RFC 1123): namespace
// and Service names.
const MaxDNSLabelLength = 63

// MaxDNSSubdomainLength is the longest Kubernetes DNS subdomain (RFC 1123):
// StorageClass names, among others.
const MaxDNSSubdomainLength = 253

var (
	topicNameRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	dnsLabelRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// Message formats one problem as "<field> = <value>: <problem>; <fix>". Strings
// are quoted, so an empty or blank value is visible; string lists print as
// [a, b].
func Message(field string, value any, problem, fix string) string {
	return fmt.Sprintf("%s = %s: %s; %s", field, show(value), problem, fix)
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	default:
		return fmt.Sprint(x)
	}
}

// TopicNameProblem returns why name is not a legal Kafka topic name, or "" if it
// is. The text follows "invalid topic name: " in TopicName's message.
func TopicNameProblem(name string) string {
	switch {
	case name == "":
		return "is empty"
	case name == "." || name == "..":
		return "is '.' or '..', which Kafka forbids"
	case len(name) > MaxTopicNameLength:
		return fmt.Sprintf("is %d characters long, over Kafka's limit of %d", len(name), MaxTopicNameLength)
	case !topicNameRE.MatchString(name):
		return "has characters outside [a-zA-Z0-9._-]"
	}
	return ""
}

// TopicName returns the message for field holding an illegal Kafka topic name,
// or "" if name is legal.
func TopicName(field, name string) string {
	why := TopicNameProblem(name)
	if why == "" {
		return ""
	}
	return Message(field, name, "invalid topic name: "+why, TopicNameFix)
}

// DNSLabel reports whether s is a Kubernetes DNS label: 1 to 63 lower-case
// letters, digits and '-', starting and ending with a letter or digit.
func DNSLabel(s string) bool {
	return len(s) <= MaxDNSLabelLength && dnsLabelRE.MatchString(s)
}

// DNSSubdomain reports whether s is a Kubernetes DNS subdomain: DNS-label
// characters in '.'-separated parts, at most 253 characters in all.
func DNSSubdomain(s string) bool {
	if len(s) > MaxDNSSubdomainLength {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !dnsLabelRE.MatchString(part) {
			return false
		}
	}
	return true
}

// InClusterHost reports whether host (without a port) is a Kubernetes
// in-cluster DNS name, which resolves only inside the cluster. With namespace
// set, the name must be a Service or pod name of that namespace
// (<name>.<namespace>.svc, with or without a cluster domain after it); with
// namespace "", any name under .svc or .cluster.local counts. Case and a
// trailing dot are ignored.
func InClusterHost(host, namespace string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if namespace == "" {
		return strings.HasSuffix(host, ".svc") || strings.Contains(host, ".svc.") || strings.HasSuffix(host, ".cluster.local")
	}
	svc := "." + namespace + ".svc"
	return strings.HasSuffix(host, svc) || strings.Contains(host, svc+".")
}

// SplitList splits a comma-separated value the way Kafka reads its list
// configs: items trimmed of blanks, empty items dropped. The flags and
// environment variables that take lists read them the same way.
func SplitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
