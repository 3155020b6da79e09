package provider

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// writeAcl is a valid topic WRITE ACL in test shorthand.
var writeAcl = aclSpec{"orders", "Topic", "User:alice", "*", "Write", "Allow", "Literal"}

func (a aclSpec) with(edit func(*aclSpec)) aclSpec {
	edit(&a)
	return a
}

// TestAclCheck has one case per rule of Check; each message names the
// field, the value, the problem and the fix.
func TestAclCheck(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	tests := []struct {
		name string
		acl  aclSpec
		want []p.CheckFailure
	}{
		{"valid", writeAcl, nil},
		{"every user on every topic", writeAcl.with(func(a *aclSpec) { a.name, a.principal = "*", "User:*" }), nil},
		{"prefixed", writeAcl.with(func(a *aclSpec) { a.name, a.pattern = "orders.", "Prefixed" }), nil},
		{"cluster", aclSpec{"kafka-cluster", "Cluster", "User:ops", "10.0.0.7", "IdempotentWrite", "Allow", ""}, nil},
		{"two-phase commit on a transactional ID", aclSpec{"tx", "TransactionalID", "User:a", "*", "TwoPhaseCommit", "Allow", ""}, nil},
		{"unknown operation", writeAcl.with(func(a *aclSpec) { a.op = "Wrote" }), []p.CheckFailure{{Property: "aclOperation",
			Reason: `aclOperation = "Wrote": is not a value Kafka knows; did you mean "Write"? Use one of All, Read, Write, ` +
				`Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, ` +
				`DescribeTokens, TwoPhaseCommit (case does not matter)`}}},
		{"filter-only operation", writeAcl.with(func(a *aclSpec) { a.op = "Any" }), []p.CheckFailure{{Property: "aclOperation",
			Reason: `aclOperation = "Any": Any only matches in filters (DescribeAcls/DeleteAcls); an ACL needs one concrete ` +
				`value; use one of All, Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, ` +
				`AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens, TwoPhaseCommit (case does not matter)`}}},
		{"operation Kafka never checks on the type", writeAcl.with(func(a *aclSpec) { a.typ = "Group" }), []p.CheckFailure{{Property: "aclOperation",
			Reason: `aclOperation = "Write": Kafka never checks Write on a Group, so this ACL would grant or deny nothing; ` +
				`for aclResourceType = "Group" use one of All, Read, Delete, Describe, DescribeConfigs, AlterConfigs`}}},
		{"unknown resource type", writeAcl.with(func(a *aclSpec) { a.typ = "Topics" }), []p.CheckFailure{{Property: "aclResourceType",
			Reason: `aclResourceType = "Topics": is not a value Kafka knows; did you mean "Topic"? Use one of Topic, Group, ` +
				`Cluster, TransactionalID, DelegationToken, User (case does not matter)`}}},
		{"unknown permission", writeAcl.with(func(a *aclSpec) { a.perm = "Permit" }), []p.CheckFailure{{Property: "aclPermissionType",
			Reason: `aclPermissionType = "Permit": is not a value Kafka knows; use one of Allow, Deny (case does not matter)`}}},
		{"filter-only pattern", writeAcl.with(func(a *aclSpec) { a.pattern = "Match" }), []p.CheckFailure{{Property: "resourcePatternTypeFilter",
			Reason: `resourcePatternTypeFilter = "Match": Match only matches in filters (DescribeAcls/DeleteAcls); an ACL is ` +
				`Literal or Prefixed; use one of Literal, Prefixed (case does not matter)`}}},
		{"principal without type", writeAcl.with(func(a *aclSpec) { a.principal = "alice" }), []p.CheckFailure{{Property: "aclPrincipal",
			Reason: `aclPrincipal = "alice": is not a Kafka principal of the form <type>:<name>; write it as <type>:<name>, ` +
				`e.g. "User:alice" ("User:*" for every user)`}}},
		{"bare star principal", writeAcl.with(func(a *aclSpec) { a.principal = "*" }), []p.CheckFailure{{Property: "aclPrincipal",
			Reason: `aclPrincipal = "*": is not a Kafka principal of the form <type>:<name>; write "User:*" for every user`}}},
		{"host name", writeAcl.with(func(a *aclSpec) { a.host = "client.example" }), []p.CheckFailure{{Property: "aclHost",
			Reason: `aclHost = "client.example": is neither "*" nor an IP address: Kafka compares it with the client's IP ` +
				`address, so a host name never matches; use "*" for any host, or one client IP address such as "10.0.0.7"`}}},
		{"star with prefixed", writeAcl.with(func(a *aclSpec) { a.name, a.pattern = "*", "Prefixed" }), []p.CheckFailure{{Property: "aclResourceName",
			Reason: `aclResourceName = "*": holds "*" with resourcePatternTypeFilter = "Prefixed": Kafka treats "*" as a ` +
				`wildcard only in a Literal name; as a prefix it is a plain character, so this ACL would match only names ` +
				`that start with it; for every resource use aclResourceName = "*" with resourcePatternTypeFilter = "Literal"; ` +
				`for a prefix write the prefix without "*"`}}},
		{"cluster under another name", aclSpec{"my-cluster", "Cluster", "User:ops", "*", "Alter", "Allow", ""}, []p.CheckFailure{{Property: "aclResourceName",
			Reason: `aclResourceName = "my-cluster": is not the cluster resource's name: Kafka's cluster resource is always ` +
				`named "kafka-cluster", so this ACL would match nothing; set aclResourceName = "kafka-cluster" for ` +
				`aclResourceType = "Cluster"`}}},
		{"empty resource name", writeAcl.with(func(a *aclSpec) { a.name = "" }), []p.CheckFailure{{Property: "aclResourceName",
			Reason: `aclResourceName = "": is empty (Kafka refuses an empty resource name); name the topic, group or ` +
				`transactional ID, or "*" for all of them`}}},
		{"illegal literal topic name", writeAcl.with(func(a *aclSpec) { a.name = "orders/v1" }), []p.CheckFailure{{Property: "aclResourceName",
			Reason: `aclResourceName = "orders/v1": is no legal topic name (has characters outside [a-zA-Z0-9._-]), so this ` +
				`ACL would match no topic; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..', or "*" for every topic`}}},
		{"unknown principal is checked later", writeAcl.with(func(a *aclSpec) { a.principal = "alice" }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inputs := tt.acl.props()
			if tt.name == "unknown principal is checked later" {
				inputs = inputs.Set("aclPrincipal", property.New(property.Computed))
			}
			resp, err := s.Check(p.CheckRequest{Urn: resURN(AclToken, "a"), Inputs: inputs})
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.Failures)
		})
	}
}

