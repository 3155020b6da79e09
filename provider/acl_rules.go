package provider

import (
	"fmt"
	"net"
	"slices"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// The ACL enums are written the way pulumi-kafka (and Sarama, which it is
// built on) spells them, e.g. "Write", "TransactionalID", "Literal", so that
// a program moves over by renaming the package. Kafka compares none of these
// as text: the wire carries numbers, so "WRITE", "write" and Kafka's own
// "TRANSACTIONAL_ID" mean the same and are accepted too. Check rewrites
// each to the one spelling below, so state, Read and Diff only ever see that
// spelling and a differently written program shows no change.

// aclEnum is one value of an ACL enum: its canonical spelling and its Kafka
// wire number.
type aclEnum struct {
	Name string
	Code int8
}

// aclOperationTwoPhaseCommit is Kafka 4.x's TWO_PHASE_COMMIT operation on a
// transactional ID (KIP-939), which franz-go's kmsg does not name yet.
const aclOperationTwoPhaseCommit kmsg.ACLOperation = 15

// The values a new ACL can have. Kafka also defines Unknown and Any, which
// only filters use: CreateAcls refuses them.
var (
	aclResourceTypes = []aclEnum{
		{"Topic", int8(kmsg.ACLResourceTypeTopic)},
		{"Group", int8(kmsg.ACLResourceTypeGroup)},
		{"Cluster", int8(kmsg.ACLResourceTypeCluster)},
		{"TransactionalID", int8(kmsg.ACLResourceTypeTransactionalId)},
		{"DelegationToken", int8(kmsg.ACLResourceTypeDelegationToken)},
		{"User", int8(kmsg.ACLResourceTypeUser)},
	}
	aclOperations = []aclEnum{
		{"All", int8(kmsg.ACLOperationAll)},
		{"Read", int8(kmsg.ACLOperationRead)},
		{"Write", int8(kmsg.ACLOperationWrite)},
		{"Create", int8(kmsg.ACLOperationCreate)},
		{"Delete", int8(kmsg.ACLOperationDelete)},
		{"Alter", int8(kmsg.ACLOperationAlter)},
		{"Describe", int8(kmsg.ACLOperationDescribe)},
		{"ClusterAction", int8(kmsg.ACLOperationClusterAction)},
		{"DescribeConfigs", int8(kmsg.ACLOperationDescribeConfigs)},
		{"AlterConfigs", int8(kmsg.ACLOperationAlterConfigs)},
		{"IdempotentWrite", int8(kmsg.ACLOperationIdempotentWrite)},
		{"CreateTokens", int8(kmsg.ACLOperationCreateTokens)},
		{"DescribeTokens", int8(kmsg.ACLOperationDescribeTokens)},
		{"TwoPhaseCommit", int8(aclOperationTwoPhaseCommit)},
	}
	aclPermissionTypes = []aclEnum{
		{"Allow", int8(kmsg.ACLPermissionTypeAllow)},
		{"Deny", int8(kmsg.ACLPermissionTypeDeny)},
	}
	aclPatternTypes = []aclEnum{
		{"Literal", int8(kmsg.ACLResourcePatternTypeLiteral)},
		{"Prefixed", int8(kmsg.ACLResourcePatternTypePrefixed)},
	}
)

// aclFilterOnly are the values Kafka defines for filters only, with why a
// binding cannot have them: pulumi-kafka lists them as valid, but Kafka
// refuses a CreateAcls that uses one.
var aclFilterOnly = map[string]string{
	"unknown": "Unknown is not a value Kafka stores",
	"any":     "Any only matches in filters (DescribeAcls/DeleteAcls); an ACL needs one concrete value",
	"match":   "Match only matches in filters (DescribeAcls/DeleteAcls); an ACL is Literal or Prefixed",
}

// aclSupportedOperations is Kafka 4.1's AclEntry.supportedOperations: the
// operations the authorizer ever checks on each resource type. An ACL with
// any other operation is accepted by Kafka but never grants or denies
// anything, so Check refuses it. All is valid everywhere.
var aclSupportedOperations = map[string][]string{
	"Topic":           {"Read", "Write", "Create", "Delete", "Alter", "Describe", "DescribeConfigs", "AlterConfigs"},
	"Group":           {"Read", "Delete", "Describe", "DescribeConfigs", "AlterConfigs"},
	"Cluster":         {"Create", "Alter", "Describe", "ClusterAction", "DescribeConfigs", "AlterConfigs", "IdempotentWrite"},
	"TransactionalID": {"Write", "Describe", "TwoPhaseCommit"},
	"DelegationToken": {"Describe"},
	"User":            {"CreateTokens", "DescribeTokens"},
}

// clusterResourceName is the one name of Kafka's cluster resource.
const clusterResourceName = "kafka-cluster"

// enumKey folds a spelling for comparison: case, '_' and '-' do not count,
// so "TRANSACTIONAL_ID" matches "TransactionalID".
func enumKey(s string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// lookupEnum finds a value by any spelling.
func lookupEnum(values []aclEnum, s string) (aclEnum, bool) {
	for _, v := range values {
		if enumKey(v.Name) == enumKey(s) {
			return v, true
		}
	}
	return aclEnum{}, false
}

// enumByCode finds a value by its Kafka number, for what Kafka answers.
func enumByCode(values []aclEnum, code int8) (aclEnum, bool) {
	for _, v := range values {
		if v.Code == code {
			return v, true
		}
	}
	return aclEnum{}, false
}

func enumNames(values []aclEnum) []string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = v.Name
	}
	return names
}

