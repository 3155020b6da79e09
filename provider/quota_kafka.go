package provider

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeQuota asks r for the quota values of exactly this entity: strict,
// so an entity combining it with another type (user and client-id) is not
// included. No values means no quota.
func (k *kafkaClient) describeQuota(ctx context.Context, r kmsg.Requestor, q QuotaArgs) (map[string]float64, error) {
	c := kmsg.NewDescribeClientQuotasRequestComponent()
	c.EntityType = normalizeQuotaType(q.EntityType)
	c.MatchType = kmsg.QuotasMatchTypeDefault
	if name := deref(q.EntityName); name != "" {
		c.MatchType = kmsg.QuotasMatchTypeExact
		c.Match = kmsg.StringPtr(name)
	}
	req := kmsg.NewPtrDescribeClientQuotasRequest()
	req.Components = append(req.Components, c)
	req.Strict = true
	rctx, cancel := k.withTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, r)
	if err != nil {
		return nil, securityError(quotaWhat(q), "DescribeClientQuotas", err, "")
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, securityError(quotaWhat(q), "DescribeClientQuotas", err, deref(resp.ErrorMessage))
	}
	values := map[string]float64{}
	for _, e := range resp.Entries {
		for _, v := range e.Values {
			values[v.Key] = v.Value
		}
	}
	return values, nil
}

// quotaOnAnyBroker asks every broker alone for the entity's quota values and
// returns the first that shows any.
func (k *kafkaClient) quotaOnAnyBroker(ctx context.Context, q QuotaArgs) (map[string]float64, error) {
	ids, err := k.brokerIDs(ctx)
	if err != nil {
		return nil, securityError(quotaWhat(q), "Metadata", err, "")
	}
	for _, id := range ids {
		have, err := k.describeQuota(ctx, k.broker(id), q)
		if err != nil || len(have) > 0 {
			return have, err
		}
	}
	return map[string]float64{}, nil
}

// alterQuota sets and removes quota keys of the entity in one request,
// which Kafka applies as one change.
func (k *kafkaClient) alterQuota(ctx context.Context, q QuotaArgs, set map[string]float64, remove []string) error {
	entity := kmsg.NewAlterClientQuotasRequestEntryEntity()
	entity.Type = normalizeQuotaType(q.EntityType)
	if name := deref(q.EntityName); name != "" {
		entity.Name = kmsg.StringPtr(name)
	}
	entry := kmsg.NewAlterClientQuotasRequestEntry()
	entry.Entity = append(entry.Entity, entity)
	for _, key := range sortedKeys(set) {
		op := kmsg.NewAlterClientQuotasRequestEntryOp()
		op.Key, op.Value = key, set[key]
		entry.Ops = append(entry.Ops, op)
	}
	for _, key := range remove {
		op := kmsg.NewAlterClientQuotasRequestEntryOp()
		op.Key, op.Remove = key, true
		entry.Ops = append(entry.Ops, op)
	}
	req := kmsg.NewPtrAlterClientQuotasRequest()
	req.Entries = append(req.Entries, entry)
	rctx, cancel := k.withTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, k.raw)
	if err != nil {
		return securityError(quotaWhat(q), "AlterClientQuotas", err, "")
	}
	for _, e := range resp.Entries {
		if err := kerr.ErrorForCode(e.ErrorCode); err != nil {
			return securityError(quotaWhat(q), "AlterClientQuotas", err, deref(e.ErrorMessage))
		}
	}
	return nil
}

// waitQuota waits until every broker shows the values of want and none of
// the removed keys. Brokers throttle with their own copy of the quotas, so
// a change is done only when all of them have it.
func (k *kafkaClient) waitQuota(ctx context.Context, q QuotaArgs, want map[string]float64, removed []string) error {
	return k.waitEveryBrokerShows(ctx, quotaWhat(q), "the new values", func(ctx context.Context, r kmsg.Requestor) (bool, error) {
		have, err := k.describeQuota(ctx, r, q)
		if err != nil {
			return false, err
		}
		for key, v := range want {
			if got, ok := have[key]; !ok || got != v {
				return false, nil
			}
		}
		for _, key := range removed {
			if _, ok := have[key]; ok {
				return false, nil
			}
		}
		return true, nil
	})
}

// sortedKeys returns the keys of m in order, for deterministic requests.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