// TestAclCheckNormalizes proves that any spelling Kafka treats alike is
// recorded in one spelling, and the pattern defaults to Literal as in
// pulumi-kafka: the program can write "WRITE" and never see a diff.
func TestAclCheckNormalizes(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	in := checked(t, s, resURN(AclToken, "a"),
		aclSpec{"tx", "TRANSACTIONAL_ID", "User:a", "*", "write", "ALLOW", ""}.props())
	assert.Equal(t, aclSpec{"tx", "TransactionalID", "User:a", "*", "Write", "Allow", "Literal"}.props(), in)
}

// TestDiffAcl: every field change replaces (ACLs have no update), the new
// binding is created before the old one is deleted, and spellings Kafka
// treats alike are no change.
func TestDiffAcl(t *testing.T) {
	base := aclArgs(writeAcl)
	tests := []struct {
		name string
		news aclSpec
		want map[string]p.DiffKind
	}{
		{"no change", writeAcl, map[string]p.DiffKind{}},
		{"case and underscores only", aclSpec{"orders", "TOPIC", "User:alice", "*", "WRITE", "allow", "LITERAL"}, map[string]p.DiffKind{}},
		{"pattern left out is Literal", writeAcl.with(func(a *aclSpec) { a.pattern = "" }), map[string]p.DiffKind{}},
		{"resource name", writeAcl.with(func(a *aclSpec) { a.name = "payments" }), map[string]p.DiffKind{"aclResourceName": p.UpdateReplace}},
		{"resource type", writeAcl.with(func(a *aclSpec) { a.typ, a.op = "Group", "Read" }),
			map[string]p.DiffKind{"aclResourceType": p.UpdateReplace, "aclOperation": p.UpdateReplace}},
		{"principal (case matters)", writeAcl.with(func(a *aclSpec) { a.principal = "User:Alice" }), map[string]p.DiffKind{"aclPrincipal": p.UpdateReplace}},
		{"host", writeAcl.with(func(a *aclSpec) { a.host = "10.0.0.7" }), map[string]p.DiffKind{"aclHost": p.UpdateReplace}},
		{"operation", writeAcl.with(func(a *aclSpec) { a.op = "Read" }), map[string]p.DiffKind{"aclOperation": p.UpdateReplace}},
		{"permission", writeAcl.with(func(a *aclSpec) { a.perm = "Deny" }), map[string]p.DiffKind{"aclPermissionType": p.UpdateReplace}},
		{"pattern", writeAcl.with(func(a *aclSpec) { a.pattern = "Prefixed" }), map[string]p.DiffKind{"resourcePatternTypeFilter": p.UpdateReplace}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diffAcl(base, aclArgs(tt.news))
			kinds := map[string]p.DiffKind{}
			for k, v := range got.DetailedDiff {
				kinds[k] = v.Kind
			}
			assert.Equal(t, tt.want, kinds)
			assert.Equal(t, len(tt.want) > 0, got.HasChanges)
			assert.False(t, got.DeleteBeforeReplace, "the new binding differs, so it is created before the old one is deleted")
		})
	}
}