// canonicalEnum returns the canonical spelling of s, or s itself when it is
// no value of the enum (Check reports those).
func canonicalEnum(values []aclEnum, s string) string {
	if v, ok := lookupEnum(values, s); ok {
		return v.Name
	}
	return s
}

// normalizeAcl rewrites every enum field to its canonical spelling and sets
// the default pattern type, Literal, as pulumi-kafka does.
func normalizeAcl(a AclArgs) AclArgs {
	a.AclResourceType = canonicalEnum(aclResourceTypes, a.AclResourceType)
	a.AclOperation = canonicalEnum(aclOperations, a.AclOperation)
	a.AclPermissionType = canonicalEnum(aclPermissionTypes, a.AclPermissionType)
	pattern := "Literal"
	if a.ResourcePatternTypeFilter != nil {
		pattern = canonicalEnum(aclPatternTypes, *a.ResourcePatternTypeFilter)
	}
	a.ResourcePatternTypeFilter = &pattern
	return a
}

// enumFailure checks one enum field: "" when s is a value a new ACL can
// have, else a message naming the field, the value and the allowed values.
func enumFailure(field, s string, values []aclEnum) string {
	if _, ok := lookupEnum(values, s); ok {
		return ""
	}
	allowed := enumNames(values)
	problem := "is not a value Kafka knows"
	why, filterOnly := aclFilterOnly[enumKey(s)]
	if filterOnly {
		problem = why
	}
	fix := "use one of " + strings.Join(allowed, ", ") + " (case does not matter)"
	if near, ok := rules.Nearest(s, allowed); ok && !filterOnly {
		fix = fmt.Sprintf("did you mean %q? Use one of %s (case does not matter)", near, strings.Join(allowed, ", "))
	}
	return rules.Message(field, s, problem, fix)
}

// checkAcl returns a failure for each field of a new ACL that Kafka would
// refuse or that could never take effect. known reports whether a field's
// value is known (false during a preview for outputs of other resources);
// unknown fields and rules that need them are left for the next check.
func checkAcl(a AclArgs, known func(string) bool) []p.CheckFailure {
	var failures []p.CheckFailure
	fail := func(field, msg string) {
		if msg != "" {
			failures = append(failures, p.CheckFailure{Property: field, Reason: msg})
		}
	}
	typeOK, opOK := false, false
	if known("aclResourceType") {
		msg := enumFailure("aclResourceType", a.AclResourceType, aclResourceTypes)
		typeOK = msg == ""
		fail("aclResourceType", msg)
	}
	if known("aclOperation") {
		msg := enumFailure("aclOperation", a.AclOperation, aclOperations)
		opOK = msg == ""
		fail("aclOperation", msg)
	}
	if typeOK && opOK {
		fail("aclOperation", operationForType(a.AclOperation, a.AclResourceType))
	}
	if known("aclPermissionType") {
		fail("aclPermissionType", enumFailure("aclPermissionType", a.AclPermissionType, aclPermissionTypes))
	}
	patternOK := false
	if known("resourcePatternTypeFilter") && a.ResourcePatternTypeFilter != nil {
		msg := enumFailure("resourcePatternTypeFilter", *a.ResourcePatternTypeFilter, aclPatternTypes)
		patternOK = msg == ""
		fail("resourcePatternTypeFilter", msg)
	}
	if known("aclPrincipal") {
		fail("aclPrincipal", principalFailure(a.AclPrincipal))
	}
	if known("aclHost") {
		fail("aclHost", hostFailure(a.AclHost))
	}
	if known("aclResourceName") {
		pattern := ""
		if patternOK {
			pattern = canonicalEnum(aclPatternTypes, *a.ResourcePatternTypeFilter)
		}
		resType := ""
		if typeOK {
			resType = canonicalEnum(aclResourceTypes, a.AclResourceType)
		}
		fail("aclResourceName", resourceNameFailure(a.AclResourceName, resType, pattern))
	}
	return failures
}

