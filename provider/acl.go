package provider

import (
	"context"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// AclToken is the Pulumi type token of the Acl resource.
const AclToken = "umbrellakafka:index:Acl"

// Acl is the controller of umbrellakafka:index:Acl, one Kafka ACL binding:
// a principal allowed or denied one operation on a resource pattern from a
// host. Its properties and import ID are pulumi-kafka's kafka.Acl's.
//
// Kafka cannot change an ACL, so every change replaces it. The engine creates
// the new binding before it deletes the old one (the two always differ, since
// any change makes a different binding), so the principal never loses access
// in between.
type Acl struct{}

// AclArgs are the inputs of an Acl, named as in pulumi-kafka.
type AclArgs struct {
	// AclResourceName is the topic, group, transactional ID, ... name, or prefix.
	AclResourceName string `pulumi:"aclResourceName"`
	// AclResourceType is Topic, Group, Cluster, TransactionalID, DelegationToken or User.
	AclResourceType string `pulumi:"aclResourceType"`
	// AclPrincipal is the principal, e.g. User:alice.
	AclPrincipal string `pulumi:"aclPrincipal"`
	// AclHost is "*" or the client IP address the ACL applies to.
	AclHost string `pulumi:"aclHost"`
	// AclOperation is the operation allowed or denied.
	AclOperation string `pulumi:"aclOperation"`
	// AclPermissionType is Allow or Deny.
	AclPermissionType string `pulumi:"aclPermissionType"`
	// ResourcePatternTypeFilter is Literal (the default) or Prefixed.
	ResourcePatternTypeFilter *string `pulumi:"resourcePatternTypeFilter,optional"`
}

// AclState is the recorded state of an Acl: its inputs in canonical spelling.
type AclState struct {
	AclArgs
}

// Compile-time checks that Acl implements every lifecycle step it claims.
var (
	_ infer.CustomResource[AclArgs, AclState] = Acl{}
	_ infer.CustomCheck[AclArgs]              = Acl{}
	_ infer.CustomDiff[AclArgs, AclState]     = Acl{}
	_ infer.CustomRead[AclArgs, AclState]     = Acl{}
	_ infer.CustomDelete[AclState]            = Acl{}
	_ infer.Annotated                         = (*Acl)(nil)
	_ infer.Annotated                         = (*AclArgs)(nil)
)

// aclIDFormat is pulumi-kafka's Acl ID, used for import.
const aclIDFormat = "aclPrincipal|aclHost|aclOperation|aclPermissionType|aclResourceType|aclResourceName|resourcePatternTypeFilter"

// Annotate sets the type token and documents the resource.
func (a *Acl) Annotate(an infer.Annotator) {
	an.SetToken("index", "Acl")
	an.Describe(a, "A Kafka ACL binding (the brokers need an authorizer, e.g. StandardAuthorizer). Same properties "+
		"and import ID as pulumi-kafka's kafka.Acl. Kafka cannot change an ACL, so every change replaces it: the new "+
		"binding is created before the old one is deleted. Import with `pulumi import umbrellakafka:index:Acl <resource name> "+
		"'"+aclIDFormat+"'`, e.g. 'User:alice|*|Write|Allow|Topic|orders|Literal'.")
}

// Annotate documents the Acl fields for the schema.
func (a *AclArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.AclResourceName, "Name of the resource, or its prefix when resourcePatternTypeFilter is Prefixed: a "+
		"topic, group or transactional ID, \"*\" (Literal only) for all of them, \"kafka-cluster\" for the cluster.")
	an.Describe(&a.AclResourceType, "Resource type: Topic, Group, Cluster, TransactionalID, DelegationToken or User "+
		"(case does not matter; recorded in this spelling).")
	an.Describe(&a.AclPrincipal, "Principal the ACL applies to, <type>:<name>, e.g. \"User:alice\" (a SCRAM user, or "+
		"the mapped name of an mTLS certificate); \"User:*\" for every user.")
	an.Describe(&a.AclHost, "Client IP address the ACL applies to, or \"*\" for any host.")
	an.Describe(&a.AclOperation, "Operation allowed or denied: All, Read, Write, Create, Delete, Alter, Describe, "+
		"ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens or TwoPhaseCommit; "+
		"it must be one Kafka checks on the resource type (case does not matter).")
	an.Describe(&a.AclPermissionType, "Allow or Deny (a Deny wins over any Allow).")
	an.Describe(&a.ResourcePatternTypeFilter, "Literal (the default: the exact name, or \"*\" for all) or Prefixed "+
		"(every name starting with aclResourceName).")
}

// Check validates the inputs and rewrites the enum fields to their canonical
// spelling, so no spelling of the same ACL ever shows as a change.
func (Acl) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[AclArgs], error) {
	args, failures, err := infer.DefaultCheck[AclArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[AclArgs]{Inputs: args, Failures: failures}, err
	}
	known := func(key string) bool {
		v, ok := req.NewInputs.GetOk(key)
		return !ok || !v.IsComputed()
	}
	failures = checkAcl(args, known)
	if len(failures) == 0 {
		args = normalizeAcl(args)
	}
	return infer.CheckResponse[AclArgs]{Inputs: args, Failures: failures}, nil
}

// Diff marks every changed field as a replacement: Kafka has no way to
// change an ACL in place.
func (Acl) Diff(_ context.Context, req infer.DiffRequest[AclArgs, AclState]) (infer.DiffResponse, error) {
	return diffAcl(req.State.AclArgs, req.Inputs), nil
}