func aclArgs(a aclSpec) AclArgs {
	args := AclArgs{AclResourceName: a.name, AclResourceType: a.typ, AclPrincipal: a.principal, AclHost: a.host,
		AclOperation: a.op, AclPermissionType: a.perm}
	if a.pattern != "" {
		args.ResourcePatternTypeFilter = ptr(a.pattern)
	}
	return args
}

// TestParseAclID reads pulumi-kafka's ID format in any spelling.
func TestParseAclID(t *testing.T) {
	got, err := parseAclID("User:alice|*|WRITE|allow|topic|orders|PREFIXED")
	require.NoError(t, err)
	assert.Equal(t, aclArgs(aclSpec{"orders", "Topic", "User:alice", "*", "Write", "Allow", "Prefixed"}), got)
	assert.Equal(t, "User:alice|*|Write|Allow|Topic|orders|Prefixed", aclID(got))

	_, err = parseAclID("User:alice|*|Write|Allow|Topic|orders")
	require.EqualError(t, err, `acl ID "User:alice|*|Write|Allow|Topic|orders" has 6 |-separated parts, not 7: write it `+
		`as "aclPrincipal|aclHost|aclOperation|aclPermissionType|aclResourceType|aclResourceName|resourcePatternTypeFilter", `+
		`e.g. 'User:alice|*|Write|Allow|Topic|orders|Literal'`)
	_, err = parseAclID("alice|*|Write|Allow|Topic|orders|Literal")
	require.ErrorContains(t, err, `aclPrincipal = "alice": is not a Kafka principal of the form <type>:<name>`)
}

