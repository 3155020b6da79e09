package provider

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// QuotaToken is the Pulumi type token of the Quota resource.
const QuotaToken = "umbrellakafka:index:Quota"

// Quota is the controller of umbrellakafka:index:Quota: the client quotas of
// one entity (a user, a client ID or an IP address, or the default of one of
// them). Its properties and import ID are pulumi-kafka's kafka.Quota's.
//
// The config keys change in place (AlterClientQuotas sets and removes
// them); a new entity replaces the resource.
type Quota struct{}

// QuotaArgs are the inputs of a Quota, named as in pulumi-kafka.
type QuotaArgs struct {
	// EntityName is the user, client ID or IP; empty or absent for the default entity.
	EntityName *string `pulumi:"entityName,optional"`
	// EntityType is user, client-id or ip.
	EntityType string `pulumi:"entityType"`
	// Config maps quota keys to values.
	Config map[string]string `pulumi:"config,optional"`
}

// QuotaState is the recorded state of a Quota: the same fields as its inputs,
// as last read from or written to Kafka.
type QuotaState struct {
	QuotaArgs
}

// Compile-time checks that Quota implements every lifecycle step it claims.
var (
	_ infer.CustomResource[QuotaArgs, QuotaState] = Quota{}
	_ infer.CustomCheck[QuotaArgs]                = Quota{}
	_ infer.CustomDiff[QuotaArgs, QuotaState]     = Quota{}
	_ infer.CustomRead[QuotaArgs, QuotaState]     = Quota{}
	_ infer.CustomUpdate[QuotaArgs, QuotaState]   = Quota{}
	_ infer.CustomDelete[QuotaState]              = Quota{}
	_ infer.Annotated                             = (*Quota)(nil)
	_ infer.Annotated                             = (*QuotaArgs)(nil)
)

// Annotate sets the type token and documents the resource.
func (q *Quota) Annotate(a infer.Annotator) {
	a.SetToken("index", "Quota")
	a.Describe(q, "The client quotas of one Kafka entity: a user, a client ID or an IP address, or the default of "+
		"one of them (entityName left out). Same properties and import ID as pulumi-kafka's kafka.Quota. Config "+
		"keys change in place; another entity replaces the quota. Import with `pulumi import umbrellakafka:index:Quota "+
		"<resource name> '<entityName>|<entityType>'`, e.g. 'alice|user', or '|user' for the default user "+
		"(pulumi-kafka's '<entityType>:<entityName>' form, e.g. 'user:alice', works too).")
}

// Annotate documents the Quota fields for the schema.
func (q *QuotaArgs) Annotate(a infer.Annotator) {
	a.Describe(&q.EntityName, "The user (principal name without \"User:\"), client ID or IP address. Left out or "+
		"empty, the quota is the entity type's default, for every user, client ID or IP without one of its own. "+
		"Changing it replaces the quota.")
	a.Describe(&q.EntityType, "user, client-id or ip. Changing it replaces the quota.")
	a.Describe(&q.Config, "Quota keys and values (greater than 0). user and client-id: producer_byte_rate and "+
		"consumer_byte_rate (whole bytes/second per broker), request_percentage (percent of a request thread per "+
		"broker), controller_mutation_rate (mutations/second); ip: connection_creation_rate (whole connections/second). "+
		"Values compare by meaning (\"1048576\" matches Kafka's 1048576.0). Removing a key removes that limit.")
}

// Check validates the inputs with Kafka 4.1's quota rules and writes the
// entity type in lowercase. Values stay as written: Diff and Read compare
// them by meaning.
func (Quota) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[QuotaArgs], error) {
	args, failures, err := infer.DefaultCheck[QuotaArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[QuotaArgs]{Inputs: args, Failures: failures}, err
	}
	known := func(key string) bool {
		v, ok := req.NewInputs.GetOk(key)
		return !ok || !v.IsComputed()
	}
	configKnown := true
	if v, ok := req.NewInputs.GetOk("config"); ok && v.HasComputed() {
		configKnown = false
	}
	failures = checkQuota(args, known, configKnown)
	if known("entityType") {
		args.EntityType = normalizeQuotaType(args.EntityType)
	}
	return infer.CheckResponse[QuotaArgs]{Inputs: args, Failures: failures}, nil
}

// Diff replaces the quota for another entity and updates its config keys in
// place.
func (Quota) Diff(_ context.Context, req infer.DiffRequest[QuotaArgs, QuotaState]) (infer.DiffResponse, error) {
	return diffQuota(req.State.QuotaArgs, req.Inputs), nil
}

