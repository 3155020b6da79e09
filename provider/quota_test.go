package provider

import (
	"context"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestQuotaCheck has one case per rule of Check; each message names the
// field, the value, the problem and the fix.
func TestQuotaCheck(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	tests := []struct {
		name   string
		inputs property.Map
		want   []p.CheckFailure
	}{
		{"user", quotaProps(ptr("alice"), "user", map[string]string{"producer_byte_rate": "1048576",
			"consumer_byte_rate": "2097152", "request_percentage": "50.5", "controller_mutation_rate": "10"}), nil},
		{"default client-id", quotaProps(nil, "client-id", map[string]string{"producer_byte_rate": "1048576.0"}), nil},
		{"ip", quotaProps(ptr("203.0.113.7"), "ip", map[string]string{"connection_creation_rate": "10"}), nil},
		{"unknown entity type", quotaProps(ptr("a"), "users", map[string]string{"producer_byte_rate": "1"}),
			[]p.CheckFailure{{Property: "entityType", Reason: `entityType = "users": is not a client quota entity type; ` +
				`did you mean "user"? Use one of client-id, ip, user`}}},
		{"key of another entity type", quotaProps(ptr("a"), "user", map[string]string{"connection_creation_rate": "5"}),
			[]p.CheckFailure{{Property: `config["connection_creation_rate"]`, Reason: `config["connection_creation_rate"] = "5": ` +
				`"connection_creation_rate" is not a quota Kafka knows for entityType = "user"; connection_creation_rate is an ip quota: put it ` +
				`on a Quota with entityType = "ip"`}}},
		{"misspelt key", quotaProps(ptr("a"), "client-id", map[string]string{"producer_byte_rat": "5"}),
			[]p.CheckFailure{{Property: `config["producer_byte_rat"]`, Reason: `config["producer_byte_rat"] = "5": ` +
				`"producer_byte_rat" is not a quota Kafka knows for entityType = "client-id"; did you mean "producer_byte_rate"? use one of ` +
				`consumer_byte_rate, controller_mutation_rate, producer_byte_rate, request_percentage for entityType = "client-id"`}}},
		{"ip key on ip only", quotaProps(ptr("10.0.0.1"), "ip", map[string]string{"producer_byte_rate": "5"}),
			[]p.CheckFailure{{Property: `config["producer_byte_rate"]`, Reason: `config["producer_byte_rate"] = "5": ` +
				`"producer_byte_rate" is not a quota Kafka knows for entityType = "ip"; use one of connection_creation_rate for entityType = "ip"`}}},
		{"zero", quotaProps(ptr("a"), "user", map[string]string{"producer_byte_rate": "0"}),
			[]p.CheckFailure{{Property: `config["producer_byte_rate"]`, Reason: `config["producer_byte_rate"] = "0": is not ` +
				`greater than 0, which Kafka requires of every quota; set a positive limit of bytes/second produced, per ` +
				`broker, or remove the key to lift the limit`}}},
		{"negative", quotaProps(ptr("a"), "user", map[string]string{"request_percentage": "-1"}),
			[]p.CheckFailure{{Property: `config["request_percentage"]`, Reason: `config["request_percentage"] = "-1": is not ` +
				`greater than 0, which Kafka requires of every quota; set a positive limit of percent of one request-handler ` +
				`thread, per broker, or remove the key to lift the limit`}}},
		{"fraction of a whole quota", quotaProps(ptr("a"), "user", map[string]string{"consumer_byte_rate": "1.5"}),
			[]p.CheckFailure{{Property: `config["consumer_byte_rate"]`, Reason: `config["consumer_byte_rate"] = "1.5": is a ` +
				`fraction, but Kafka stores consumer_byte_rate as a whole number; round it, e.g. "2"`}}},
		{"not a number", quotaProps(ptr("a"), "user", map[string]string{"producer_byte_rate": "1MB"}),
			[]p.CheckFailure{{Property: `config["producer_byte_rate"]`, Reason: `config["producer_byte_rate"] = "1MB": is not ` +
				`a number; write a number of bytes/second produced, per broker, e.g. "1048576"`}}},
		{"over an int", quotaProps(ptr("10.0.0.1"), "ip", map[string]string{"connection_creation_rate": "3000000000"}),
			[]p.CheckFailure{{Property: `config["connection_creation_rate"]`, Reason: `config["connection_creation_rate"] = ` +
				`"3000000000": is larger than Kafka stores for connection_creation_rate; set at most 2147483647`}}},
		{"empty config", quotaProps(ptr("a"), "user", map[string]string{}),
			[]p.CheckFailure{{Property: "config", Reason: `config = "{}": is empty: a quota with no keys is no quota, and Kafka ` +
				`keeps nothing for it; set at least one of consumer_byte_rate, controller_mutation_rate, producer_byte_rate, ` +
				`request_percentage`}}},
		{"ip entity that is no IP", quotaProps(ptr("client.example"), "ip", map[string]string{"connection_creation_rate": "1"}),
			[]p.CheckFailure{{Property: "entityName", Reason: `entityName = "client.example": is not an IP address ` +
				`(entityType = "ip"); write the client's IP address, e.g. "203.0.113.7", or leave entityName out for the ` +
				`default of every IP`}}},
		{"user entity written as a principal", quotaProps(ptr("User:alice"), "user", map[string]string{"producer_byte_rate": "1"}),
			[]p.CheckFailure{{Property: "entityName", Reason: `entityName = "User:alice": starts with "User:", but a user ` +
				`quota names the user alone (Kafka matches "alice" for the principal User:alice); write entityName = "alice"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.Check(p.CheckRequest{Urn: resURN(QuotaToken, "q"), Inputs: tt.inputs})
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.Failures)
		})
	}
}

// TestDiffQuota: another entity replaces, config keys update in place, and
// values that mean the same number (Kafka answers doubles) are no change.
func TestDiffQuota(t *testing.T) {
	base := QuotaArgs{EntityName: ptr("alice"), EntityType: "user",
		Config: map[string]string{"producer_byte_rate": "1048576", "request_percentage": "50"}}
	with := func(edit func(*QuotaArgs)) QuotaArgs {
		q := base
		q.Config = map[string]string{"producer_byte_rate": "1048576", "request_percentage": "50"}
		edit(&q)
		return q
	}
	tests := []struct {
		name string
		news QuotaArgs
		want map[string]p.DiffKind
	}{
		{"no change", base, map[string]p.DiffKind{}},
		{"same numbers written otherwise", with(func(q *QuotaArgs) {
			q.Config = map[string]string{"producer_byte_rate": "1048576.0", "request_percentage": "5e1"}
		}), map[string]p.DiffKind{}},
		{"entity name", with(func(q *QuotaArgs) { q.EntityName = ptr("bob") }), map[string]p.DiffKind{"entityName": p.UpdateReplace}},
		{"entity type", with(func(q *QuotaArgs) { q.EntityType = "client-id" }), map[string]p.DiffKind{"entityType": p.UpdateReplace}},
		{"value", with(func(q *QuotaArgs) { q.Config["producer_byte_rate"] = "2097152" }),
			map[string]p.DiffKind{`config["producer_byte_rate"]`: p.Update}},
		{"key added", with(func(q *QuotaArgs) { q.Config["consumer_byte_rate"] = "1" }),
			map[string]p.DiffKind{`config["consumer_byte_rate"]`: p.Add}},
		{"key removed", with(func(q *QuotaArgs) { delete(q.Config, "request_percentage") }),
			map[string]p.DiffKind{`config["request_percentage"]`: p.Delete}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diffQuota(base, tt.news)
			kinds := map[string]p.DiffKind{}
			for k, v := range got.DetailedDiff {
				kinds[k] = v.Kind
			}
			assert.Equal(t, tt.want, kinds)
			assert.Equal(t, len(tt.want) > 0, got.HasChanges)
			assert.False(t, got.DeleteBeforeReplace)
		})
	}
	// An empty and an absent entityName are both the default entity.
	assert.False(t, diffQuota(QuotaArgs{EntityType: "user"}, QuotaArgs{EntityName: ptr(""), EntityType: "user"}).HasChanges)
}

// TestParseQuotaID reads pulumi-kafka's resource ID (entityName|entityType)
// and the entityType:entityName form of its import docs.
func TestParseQuotaID(t *testing.T) {
	tests := []struct {
		id   string
		want QuotaArgs
	}{
		{"alice|user", QuotaArgs{EntityName: ptr("alice"), EntityType: "user"}},
		{"|user", QuotaArgs{EntityType: "user"}},
		{"user:alice", QuotaArgs{EntityName: ptr("alice"), EntityType: "user"}},
		{"client-id:", QuotaArgs{EntityType: "client-id"}},
		{"10.0.0.1|IP", QuotaArgs{EntityName: ptr("10.0.0.1"), EntityType: "ip"}},
		{"app:v1|client-id", QuotaArgs{EntityName: ptr("app:v1"), EntityType: "client-id"}},
	}
	for _, tt := range tests {
		got, err := parseQuotaID(tt.id)
		require.NoError(t, err, tt.id)
		assert.Equal(t, tt.want, got, tt.id)
	}
	_, err := parseQuotaID("alice")
	require.EqualError(t, err, `quota ID "alice" is neither <entityName>|<entityType> nor <entityType>:<entityName>: `+
		`write it as e.g. 'alice|user', or '|user' for the default user`)
	_, err = parseQuotaID("alice|group")
	require.EqualError(t, err, `quota ID "alice|group": entityType = "group": is not a client quota entity type; `+
		`use one of client-id, ip, user`)
}

// TestReadQuotaConfig: Kafka's doubles are written as plain decimals, and a
// value that means the same keeps the program's spelling.
func TestReadQuotaConfig(t *testing.T) {
	got := readQuotaConfig(map[string]float64{"producer_byte_rate": 1048576, "request_percentage": 12.5, "consumer_byte_rate": 1e9},
		map[string]string{"producer_byte_rate": "1048576.0"})
	assert.Equal(t, map[string]string{"producer_byte_rate": "1048576.0", "request_percentage": "12.5",
		"consumer_byte_rate": "1000000000"}, got)
}

// TestQuotaLifecycle runs the request flow against kfake: create, read back
// with no diff, an update that changes one key and removes another, import
// by ID, delete, and read of a deleted quota.
func TestQuotaLifecycle(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	urn := resURN(QuotaToken, "q")
	id, in, state := upResource(t, s, urn, quotaProps(ptr("alice"), "USER",
		map[string]string{"producer_byte_rate": "1048576", "request_percentage": "50"}))
	assert.Equal(t, "alice|user", id)
	assert.Equal(t, map[string]float64{"producer_byte_rate": 1048576, "request_percentage": 50}, describeQuota(t, c, "user", "alice"))

	read, err := s.Read(p.ReadRequest{ID: id, Urn: urn, Properties: state, Inputs: in})
	require.NoError(t, err)
	assert.Equal(t, in, read.Inputs)
	requireNoDiff(t, s, urn, id, read.Properties, in)

	_, err = s.Create(p.CreateRequest{Urn: resURN(QuotaToken, "twin"), Properties: in})
	require.ErrorContains(t, err, `quota of user "alice" already has quotas in Kafka (producer_byte_rate=1048576, `+
		`request_percentage=50): adopt them with pulumi import umbrellakafka:index:Quota <resource name> 'alice|user'`)

	news := checked(t, s, urn, quotaProps(ptr("alice"), "user", map[string]string{"producer_byte_rate": "2097152.0"}))
	up, err := s.Update(p.UpdateRequest{ID: id, Urn: urn, State: state, Inputs: news})
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"producer_byte_rate": 2097152}, describeQuota(t, c, "user", "alice"))
	read, err = s.Read(p.ReadRequest{ID: id, Urn: urn, Properties: up.Properties, Inputs: news})
	require.NoError(t, err)
	assert.Equal(t, news, read.Inputs, "the written spelling 2097152.0 is kept")

	imported := importByID(t, s, urn, "user:alice")
	assert.Equal(t, id, imported.ID)
	assert.Equal(t, quotaProps(ptr("alice"), "user", map[string]string{"producer_byte_rate": "2097152"}), imported.Inputs)

	require.NoError(t, s.Delete(p.DeleteRequest{ID: id, Urn: urn, Properties: up.Properties}))
	assert.Empty(t, describeQuota(t, c, "user", "alice"))
	gone, err := s.Read(p.ReadRequest{ID: id, Urn: urn, Properties: up.Properties, Inputs: news})
	require.NoError(t, err)
	assert.Empty(t, gone.ID)
}

// TestQuotaDefaultEntity: a Quota without entityName sets the entity type's
// default, not an entity named "".
func TestQuotaDefaultEntity(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	urn := resURN(QuotaToken, "d")
	id, in, state := upResource(t, s, urn, quotaProps(nil, "client-id", map[string]string{"consumer_byte_rate": "4096"}))
	assert.Equal(t, "|client-id", id)
	assert.Equal(t, map[string]float64{"consumer_byte_rate": 4096}, describeQuota(t, c, "client-id", ""))
	read, err := s.Read(p.ReadRequest{ID: id, Urn: urn, Properties: state, Inputs: in})
	require.NoError(t, err)
	assert.Equal(t, in, read.Inputs)
	assert.Equal(t, in, importByID(t, s, urn, "|client-id").Inputs)
}

// describeQuota reads an entity's quota values straight from the cluster
// with kadm ("" is the default entity).
func describeQuota(t testing.TB, c *testCluster, typ, name string) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	comp := kadm.DescribeClientQuotaComponent{Type: typ, MatchType: kmsg.QuotasMatchTypeDefault}
	if name != "" {
		comp = kadm.DescribeClientQuotaComponent{Type: typ, MatchName: &name, MatchType: kmsg.QuotasMatchTypeExact}
	}
	described, err := c.adm.DescribeClientQuotas(ctx, true, []kadm.DescribeClientQuotaComponent{comp})
	require.NoError(t, err)
	got := map[string]float64{}
	for _, d := range described {
		for _, v := range d.Values {
			got[v.Key] = v.Value
		}
	}
	return got
}