// TestAclLifecycle runs the request flow against kfake: create, read back
// with no diff, a second create of the same binding refused, import by ID,
// delete, and read of a deleted ACL.
func TestAclLifecycle(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	urn := resURN(AclToken, "w")
	id, in, state := upResource(t, s, urn, aclSpec{"orders", "topic", "User:alice", "*", "WRITE", "Allow", ""}.props())
	assert.Equal(t, "User:alice|*|Write|Allow|Topic|orders|Literal", id)
	assert.Equal(t, in, state)
	assert.Equal(t, []string{"User:alice * Topic orders Literal Write Allow"}, describeAllAcls(t, c))

	read, err := s.Read(p.ReadRequest{ID: id, Urn: urn, Properties: state, Inputs: in})
	require.NoError(t, err)
	assert.Equal(t, id, read.ID)
	assert.Equal(t, in, read.Inputs)
	requireNoDiff(t, s, urn, read.ID, read.Properties, in)

	_, err = s.Create(p.CreateRequest{Urn: resURN(AclToken, "twin"), Properties: in})
	require.ErrorContains(t, err, "acl User:alice|*|Write|Allow|Topic|orders|Literal already exists in Kafka: adopt it with "+
		"pulumi import umbrellakafka:index:Acl <resource name> 'User:alice|*|Write|Allow|Topic|orders|Literal'")

	imported := importByID(t, s, urn, "User:alice|*|write|ALLOW|TOPIC|orders|literal")
	assert.Equal(t, id, imported.ID)
	assert.Equal(t, in, imported.Inputs)

	require.NoError(t, s.Delete(p.DeleteRequest{ID: id, Urn: urn, Properties: state}))
	assert.Empty(t, describeAllAcls(t, c))
	gone, err := s.Read(p.ReadRequest{ID: id, Urn: urn, Properties: state, Inputs: in})
	require.NoError(t, err)
	assert.Empty(t, gone.ID, "a deleted ACL reads as gone")
	require.NoError(t, s.Delete(p.DeleteRequest{ID: id, Urn: urn, Properties: state}), "deleting a gone ACL is no error")
}

// TestAclDeleteLeavesOtherBindings guards the exact filter: deleting a
// Literal WRITE ACL keeps the Prefixed and the READ ACL of the same principal.
func TestAclDeleteLeavesOtherBindings(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	id, _, state := upResource(t, s, resURN(AclToken, "w"), writeAcl.props())
	upResource(t, s, resURN(AclToken, "p"), writeAcl.with(func(a *aclSpec) { a.pattern = "Prefixed" }).props())
	upResource(t, s, resURN(AclToken, "r"), writeAcl.with(func(a *aclSpec) { a.op = "Read" }).props())
	require.NoError(t, s.Delete(p.DeleteRequest{ID: id, Urn: resURN(AclToken, "w"), Properties: state}))
	assert.Equal(t, []string{"User:alice * Topic orders Literal Read Allow", "User:alice * Topic orders Prefixed Write Allow"}, describeAllAcls(t, c))
}

// describeAllAcls lists every ACL of the cluster as "principal host type
// name pattern operation permission", sorted.
func describeAllAcls(t testing.TB, c *testCluster) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeAny
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctx, c.raw)
	require.NoError(t, err)
	require.NoError(t, kerr.ErrorForCode(resp.ErrorCode))
	var out []string
	name := func(values []aclEnum, code int8) string {
		v, ok := enumByCode(values, code)
		require.True(t, ok, "unknown code %d", code)
		return v.Name
	}
	for _, r := range resp.Resources {
		for _, a := range r.ACLs {
			out = append(out, strings.Join([]string{a.Principal, a.Host, name(aclResourceTypes, int8(r.ResourceType)),
				r.ResourceName, name(aclPatternTypes, int8(r.ResourcePatternType)), name(aclOperations, int8(a.Operation)),
				name(aclPermissionTypes, int8(a.PermissionType))}, " "))
		}
	}
	slices.Sort(out)
	return out
}

// TestAclAndQuotaPreviewContactNoBroker: a preview of a new Acl or Quota
// answers from the inputs alone (the provider's only address is closed).
func TestAclAndQuotaPreviewContactNoBroker(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	in := checked(t, s, resURN(AclToken, "a"), writeAcl.props())
	resp, err := s.Create(p.CreateRequest{Urn: resURN(AclToken, "a"), Properties: in, DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, "User:alice|*|Write|Allow|Topic|orders|Literal", resp.ID)
	assert.Equal(t, in, resp.Properties)

	qIn := checked(t, s, resURN(QuotaToken, "q"), quotaProps(nil, "user", map[string]string{"producer_byte_rate": "1"}))
	qResp, err := s.Create(p.CreateRequest{Urn: resURN(QuotaToken, "q"), Properties: qIn, DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, "|user", qResp.ID)
}
