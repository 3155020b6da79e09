package kafkaadmin

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
	hint := cmp.Or(securityHint(what, op, err), RequestHint(err))
	if hint != "" {
		hint = ": " + hint
	}
	if brokerMsg != "" {
		return fmt.Errorf("%s: %w (%s: %s)%s", what, err, op, brokerMsg, hint)
	}
	return fmt.Errorf("%s: %w (%s)%s", what, err, op, hint)
}

// ACL is one binding as Kafka's wire numbers carry it. Name identifies it in
// errors (the provider uses its resource ID); the enum values are Kafka's
// codes, so a TwoPhaseCommit ACL, which kadm cannot express, works too.
type ACL struct {
	Name         string
	ResourceType kmsg.ACLResourceType
	ResourceName string
	PatternType  kmsg.ACLResourcePatternType
	Principal    string
	Host         string
	Operation    kmsg.ACLOperation
	Permission   kmsg.ACLPermissionType
}

// what names the ACL in errors.
func (a ACL) what() string { return "acl " + a.Name }

// ACLExists asks r whether exactly this binding exists. Kafka's filter
// compares principal, host and resource name as exact text and the enums as
// exact values (a Literal filter does not match a Prefixed ACL, a Write
// filter does not match All), so any answer is the binding itself.
func (k *Client) ACLExists(ctx context.Context, r kmsg.Requestor, a ACL) (bool, error) {
	resType, pattern, op, perm := a.ResourceType, a.PatternType, a.Operation, a.Permission
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = resType
	req.ResourceName = kmsg.StringPtr(a.ResourceName)
	req.ResourcePatternType = pattern
	req.Principal = kmsg.StringPtr(a.Principal)
	req.Host = kmsg.StringPtr(a.Host)
	req.Operation = op
	req.PermissionType = perm
	rctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, r)
	if err != nil {
		return false, securityError(a.what(), "DescribeAcls", err, "")
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return false, securityError(a.what(), "DescribeAcls", err, deref(resp.ErrorMessage))
	}
	for _, res := range resp.Resources {
		if len(res.ACLs) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// CreateACL creates one binding.
func (k *Client) CreateACL(ctx context.Context, a ACL) error {
	resType, pattern, op, perm := a.ResourceType, a.PatternType, a.Operation, a.Permission
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType = resType
	c.ResourceName = a.ResourceName
	c.ResourcePatternType = pattern
	c.Principal = a.Principal
	c.Host = a.Host
	c.Operation = op
	c.PermissionType = perm
	req := kmsg.NewPtrCreateACLsRequest()
	req.Creations = append(req.Creations, c)
	rctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, k.raw)
	if err != nil {
		return securityError(a.what(), "CreateAcls", err, "")
	}
	if len(resp.Results) != 1 {
		return fmt.Errorf("%s: CreateAcls answered %d results for one ACL: retry", a.what(), len(resp.Results))
	}
	if err := kerr.ErrorForCode(resp.Results[0].ErrorCode); err != nil {
		return securityError(a.what(), "CreateAcls", err, deref(resp.Results[0].ErrorMessage))
	}
	return nil
}

// DeleteACL deletes exactly this binding (see aclExists for why the filter
// matches no other).
func (k *Client) DeleteACL(ctx context.Context, a ACL) error {
	resType, pattern, op, perm := a.ResourceType, a.PatternType, a.Operation, a.Permission
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType = resType
	f.ResourceName = kmsg.StringPtr(a.ResourceName)
	f.ResourcePatternType = pattern
	f.Principal = kmsg.StringPtr(a.Principal)
	f.Host = kmsg.StringPtr(a.Host)
	f.Operation = op
	f.PermissionType = perm
	req := kmsg.NewPtrDeleteACLsRequest()
	req.Filters = append(req.Filters, f)
	rctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, k.raw)
	if err != nil {
		return securityError(a.what(), "DeleteAcls", err, "")
	}
	for _, r := range resp.Results {
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			return securityError(a.what(), "DeleteAcls", err, deref(r.ErrorMessage))
		}
		for _, m := range r.MatchingACLs {
			if err := kerr.ErrorForCode(m.ErrorCode); err != nil {
				return securityError(a.what(), "DeleteAcls", err, deref(m.ErrorMessage))
			}
		}
	}
	return nil
}

// ACLOnAnyBroker asks every broker alone whether the binding exists and
// reports whether any shows it.
func (k *Client) ACLOnAnyBroker(ctx context.Context, a ACL) (bool, error) {
	ids, err := k.BrokerIDs(ctx)
	if err != nil {
		return false, securityError(a.what(), "Metadata", err, "")
	}
	for _, id := range ids {
		exists, err := k.ACLExists(ctx, k.Broker(id), a)
		if err != nil || exists {
			return exists, err
		}
	}
	return false, nil
}

// WaitACL waits until every broker shows the binding (present) or none does
// (!present). Brokers apply the controller's ACL records each at its own
// pace, and each authorizes with its own copy: until all show the change, a
// client may still be let in, or kept out, by one of them.
func (k *Client) WaitACL(ctx context.Context, a ACL, present bool) error {
	what := "the new ACL"
	if !present {
		what = "the ACL gone"
	}
	return k.waitEveryBrokerShows(ctx, a.what(), what, func(ctx context.Context, r kmsg.Requestor) (bool, error) {
		exists, err := k.ACLExists(ctx, r, a)
		return exists == present, err
	})
}

// waitEveryBrokerShows polls every broker alone until done is true for each,
// up to the request timeout. A Kafka error code ends the wait at once; a
// Broker that gives no answer is asked again.
func (k *Client) waitEveryBrokerShows(ctx context.Context, subject, what string,
	done func(context.Context, kmsg.Requestor) (bool, error),
) error {
	var lag string
	err := Poll(ctx, k.timeout, fmt.Sprintf("%s: waiting until every broker shows %s", subject, what),
		func(ctx context.Context) (bool, error) {
			ids, err := k.BrokerIDs(ctx)
			if err != nil {
				lag = err.Error()
				return false, nil
			}
			for _, id := range ids {
				ok, err := done(ctx, k.Broker(id))
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
