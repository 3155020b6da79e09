package kafkaadmin

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// QuotaEntity is the client-quota entity of one quota: Type is Kafka's
// entity type in lower case (user, client-id, ip), Name the entity's name,
// empty for the type's default entity.
type QuotaEntity struct{ Type, Name string }

// String names the quota in errors.
func (q QuotaEntity) String() string {
	if q.Name == "" {
		return fmt.Sprintf("quota of the default %s", q.Type)
	}
	return fmt.Sprintf("quota of %s %q", q.Type, q.Name)
}

// DescribeQuota asks r for the quota values of exactly this entity: strict,
// so an entity combining it with another type (user and client-id) is not
// included. No values means no quota.
func (k *Client) DescribeQuota(ctx context.Context, r kmsg.Requestor, q QuotaEntity) (map[string]float64, error) {
	c := kmsg.NewDescribeClientQuotasRequestComponent()
	c.EntityType = q.Type
	c.MatchType = kmsg.QuotasMatchTypeDefault
	if name := q.Name; name != "" {
		c.MatchType = kmsg.QuotasMatchTypeExact
		c.Match = kmsg.StringPtr(name)
	}
	req := kmsg.NewPtrDescribeClientQuotasRequest()
	req.Components = append(req.Components, c)
	req.Strict = true
	rctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, r)
	if err != nil {
		return nil, securityError(q.String(), "DescribeClientQuotas", err, "")
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, securityError(q.String(), "DescribeClientQuotas", err, deref(resp.ErrorMessage))
	}
	values := map[string]float64{}
	for _, e := range resp.Entries {
		for _, v := range e.Values {
			values[v.Key] = v.Value
		}
	}
	return values, nil
}

// QuotaOnAnyBroker asks every broker alone for the entity's quota values and
// returns the first that shows any.
func (k *Client) QuotaOnAnyBroker(ctx context.Context, q QuotaEntity) (map[string]float64, error) {
	ids, err := k.BrokerIDs(ctx)
	if err != nil {
		return nil, securityError(q.String(), "Metadata", err, "")
	}
	for _, id := range ids {
		have, err := k.DescribeQuota(ctx, k.Broker(id), q)
		if err != nil || len(have) > 0 {
			return have, err
		}
	}
	return map[string]float64{}, nil
}

// AlterQuota sets and removes quota keys of the entity in one request,
// which Kafka applies as one change.
func (k *Client) AlterQuota(ctx context.Context, q QuotaEntity, set map[string]float64, remove []string) error {
	entity := kmsg.NewAlterClientQuotasRequestEntryEntity()
	entity.Type = q.Type
	if name := q.Name; name != "" {
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
	rctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := req.RequestWith(rctx, k.raw)
	if err != nil {
		return securityError(q.String(), "AlterClientQuotas", err, "")
	}
	for _, e := range resp.Entries {
		if err := kerr.ErrorForCode(e.ErrorCode); err != nil {
			return securityError(q.String(), "AlterClientQuotas", err, deref(e.ErrorMessage))
		}
	}
	return nil
}

// WaitQuota waits until every broker shows the values of want and none of
// the removed keys. Brokers throttle with their own copy of the quotas, so
// a change is done only when all of them have it.
func (k *Client) WaitQuota(ctx context.Context, q QuotaEntity, want map[string]float64, removed []string) error {
	return k.waitEveryBrokerShows(ctx, q.String(), "the new values", func(ctx context.Context, r kmsg.Requestor) (bool, error) {
		have, err := k.DescribeQuota(ctx, r, q)
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