// diffQuota is the pure core of Diff. An empty and an absent entityName
// both mean the default entity, so they are no change.
func diffQuota(olds, news QuotaArgs) p.DiffResponse {
	d := map[string]p.PropertyDiff{}
	if normalizeQuotaType(olds.EntityType) != normalizeQuotaType(news.EntityType) {
		d["entityType"] = p.PropertyDiff{Kind: p.UpdateReplace}
	}
	if deref(olds.EntityName) != deref(news.EntityName) {
		d["entityName"] = p.PropertyDiff{Kind: p.UpdateReplace}
	}
	for key, v := range news.Config {
		old, ok := olds.Config[key]
		switch {
		case !ok:
			d[quotaConfigPath(key)] = p.PropertyDiff{Kind: p.Add}
		case !sameQuotaValue(old, v):
			d[quotaConfigPath(key)] = p.PropertyDiff{Kind: p.Update}
		}
	}
	for key := range olds.Config {
		if _, ok := news.Config[key]; !ok {
			d[quotaConfigPath(key)] = p.PropertyDiff{Kind: p.Delete}
		}
	}
	// A new entity is another quota: it is set before the old one is removed.
	return p.DiffResponse{HasChanges: len(d) > 0, DetailedDiff: d}
}

// quotaID is pulumi-kafka's resource ID of a quota: entityName|entityType.
func quotaID(q QuotaArgs) string {
	return deref(q.EntityName) + "|" + normalizeQuotaType(q.EntityType)
}

// quotaEntity is the quota's entity as kafkaadmin takes it.
func quotaEntity(q QuotaArgs) kafkaadmin.QuotaEntity {
	return kafkaadmin.QuotaEntity{Type: normalizeQuotaType(q.EntityType), Name: deref(q.EntityName)}
}

// quotaWhat names a quota in errors.
func quotaWhat(q QuotaArgs) string { return quotaEntity(q).String() }

// parseQuotaID reads an import ID: pulumi-kafka's resource ID
// entityName|entityType, or the entityType:entityName form its import docs
// show. An empty name is the default entity.
func parseQuotaID(id string) (QuotaArgs, error) {
	var name, typ string
	if i := strings.LastIndex(id, "|"); i >= 0 {
		name, typ = id[:i], id[i+1:]
	} else if t, n, ok := strings.Cut(id, ":"); ok {
		typ, name = t, n
	} else {
		return QuotaArgs{}, fmt.Errorf("quota ID %q is neither <entityName>|<entityType> nor <entityType>:<entityName>: "+
			"write it as e.g. 'alice|user', or '|user' for the default user", id)
	}
	q := QuotaArgs{EntityType: normalizeQuotaType(typ)}
	if name != "" {
		q.EntityName = &name
	}
	if failures := checkQuota(q, func(string) bool { return true }, false); len(failures) > 0 {
		return QuotaArgs{}, fmt.Errorf("quota ID %q: %s", id, failures[0].Reason)
	}
	return q, nil
}

// quotaValues parses the config values; Check has validated them.
func quotaValues(cfg map[string]string) (map[string]float64, error) {
	out := make(map[string]float64, len(cfg))
	for k, v := range cfg {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, fmt.Errorf("config[%q] = %q is not a number: write a number, e.g. \"1048576\"", k, v)
		}
		out[k] = f
	}
	return out, nil
}

