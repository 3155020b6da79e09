package config

import (
	"fmt"
	"slices"
	"strings"
)

// Service is one platform service that talks to the message bus. With
// authenticated listeners (issue 16) each is one Kafka principal, User:<Name>,
// a SCRAM user whose password reaches the service as a Kubernetes Secret in
// Namespace, and whose ACLs follow from the topics it produces to and
// consumes from (ServiceACLs): nothing else is granted.
type Service struct {
	// Name is the SCRAM user name and the principal's name.
	Name string
	// Namespace is where the service runs and its credentials Secret goes.
	Namespace string
	// Produces and Consumes are topic ids (TopicSpec.ID): a rename of a topic
	// keeps its ACLs following it.
	Produces []string
	Consumes []string
	// Group is the consumer group the service commits offsets in; with
	// GroupPrefix, every group starting with it (tools that make a group per
	// run). Empty for a service that only produces.
	Group       string
	GroupPrefix bool
	// DescribesAll grants Describe on every consumer group and every topic
	// (the Literal name "*") and nothing else: what reading committed and
	// end offsets takes, and no record. Only the program's own lag exporter
	// (LagExporterService) has it; stack config cannot set it.
	DescribesAll bool
}

// LagExporterServiceName is the Kafka principal of the lag exporter the
// program deploys with monitoring (User:lag-exporter): its credentials Secret
// is kafka-lag-exporter in the stack's namespace.
const LagExporterServiceName = "lag-exporter"

// LagExporterService is the lag exporter as a service: it runs in the stack's
// own namespace and describes every group and topic. buildServices adds it to
// Spec.Services when monitoring is on.
func LagExporterService(namespace string) Service {
	return Service{Name: LagExporterServiceName, Namespace: namespace, DescribesAll: true}
}

// Services is the seed plan's producer/consumer table (section 1) as
// principals, with the client namespaces of its NetworkPolicy section and the
// consumer groups of its checklist (email-processor, ingestion-normalizer).
// The "processing services" are three principals, so one of them leaking its
// password does not let anyone write alerts. TestServicesCoverTheInventory
// keeps it and Inventory's producer/consumer columns in step.
var Services = []Service{
	{Name: "connectors", Namespace: "umbrella-connectors",
		Produces: []string{"raw-messages", "dead-letter"}},
	{Name: "email-processor", Namespace: "umbrella-ingestion",
		Consumes: []string{"raw-messages"}, Group: "email-processor",
		Produces: []string{"parsed-messages"}},
	{Name: "ingestion-service", Namespace: "umbrella-ingestion",
		Consumes: []string{"parsed-messages"}, Group: "ingestion-normalizer",
		Produces: []string{"normalized-messages", "normalized-messages-dlq"}},
	{Name: "nlp-service", Namespace: "umbrella-processing",
		Consumes: []string{"normalized-messages"}, Group: "nlp-service",
		Produces: []string{"processing-results", "alerts"}},
	{Name: "transcription-service", Namespace: "umbrella-processing",
		Consumes: []string{"normalized-messages"}, Group: "transcription-service",
		Produces: []string{"processing-results"}},
	{Name: "translation-service", Namespace: "umbrella-processing",
		Consumes: []string{"normalized-messages"}, Group: "translation-service",
		Produces: []string{"processing-results"}},
	{Name: "elasticsearch-indexer", Namespace: "umbrella-storage",
		Consumes: []string{"processing-results", "alerts"}, Group: "elasticsearch-indexer"},
	{Name: "ui-backend", Namespace: "umbrella-ui",
		Consumes: []string{"alerts"}, Group: "ui-backend"},
	{Name: "ops", Namespace: "umbrella-streaming",
		Consumes: []string{"dead-letter", "normalized-messages-dlq"}, Group: "ops-", GroupPrefix: true},
}

// Kafka ACL vocabulary, as the umbrellakafka Acl resource (and pulumi-kafka)
// spells it.
const (
	ACLTopic           = "Topic"
	ACLGroup           = "Group"
	ACLCluster         = "Cluster"
	ACLLiteral         = "Literal"
	ACLPrefixed        = "Prefixed"
	ACLRead            = "Read"
	ACLWrite           = "Write"
	ACLDescribe        = "Describe"
	ACLIdempotentWrite = "IdempotentWrite"
	// ACLWildcard, as a Literal name, is every resource of its type.
	ACLWildcard = "*"
	// ACLClusterName is the only name a Cluster resource has.
	ACLClusterName = "kafka-cluster"
)

// ACL is one ALLOW rule for a principal from any host.
type ACL struct {
	Principal    string
	ResourceType string
	ResourceName string
	PatternType  string
	Operation    string
}

