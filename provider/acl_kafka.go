package provider

import (
	"cmp"
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ACL and quota requests go through kmsg rather than kadm: every field of
// the binding or entity is set explicitly, with no defaults filled in, so
// that a filter matches exactly one binding and a TwoPhaseCommit ACL, which
// kadm cannot express, works too.

// securityError wraps a Kafka error for an ACL or quota so that the message
// starts with what it is about and Kafka's error name, then the broker's
// message and a hint (errors.go) for codes whose fix is not obvious.
func securityError(what, op string, err error, brokerMsg string) error {
	hint := cmp.Or(securityHint(what, op, err), requestHint(err))
	if hint != "" {
		hint = ": " + hint
	}
	if brokerMsg != "" {
		return fmt.Errorf("%s: %w (%s: %s)%s", what, err, op, brokerMsg, hint)
	}
	return fmt.Errorf("%s: %w (%s)%s", what, err, op, hint)
}

// aclWhat names an ACL in errors by its ID.
func aclWhat(a AclArgs) string { return "acl " + aclID(a) }

// aclCodes are the Kafka numbers of a binding in canonical spelling.
func aclCodes(a AclArgs) (resType kmsg.ACLResourceType, pattern kmsg.ACLResourcePatternType, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) {
	a = normalizeAcl(a)
	t, _ := lookupEnum(aclResourceTypes, a.AclResourceType)
	pt, _ := lookupEnum(aclPatternTypes, *a.ResourcePatternTypeFilter)
	o, _ := lookupEnum(aclOperations, a.AclOperation)
	pm, _ := lookupEnum(aclPermissionTypes, a.AclPermissionType)
	return kmsg.ACLResourceType(t.Code), kmsg.ACLResourcePatternType(pt.Code), kmsg.ACLOperation(o.Code), kmsg.ACLPermissionType(pm.Code)
}

// aclExists asks r whether exactly this binding exists. Kafka's filter
// compares principal, host and resource name as exact text and the enums as
// exact values (a Literal filter does not match a Prefixed ACL, a Write
// filter does not match All), so any answer is the binding itself.
func (k *kafkaClient) aclExists(ctx context.Context, r kmsg.Requestor, a AclArgs) (bool, error) {
	resType, pattern, op, perm := aclCodes(a)
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = resType
	req.ResourceName = kmsg.StringPtr(a.AclResourceName)
	req.ResourcePatternType = pattern
	req.Principal = kmsg.StringPtr(a.AclPrincipal)
	req.Host = kmsg.StringPtr(a.AclHost)
	req.Operation = op
	req.PermissionType = perm
	rctx, cancel := k.withTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, r)
	if err != nil {
		return false, securityError(aclWhat(a), "DescribeAcls", err, "")
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return false, securityError(aclWhat(a), "DescribeAcls", err, deref(resp.ErrorMessage))
	}
	for _, res := range resp.Resources {
		if len(res.ACLs) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// createAcl creates one binding.
func (k *kafkaClient) createAcl(ctx context.Context, a AclArgs) error {
	resType, pattern, op, perm := aclCodes(a)
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType = resType
	c.ResourceName = a.AclResourceName
	c.ResourcePatternType = pattern
	c.Principal = a.AclPrincipal
	c.Host = a.AclHost
	c.Operation = op
	c.PermissionType = perm
	req := kmsg.NewPtrCreateACLsRequest()
	req.Creations = append(req.Creations, c)
	rctx, cancel := k.withTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, k.raw)
	if err != nil {
		return securityError(aclWhat(a), "CreateAcls", err, "")
	}
	if len(resp.Results) != 1 {
		return fmt.Errorf("%s: CreateAcls answered %d results for one ACL: retry", aclWhat(a), len(resp.Results))
	}
	if err := kerr.ErrorForCode(resp.Results[0].ErrorCode); err != nil {
		return securityError(aclWhat(a), "CreateAcls", err, deref(resp.Results[0].ErrorMessage))
	}
	return nil
}

// deleteAcl deletes exactly this binding (see aclExists for why the filter
// matches no other).
func (k *kafkaClient) deleteAcl(ctx context.Context, a AclArgs) error {
	resType, pattern, op, perm := aclCodes(a)
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType = resType
	f.ResourceName = kmsg.StringPtr(a.AclResourceName)
	f.ResourcePatternType = pattern
	f.Principal = kmsg.StringPtr(a.AclPrincipal)
	f.Host = kmsg.StringPtr(a.AclHost)
	f.Operation = op
	f.PermissionType = perm
	req := kmsg.NewPtrDeleteACLsRequest()
	req.Filters = append(req.Filters, f)
	rctx, cancel := k.withTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, k.raw)
	if err != nil {
		return securityError(aclWhat(a), "DeleteAcls", err, "")
	}
	for _, r := range resp.Results {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return securityError(aclWhat(a), "DeleteAcls", err, deref(r.ErrorMessage))
		}
		for _, m := range r.MatchingACLs {
			if err := kerr.ErrorForCode(m.ErrorCode); err != nil {
				return securityError(aclWhat(a), "DeleteAcls", err, deref(m.ErrorMessage))
			}
		}
	}
	return nil
}

// aclOnAnyBroker asks every broker alone whether the binding exists and
// reports whether any shows it.
func (k *kafkaClient) aclOnAnyBroker(ctx context.Context, a AclArgs) (bool, error) {
	ids, err := k.brokerIDs(ctx)
	if err != nil {
		return false, securityError(aclWhat(a), "Metadata", err, "")
	}
	for _, id := range ids {
		exists, err := k.aclExists(ctx, k.broker(id), a)
		if err != nil || exists {
			return exists, err
		}
	}
	return false, nil
}

// waitAcl waits until every broker shows the binding (present) or none does
// (!present). Brokers apply the controller's ACL records each at its own
// pace, and each authorizes with its own copy: until all show the change, a
// client may still be let in, or kept out, by one of them.
func (k *kafkaClient) waitAcl(ctx context.Context, a AclArgs, present bool) error {
	what := "the new ACL"
	if !present {
		what = "the ACL gone"
	}
	return k.waitEveryBrokerShows(ctx, aclWhat(a), what, func(ctx context.Context, r kmsg.Requestor) (bool, error) {
		exists, err := k.aclExists(ctx, r, a)
		return exists == present, err
	})
}

// waitEveryBrokerShows polls every broker alone until done is true for each,
// up to the request timeout. A Kafka error code ends the wait at once; a
// broker that gives no answer is asked again.
func (k *kafkaClient) waitEveryBrokerShows(ctx context.Context, subject, what string,
	done func(context.Context, kmsg.Requestor) (bool, error),
) error {
	var lag string
	err := poll(ctx, k.timeout, fmt.Sprintf("%s: waiting until every broker shows %s", subject, what),
		func(ctx context.Context) (bool, error) {
			ids, err := k.brokerIDs(ctx)
			if err != nil {
				lag = err.Error()
				return false, nil
			}
			for _, id := range ids {
				ok, err := done(ctx, k.broker(id))
				switch {
				case err != nil && isKafkaError(err):
					return false, err
				case err != nil:
					lag = fmt.Sprintf("broker %d: %v", id, err)
					return false, nil
				case !ok:
					lag = fmt.Sprintf("broker %d does not show it yet", id)
					return false, nil
				}
			}
			return true, nil
		})
	if err != nil && lag != "" && !isKafkaError(err) {
		return fmt.Errorf("%w; last, %s", err, lag)
	}
	return err
}