// Create sets the quota keys and returns once every broker shows them. It
// refuses an entity that already has quotas: those belong to someone else,
// and this resource's delete would remove them.
func (Quota) Create(ctx context.Context, req infer.CreateRequest[QuotaArgs]) (infer.CreateResponse[QuotaState], error) {
	in := req.Inputs
	in.EntityType = normalizeQuotaType(in.EntityType)
	resp := infer.CreateResponse[QuotaState]{ID: quotaID(in), Output: QuotaState{in}}
	if req.DryRun {
		return resp, nil
	}
	want, err := quotaValues(in.Config)
	if err != nil {
		return infer.CreateResponse[QuotaState]{}, err
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.CreateResponse[QuotaState]{}, err
	}
	have, err := cl.DescribeQuota(ctx, cl.AnyBroker(), quotaEntity(in))
	if err != nil {
		return infer.CreateResponse[QuotaState]{}, err
	}
	if len(have) > 0 {
		return infer.CreateResponse[QuotaState]{}, fmt.Errorf("%s already has quotas in Kafka (%s): adopt them with "+
			"pulumi import %s <resource name> '%s', or remove the other resource that sets them",
			quotaWhat(in), showQuota(have), QuotaToken, quotaID(in))
	}
	if err := cl.AlterQuota(ctx, quotaEntity(in), want, nil); err != nil {
		return infer.CreateResponse[QuotaState]{}, err
	}
	if err := cl.WaitQuota(ctx, quotaEntity(in), want, nil); err != nil {
		return resp, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return resp, nil
}

// Update sets the changed keys and removes the keys no longer in config, in
// one request, and returns once every broker shows the result.
func (Quota) Update(ctx context.Context, req infer.UpdateRequest[QuotaArgs, QuotaState]) (infer.UpdateResponse[QuotaState], error) {
	in := req.Inputs
	in.EntityType = normalizeQuotaType(in.EntityType)
	resp := infer.UpdateResponse[QuotaState]{Output: QuotaState{in}}
	if req.DryRun {
		return resp, nil
	}
	want, err := quotaValues(in.Config)
	if err != nil {
		return infer.UpdateResponse[QuotaState]{}, err
	}
	var remove []string
	for k := range req.State.Config {
		if _, ok := in.Config[k]; !ok {
			remove = append(remove, k)
		}
	}
	sort.Strings(remove)
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.UpdateResponse[QuotaState]{}, err
	}
	if err := cl.AlterQuota(ctx, quotaEntity(in), want, remove); err != nil {
		return infer.UpdateResponse[QuotaState]{}, err
	}
	return resp, cl.WaitQuota(ctx, quotaEntity(in), want, remove)
}

// Read records every quota key Kafka shows for the entity (so a refresh
// shows keys set outside Pulumi), keeping the spelling of the state or the
// inputs for a value that means the same. No quota returns an empty ID, which
// tells Pulumi it is gone (once every broker agrees: one that lags behind the
// controller does not show quotas set a moment ago). With no state (import),
// the ID gives the entity.
func (Quota) Read(ctx context.Context, req infer.ReadRequest[QuotaArgs, QuotaState]) (infer.ReadResponse[QuotaArgs, QuotaState], error) {
	q := req.State.QuotaArgs
	if q.EntityType == "" {
		parsed, err := parseQuotaID(req.ID)
		if err != nil {
			return infer.ReadResponse[QuotaArgs, QuotaState]{}, err
		}
		q = parsed
	}
	q.EntityType = normalizeQuotaType(q.EntityType)
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.ReadResponse[QuotaArgs, QuotaState]{}, err
	}
	have, err := cl.DescribeQuota(ctx, cl.AnyBroker(), quotaEntity(q))
	if err == nil && len(have) == 0 {
		have, err = cl.QuotaOnAnyBroker(ctx, quotaEntity(q))
	}
	if err != nil || len(have) == 0 {
		return infer.ReadResponse[QuotaArgs, QuotaState]{}, err
	}
	q.Config = readQuotaConfig(have, req.State.Config, req.Inputs.Config)
	return infer.ReadResponse[QuotaArgs, QuotaState]{ID: quotaID(q), Inputs: q, State: QuotaState{q}}, nil
}

// readQuotaConfig is the config a Read records: Kafka's values, each in the
// spelling of the state or the inputs when it means the same.
func readQuotaConfig(kafka map[string]float64, written ...map[string]string) map[string]string {
	out := make(map[string]string, len(kafka))
	for k, v := range kafka {
		out[k] = formatQuotaValue(v)
		for _, w := range written {
			if wv, ok := w[k]; ok && sameQuotaValue(wv, out[k]) {
				out[k] = wv
				break
			}
		}
	}
	return out
}

// Delete removes every quota key the entity has and waits until no broker
// shows any. An entity with no quotas left is no error.
func (Quota) Delete(ctx context.Context, req infer.DeleteRequest[QuotaState]) (infer.DeleteResponse, error) {
	q := req.State.QuotaArgs
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	have, err := cl.DescribeQuota(ctx, cl.AnyBroker(), quotaEntity(q))
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	remove := make([]string, 0, len(have)+len(q.Config))
	for k := range have {
		remove = append(remove, k)
	}
	for k := range q.Config {
		if _, ok := have[k]; !ok {
			remove = append(remove, k)
		}
	}
	sort.Strings(remove)
	if len(remove) > 0 {
		if err := cl.AlterQuota(ctx, quotaEntity(q), nil, remove); err != nil {
			return infer.DeleteResponse{}, err
		}
	}
	return infer.DeleteResponse{}, cl.WaitQuota(ctx, quotaEntity(q), nil, remove)
}

// showQuota writes quota values sorted by key, for messages.
func showQuota(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + formatQuotaValue(m[k])
	}
	return strings.Join(parts, ", ")
}