// diffAcl is the pure core of Diff. Both sides are compared in canonical
// spelling, so a state written by another spelling shows no change.
func diffAcl(olds, news AclArgs) p.DiffResponse {
	o, n := normalizeAcl(olds), normalizeAcl(news)
	fields := []struct {
		name     string
		old, new string
	}{
		{"aclResourceName", o.AclResourceName, n.AclResourceName},
		{"aclResourceType", o.AclResourceType, n.AclResourceType},
		{"aclPrincipal", o.AclPrincipal, n.AclPrincipal},
		{"aclHost", o.AclHost, n.AclHost},
		{"aclOperation", o.AclOperation, n.AclOperation},
		{"aclPermissionType", o.AclPermissionType, n.AclPermissionType},
		{"resourcePatternTypeFilter", *o.ResourcePatternTypeFilter, *n.ResourcePatternTypeFilter},
	}
	d := map[string]p.PropertyDiff{}
	for _, f := range fields {
		if f.old != f.new {
			d[f.name] = p.PropertyDiff{Kind: p.UpdateReplace}
		}
	}
	// DeleteBeforeReplace stays false: the new binding differs from the old
	// one, so it is created first and access never lapses.
	return p.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d}
}

// aclID is the resource ID of an ACL in pulumi-kafka's format.
func aclID(a AclArgs) string {
	a = normalizeAcl(a)
	return strings.Join([]string{a.AclPrincipal, a.AclHost, a.AclOperation, a.AclPermissionType,
		a.AclResourceType, a.AclResourceName, *a.ResourcePatternTypeFilter}, "|")
}

// parseAclID reads an ID in pulumi-kafka's format (any spelling of the enum
// values) and checks it like inputs.
func parseAclID(id string) (AclArgs, error) {
	parts := strings.Split(id, "|")
	if len(parts) != 7 {
		return AclArgs{}, fmt.Errorf("acl ID %q has %d |-separated parts, not 7: write it as %q, e.g. "+
			"'User:alice|*|Write|Allow|Topic|orders|Literal'", id, len(parts), aclIDFormat)
	}
	a := AclArgs{AclPrincipal: parts[0], AclHost: parts[1], AclOperation: parts[2], AclPermissionType: parts[3],
		AclResourceType: parts[4], AclResourceName: parts[5], ResourcePatternTypeFilter: &parts[6]}
	if failures := checkAcl(a, func(string) bool { return true }); len(failures) > 0 {
		reasons := make([]string, len(failures))
		for i, f := range failures {
			reasons[i] = f.Reason
		}
		return AclArgs{}, fmt.Errorf("acl ID %q (%s): %s", id, aclIDFormat, strings.Join(reasons, "; "))
	}
	return normalizeAcl(a), nil
}

// Create creates the ACL and returns once every broker shows it. It refuses
// an ACL that already exists: that one belongs to someone else (or to the
// resource this one replaces, with `pulumi up --replace`), and deleting
// either would then remove both.
func (Acl) Create(ctx context.Context, req infer.CreateRequest[AclArgs]) (infer.CreateResponse[AclState], error) {
	in := normalizeAcl(req.Inputs)
	id := aclID(in)
	resp := infer.CreateResponse[AclState]{ID: id, Output: AclState{in}}
	if req.DryRun {
		return resp, nil
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.CreateResponse[AclState]{}, err
	}
	exists, err := cl.ACLExists(ctx, cl.AnyBroker(), aclBinding(in))
	if err != nil {
		return infer.CreateResponse[AclState]{}, err
	}
	if exists {
		return infer.CreateResponse[AclState]{}, fmt.Errorf("acl %s already exists in Kafka: adopt it with "+
			"pulumi import %s <resource name> '%s' (or remove the other resource that declares it; for "+
			"`pulumi up --replace` of an unchanged ACL set the deleteBeforeReplace resource option)", id, AclToken, id)
	}
	// Kafka's CreateAcls is idempotent, so the client's retry after an answer
	// lost to a broken connection succeeds even if the first attempt did.
	if err := cl.CreateACL(ctx, aclBinding(in)); err != nil {
		return infer.CreateResponse[AclState]{}, err
	}
	if err := cl.WaitACL(ctx, aclBinding(in), true); err != nil {
		return resp, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return resp, nil
}

// Read looks the binding up with an exact filter. A missing ACL returns an
// empty ID, which tells Pulumi it is gone; since a broker that lags behind
// the controller does not show an ACL created a moment ago, that takes every
// broker agreeing. With no state (import), the ID in
// pulumi-kafka's format gives the binding.
func (Acl) Read(ctx context.Context, req infer.ReadRequest[AclArgs, AclState]) (infer.ReadResponse[AclArgs, AclState], error) {
	want := req.State.AclArgs
	if want.AclPrincipal == "" {
		parsed, err := parseAclID(req.ID)
		if err != nil {
			return infer.ReadResponse[AclArgs, AclState]{}, err
		}
		want = parsed
	}
	want = normalizeAcl(want)
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.ReadResponse[AclArgs, AclState]{}, err
	}
	exists, err := cl.ACLExists(ctx, cl.AnyBroker(), aclBinding(want))
	if err == nil && !exists {
		exists, err = cl.ACLOnAnyBroker(ctx, aclBinding(want))
	}
	if err != nil || !exists {
		return infer.ReadResponse[AclArgs, AclState]{}, err
	}
	return infer.ReadResponse[AclArgs, AclState]{ID: aclID(want), Inputs: want, State: AclState{want}}, nil
}

// Delete deletes exactly this binding and waits until no broker shows it. An
// ACL already gone is no error.
func (Acl) Delete(ctx context.Context, req infer.DeleteRequest[AclState]) (infer.DeleteResponse, error) {
	a := normalizeAcl(req.State.AclArgs)
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	if err := cl.DeleteACL(ctx, aclBinding(a)); err != nil {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, cl.WaitACL(ctx, aclBinding(a), false)
}