// operationForType refuses an operation the authorizer never checks on the
// resource type (Kafka accepts such an ACL, and it does nothing).
func operationForType(op, resType string) string {
	op, resType = canonicalEnum(aclOperations, op), canonicalEnum(aclResourceTypes, resType)
	supported := aclSupportedOperations[resType]
	if op == "All" || slices.Contains(supported, op) {
		return ""
	}
	return rules.Message("aclOperation", op, fmt.Sprintf("Kafka never checks %s on a %s, so this ACL would grant or deny nothing",
		op, resType), fmt.Sprintf("for aclResourceType = %q use one of All, %s", resType, strings.Join(supported, ", ")))
}

// principalFailure checks Kafka's principal form "Type:name", which
// CreateAcls refuses without the colon. "User:*" is every user.
func principalFailure(principal string) string {
	typ, name, ok := strings.Cut(principal, ":")
	if ok && typ != "" && name != "" {
		return ""
	}
	fix := "write it as <type>:<name>, e.g. \"User:alice\" (\"User:*\" for every user)"
	if principal == "*" {
		fix = "write \"User:*\" for every user"
	}
	return rules.Message("aclPrincipal", principal, "is not a Kafka principal of the form <type>:<name>", fix)
}

// hostFailure checks the host: the authorizer compares it with the client's
// IP address as text, so a host name would never match.
func hostFailure(host string) string {
	if host == "*" || net.ParseIP(host) != nil {
		return ""
	}
	problem := "is neither \"*\" nor an IP address: Kafka compares it with the client's IP address, so a host name never matches"
	if host == "" {
		problem = "is empty"
	}
	return rules.Message("aclHost", host, problem, "use \"*\" for any host, or one client IP address such as \"10.0.0.7\"")
}

// resourceNameFailure checks the resource name against the resource type
// and pattern type ("" when those are not valid or not known yet).
func resourceNameFailure(name, resType, pattern string) string {
	switch {
	case name == "":
		return rules.Message("aclResourceName", name, "is empty (Kafka refuses an empty resource name)",
			"name the topic, group or transactional ID, or \"*\" for all of them")
	case resType == "Cluster" && name != clusterResourceName:
		return rules.Message("aclResourceName", name, "is not the cluster resource's name: Kafka's cluster resource is "+
			"always named \""+clusterResourceName+"\", so this ACL would match nothing",
			"set aclResourceName = \""+clusterResourceName+"\" for aclResourceType = \"Cluster\"")
	case resType == "Cluster" && pattern == "Prefixed":
		return rules.Message("aclResourceName", name, "is the cluster resource with resourcePatternTypeFilter = \"Prefixed\"",
			"use resourcePatternTypeFilter = \"Literal\" for the cluster")
	case resType == "Topic" && pattern == "Literal" && name != "*" && rules.TopicNameProblem(name) != "":
		return rules.Message("aclResourceName", name, "is no legal topic name ("+rules.TopicNameProblem(name)+
			"), so this ACL would match no topic", rules.TopicNameFix+", or \"*\" for every topic")
	case strings.Contains(name, "*") && pattern == "Prefixed":
		return rules.Message("aclResourceName", name, "holds \"*\" with resourcePatternTypeFilter = \"Prefixed\": Kafka "+
			"treats \"*\" as a wildcard only in a Literal name; as a prefix it is a plain character, so this ACL would "+
			"match only names that start with it", "for every resource use aclResourceName = \"*\" with "+
			"resourcePatternTypeFilter = \"Literal\"; for a prefix write the prefix without \"*\"")
	}
	return ""
}

// aclBinding is the binding as kafkaadmin takes it: Kafka's numbers of the
// canonical spelling, named by the resource ID in errors.
func aclBinding(a AclArgs) kafkaadmin.ACL {
	a = normalizeAcl(a)
	t, _ := lookupEnum(aclResourceTypes, a.AclResourceType)
	pt, _ := lookupEnum(aclPatternTypes, *a.ResourcePatternTypeFilter)
	o, _ := lookupEnum(aclOperations, a.AclOperation)
	pm, _ := lookupEnum(aclPermissionTypes, a.AclPermissionType)
	return kafkaadmin.ACL{Name: aclID(a), ResourceType: kmsg.ACLResourceType(t.Code), ResourceName: a.AclResourceName,
		PatternType: kmsg.ACLResourcePatternType(pt.Code), Principal: a.AclPrincipal, Host: a.AclHost,
		Operation: kmsg.ACLOperation(o.Code), Permission: kmsg.ACLPermissionType(pm.Code)}
}
