package provider

import (
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"
)

// Helpers shared by the Acl and Quota tests, with kfake and with real Kafka.
// kfake stores ACLs and client quotas (CreateAcls, DescribeAcls, DeleteAcls,
// AlterClientQuotas, DescribeClientQuotas) but enforces neither and checks
// no values, so the kfake tests prove the request flow only; authorization,
// throttling and Kafka's validation are proven in acl_quota_realkafka_test.go.

func resURN(token, name string) presource.URN {
	return presource.NewURN("test", "umbrella", "", tokens.Type(token), name)
}

// aclSpec is an Acl's inputs in test shorthand.
type aclSpec struct {
	name, typ, principal, host, op, perm, pattern string
}

// props builds the Acl inputs; an empty pattern leaves resourcePatternTypeFilter out.
func (a aclSpec) props() property.Map {
	m := map[string]property.Value{
		"aclResourceName":   property.New(a.name),
		"aclResourceType":   property.New(a.typ),
		"aclPrincipal":      property.New(a.principal),
		"aclHost":           property.New(a.host),
		"aclOperation":      property.New(a.op),
		"aclPermissionType": property.New(a.perm),
	}
	if a.pattern != "" {
		m["resourcePatternTypeFilter"] = property.New(a.pattern)
	}
	return property.NewMap(m)
}

// quotaProps builds Quota inputs; a nil name leaves entityName out.
func quotaProps(name *string, typ string, cfg map[string]string) property.Map {
	m := map[string]property.Value{"entityType": property.New(typ)}
	if name != nil {
		m["entityName"] = property.New(*name)
	}
	if cfg != nil {
		c := map[string]property.Value{}
		for k, v := range cfg {
			c[k] = property.New(v)
		}
		m["config"] = property.New(c)
	}
	return property.NewMap(m)
}

// checked runs Check and requires no failures, returning the checked inputs.
func checked(t testing.TB, s *testServer, urn presource.URN, inputs property.Map) property.Map {
	t.Helper()
	resp, err := s.Check(p.CheckRequest{Urn: urn, Inputs: inputs})
	require.NoError(t, err)
	require.Empty(t, resp.Failures)
	return resp.Inputs
}

// upResource runs Check then Create like `pulumi up` and returns the ID,
// the checked inputs and the state.
func upResource(t testing.TB, s *testServer, urn presource.URN, inputs property.Map) (id string, in, state property.Map) {
	t.Helper()
	in = checked(t, s, urn, inputs)
	resp, err := s.Create(p.CreateRequest{Urn: urn, Properties: in})
	require.NoError(t, err)
	require.NotEmpty(t, resp.ID)
	return resp.ID, in, resp.Properties
}

// requireNoDiff asserts that the engine would show no change between a
// recorded state and inputs.
func requireNoDiff(t testing.TB, s *testServer, urn presource.URN, id string, state, inputs property.Map) {
	t.Helper()
	d, err := s.Diff(p.DiffRequest{ID: id, Urn: urn, State: state, Inputs: inputs})
	require.NoError(t, err)
	require.False(t, d.HasChanges, "diff: %v", d.DetailedDiff)
}

// importByID reads a resource with its ID alone, as `pulumi import` does.
func importByID(t testing.TB, s *testServer, urn presource.URN, id string) p.ReadResponse {
	t.Helper()
	resp, err := s.Read(p.ReadRequest{ID: id, Urn: urn})
	require.NoError(t, err)
	return resp
}