// String is the rule in one line, e.g. User:ops Read Topic dead-letter (Literal).
func (a ACL) String() string {
	return fmt.Sprintf("%s %s %s %s (%s)", a.Principal, a.Operation, a.ResourceType, a.ResourceName, a.PatternType)
}

// Principal is a service's Kafka principal.
func (s Service) Principal() string { return "User:" + s.Name }

// ServiceACLs are the least-privilege rules of services over topics: a
// producer gets Write and Describe on each topic it produces to and
// IdempotentWrite on the cluster (Kafka 3+ also implies it from Write; the
// rule says so outright for older clients and readers of the ACL list); a
// consumer gets Read and Describe on each topic it consumes and Read on its
// group; a service that DescribesAll gets Describe on Group and Topic
// ACLWildcard. Topic ids resolve to the topics' Kafka names. The result is sorted
// and has no duplicates, so the same services always give the same rules.
// An id that names no topic is an error (ValidateServices reports it first).
func ServiceACLs(services []Service, topics []TopicSpec) ([]ACL, error) {
	names := map[string]string{}
	for _, t := range topics {
		names[t.ID] = t.Name
	}
	var acls []ACL
	for _, s := range services {
		add := func(resourceType, name, pattern, op string) {
			acls = append(acls, ACL{s.Principal(), resourceType, name, pattern, op})
		}
		for _, id := range s.Produces {
			name, ok := names[id]
			if !ok {
				return nil, fmt.Errorf("service %q produces to %q, which is not a topic", s.Name, id)
			}
			add(ACLTopic, name, ACLLiteral, ACLWrite)
			add(ACLTopic, name, ACLLiteral, ACLDescribe)
		}
		if len(s.Produces) > 0 {
			add(ACLCluster, ACLClusterName, ACLLiteral, ACLIdempotentWrite)
		}
		for _, id := range s.Consumes {
			name, ok := names[id]
			if !ok {
				return nil, fmt.Errorf("service %q consumes %q, which is not a topic", s.Name, id)
			}
			add(ACLTopic, name, ACLLiteral, ACLRead)
			add(ACLTopic, name, ACLLiteral, ACLDescribe)
		}
		if len(s.Consumes) > 0 {
			pattern := ACLLiteral
			if s.GroupPrefix {
				pattern = ACLPrefixed
			}
			add(ACLGroup, s.Group, pattern, ACLRead)
		}
		if s.DescribesAll {
			add(ACLGroup, ACLWildcard, ACLLiteral, ACLDescribe)
			add(ACLTopic, ACLWildcard, ACLLiteral, ACLDescribe)
		}
	}
	slices.SortFunc(acls, func(a, b ACL) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(acls), nil
}

// ValidateServices names every problem of services over the topics with ids
// topicIDs, each with the fix: a service without a name or namespace, a name
// used twice, a service that neither produces nor consumes (it would get no
// ACL and could do nothing), a topic id that names no topic, and a consumer
// without a group (an empty prefixed group would match every group).
func ValidateServices(services []Service, topicIDs []string) []string {
	var problems []string
	seen := map[string]bool{}
	for _, s := range services {
		field := "services." + s.Name
		switch {
		case s.Name == "":
			problems = append(problems, "a service has no name: give each service a name, its Kafka user name")
			continue
		case seen[s.Name]:
			problems = append(problems, fmt.Sprintf("%s: the name is used twice: service names are Kafka user names and must be unique", field))
		}
		seen[s.Name] = true
		if s.Namespace == "" {
			problems = append(problems, fmt.Sprintf("%s.namespace is empty: set the namespace where the service runs; its credentials Secret goes there", field))
		}
		if len(s.Produces) == 0 && len(s.Consumes) == 0 && !s.DescribesAll {
			problems = append(problems, fmt.Sprintf("%s neither produces nor consumes a topic, so it would get no ACL: list its topics in produces or consumes, or remove the service", field))
		}
		for _, list := range []struct {
			key string
			ids []string
		}{{"produces", s.Produces}, {"consumes", s.Consumes}} {
			for _, id := range list.ids {
				if !slices.Contains(topicIDs, id) {
					problems = append(problems, fmt.Sprintf("%s.%s names %q, which is not a topic: use one of %s, or add it under topics.extra",
						field, list.key, id, strings.Join(topicIDs, ", ")))
				}
			}
		}
		if len(s.Consumes) > 0 && s.Group == "" {
			problems = append(problems, fmt.Sprintf("%s consumes topics but has no group: set group to the consumer group it commits offsets in", field))
		}
	}
	return problems
}
