package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// These tests prove the request flow on kfake and the pure Check/Diff
// rules; Kafka's own behaviour (logins, its refusals, metadata lag) is proven
// by the realkafka tests (scram_realkafka_test.go).

func scramURN(name string) presource.URN {
	return presource.NewURN("test", "umbrella", "", UserScramCredentialToken, name)
}

// scramProps builds UserScramCredential inputs; iterations 0 leaves it unset.
func scramProps(user, mech string, iterations int, password string) property.Map {
	m := map[string]property.Value{
		"username":       property.New(user),
		"scramMechanism": property.New(mech),
	}
	if iterations != 0 {
		m["scramIterations"] = property.New(float64(iterations))
	}
	if password != "" {
		m["password"] = property.New(password).WithSecret(true)
	}
	return property.NewMap(m)
}

// with returns m with key set to v.
func with(m property.Map, key string, v property.Value) property.Map {
	return m.Set(key, v)
}

// Invoke calls a provider function like the engine does.
func (s *testServer) Invoke(token string, args property.Map) (property.Map, []*rpc.CheckFailure, error) {
	st, err := toStruct(args)
	if err != nil {
		return property.Map{}, nil, err
	}
	resp, err := s.rpc.Invoke(s.ctx, &rpc.InvokeRequest{Tok: token, Args: st})
	if err != nil {
		return property.Map{}, nil, err
	}
	out, err := fromStruct(resp.Return)
	return out, resp.Failures, err
}

// checkScram runs Check and returns the checked inputs and the failures by property.
func checkScram(t *testing.T, s *testServer, inputs property.Map) (property.Map, map[string]string) {
	t.Helper()
	resp, err := s.Check(p.CheckRequest{Urn: scramURN("c"), Inputs: inputs})
	require.NoError(t, err)
	failures := map[string]string{}
	for _, f := range resp.Failures {
		failures[f.Property] = f.Reason
	}
	return resp.Inputs, failures
}

// TestScramCheck guards the refusals made before anything is written: each
// names the field, the value, Kafka's limit and the fix, and none repeats a
// password.
func TestScramCheck(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	const secret = "s3cret-Value-42"
	cases := []struct {
		name   string
		inputs property.Map
		prop   string
		reason string
	}{
		{"empty username", scramProps("", ScramSHA256, 0, secret), "username",
			`username = "": is empty: Kafka refuses a SCRAM credential without a user name; set username to the user clients log in as, e.g. "orders-service"`},
		{"unknown mechanism", scramProps("alice", "PLAIN", 0, secret), "scramMechanism",
			`scramMechanism = "PLAIN": is not a SCRAM mechanism Kafka stores credentials for (SCRAM-SHA-256, SCRAM-SHA-512); use SCRAM-SHA-256 or SCRAM-SHA-512`},
		{"lower-case mechanism", scramProps("alice", "scram-sha-512", 0, secret), "scramMechanism",
			`scramMechanism = "scram-sha-512": is not a SCRAM mechanism Kafka stores credentials for (SCRAM-SHA-256, SCRAM-SHA-512); write it in capitals: SCRAM-SHA-512`},
		{"iterations below minimum", scramProps("alice", ScramSHA256, 4095, secret), "scramIterations",
			`scramIterations = 4095: is below Kafka's minimum of 4096; set it between 4096 and 16384, or leave it unset for 4096`},
		{"iterations above maximum", scramProps("alice", ScramSHA512, 16385, secret), "scramIterations",
			`scramIterations = 16385: exceeds Kafka's maximum of 16384; set it between 4096 and 16384`},
		{"no password", scramProps("alice", ScramSHA256, 0, ""), "password",
			`none of password, passwordWo and generatePassword is set: a SCRAM credential needs a password; set password or passwordWo from a secret (e.g. pulumi config set --secret <key> <password>), or generatePassword: true to have the provider generate one`},
		{"generatePassword false and no password", with(scramProps("alice", ScramSHA256, 0, ""), "generatePassword", property.New(false)), "password",
			`none of password, passwordWo and generatePassword is set: a SCRAM credential needs a password; set password or passwordWo from a secret (e.g. pulumi config set --secret <key> <password>), or generatePassword: true to have the provider generate one`},
		{"generatePassword with password", with(scramProps("alice", ScramSHA256, 0, secret), "generatePassword", property.New(true)), "generatePassword",
			`generatePassword is true and password is set: the provider would not know which password to write; remove password to let the provider generate one, or remove generatePassword to keep yours`},
		{"generatePassword with passwordWo", with(with(scramProps("alice", ScramSHA256, 0, ""), "generatePassword", property.New(true)),
			"passwordWo", property.New(secret).WithSecret(true)), "generatePassword",
			`generatePassword is true and passwordWo is set: the provider would not know which password to write; remove passwordWo to let the provider generate one, or remove generatePassword to keep yours`},
		{"blank password", scramProps("alice", ScramSHA256, 0, "   "), "password",
			`password is empty or only spaces: set a real password (from a secret)`},
		{"both passwords", with(scramProps("alice", ScramSHA256, 0, secret), "passwordWo", property.New(secret).WithSecret(true)), "passwordWo",
			`password and passwordWo are both set: set exactly one of them (passwordWo keeps the password out of the outputs; change passwordWoVersion with it)`},
		{"blank write-only password", with(scramProps("alice", ScramSHA256, 0, ""), "passwordWo", property.New("").WithSecret(true)), "passwordWo",
			`passwordWo is empty or only spaces: set a real password (from a secret)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, failures := checkScram(t, s, tc.inputs)
			require.Len(t, failures, 1, "%v", failures)
			assert.Equal(t, tc.reason, failures[tc.prop])
			assert.NotContains(t, failures[tc.prop], secret)
		})
	}

	t.Run("defaults and valid inputs", func(t *testing.T) {
		checked, failures := checkScram(t, s, scramProps("alice", ScramSHA512, 0, secret))
		assert.Empty(t, failures)
		assert.Equal(t, 4096.0, checked.Get("scramIterations").AsNumber())
		assert.True(t, checked.Get("password").Secret(), "password must stay secret after Check")
		for _, n := range []int{ScramMinIterations, 8192, ScramMaxIterations} {
			_, failures := checkScram(t, s, scramProps("alice", ScramSHA256, n, secret))
			assert.Empty(t, failures, "iterations %d", n)
		}
	})
	t.Run("generatePassword alone is enough", func(t *testing.T) {
		_, failures := checkScram(t, s, with(scramProps("alice", ScramSHA512, 0, ""), "generatePassword", property.New(true)))
		assert.Empty(t, failures)
	})
	t.Run("unknown values during preview are not checked", func(t *testing.T) {
		in := property.NewMap(map[string]property.Value{
			"username":       property.New(property.Computed),
			"scramMechanism": property.New(ScramSHA256),
			"password":       property.New(property.Computed),
		})
		_, failures := checkScram(t, s, in)
		assert.Empty(t, failures)
	})
}

func strp(s string) *string { return &s }
func intp(n int) *int       { return &n }

// TestScramDiff guards which changes replace (a new username or mechanism is
// another credential, as in pulumi-kafka) and which update in place.
func TestScramDiff(t *testing.T) {
	state := UserScramCredentialState{Username: "alice", ScramMechanism: ScramSHA256, ScramIterations: 4096, Password: strp("old")}
	base := UserScramCredentialArgs{Username: "alice", ScramMechanism: ScramSHA256, ScramIterations: intp(4096), Password: strp("old")}
	wo := UserScramCredentialState{Username: "alice", ScramMechanism: ScramSHA512, ScramIterations: 4096, PasswordWoVersion: strp("1")}
	woArgs := UserScramCredentialArgs{Username: "alice", ScramMechanism: ScramSHA512, ScramIterations: intp(4096),
		PasswordWo: strp("pw-1"), PasswordWoVersion: strp("1")}
	gen := UserScramCredentialState{Username: "alice", ScramMechanism: ScramSHA256, ScramIterations: 4096,
		Password: strp("generated"), PasswordWoVersion: strp("1"), GeneratePassword: ptr(true)}
	genArgs := UserScramCredentialArgs{Username: "alice", ScramMechanism: ScramSHA256, ScramIterations: intp(4096),
		PasswordWoVersion: strp("1"), GeneratePassword: ptr(true)}
	cases := []struct {
		name  string
		state UserScramCredentialState
		edit  func(*UserScramCredentialArgs)
		want  map[string]p.DiffKind
	}{
		{"no change", state, func(*UserScramCredentialArgs) {}, map[string]p.DiffKind{}},
		{"password change updates", state, func(a *UserScramCredentialArgs) { a.Password = strp("new") },
			map[string]p.DiffKind{"password": p.Update}},
		{"mechanism change replaces", state, func(a *UserScramCredentialArgs) { a.ScramMechanism = ScramSHA512 },
			map[string]p.DiffKind{"scramMechanism": p.UpdateReplace}},
		{"username change replaces", state, func(a *UserScramCredentialArgs) { a.Username = "bob" },
			map[string]p.DiffKind{"username": p.UpdateReplace}},
		{"iterations change updates", state, func(a *UserScramCredentialArgs) { a.ScramIterations = intp(8192) },
			map[string]p.DiffKind{"scramIterations": p.Update}},
		{"password to passwordWo updates", state, func(a *UserScramCredentialArgs) {
			a.Password, a.PasswordWo, a.PasswordWoVersion = nil, strp("pw"), strp("1")
		}, map[string]p.DiffKind{"password": p.Delete, "passwordWoVersion": p.Add}},
		{"passwordWoVersion change updates", wo, func(a *UserScramCredentialArgs) {
			*a = woArgs
			a.PasswordWo, a.PasswordWoVersion = strp("pw-2"), strp("2")
		}, map[string]p.DiffKind{"passwordWoVersion": p.Update}},
		{"passwordWo change alone is not compared", wo, func(a *UserScramCredentialArgs) {
			*a = woArgs
			a.PasswordWo = strp("pw-2")
		}, map[string]p.DiffKind{}},
		{"generated password is not compared", gen, func(a *UserScramCredentialArgs) { *a = genArgs },
			map[string]p.DiffKind{}},
		{"generated: passwordWoVersion change updates", gen, func(a *UserScramCredentialArgs) {
			*a = genArgs
			a.PasswordWoVersion = strp("2")
		}, map[string]p.DiffKind{"passwordWoVersion": p.Update}},
		{"password to generatePassword updates", state, func(a *UserScramCredentialArgs) {
			a.Password, a.GeneratePassword = nil, ptr(true)
		}, map[string]p.DiffKind{"generatePassword": p.Update}},
		{"generatePassword to password updates", gen, func(a *UserScramCredentialArgs) {
			*a = genArgs
			a.GeneratePassword, a.Password = nil, strp("mine")
		}, map[string]p.DiffKind{"generatePassword": p.Update, "password": p.Update}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := base
			tc.edit(&args)
			d := diffScram(tc.state, args)
			got := map[string]p.DiffKind{}
			for k, v := range d.DetailedDiff {
				got[k] = v.Kind
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, len(tc.want) > 0, d.HasChanges)
		})
	}
}

// TestScramIDs guards pulumi-kafka's ID format and the refusal of its legacy
// import ID, which would put the password into the state in clear.
func TestScramIDs(t *testing.T) {
	for id, want := range map[string][2]string{
		"alice|SCRAM-SHA-512":      {"alice", ScramSHA512},
		"team|alice|SCRAM-SHA-256": {"team|alice", ScramSHA256}, // a user name may hold "|"
	} {
		user, mech, err := parseScramID(id)
		require.NoError(t, err, id)
		assert.Equal(t, want, [2]string{user, mech}, id)
		assert.Equal(t, id, kafkaadmin.ScramID(user, mech))
	}

	_, _, err := parseScramID("alice|SCRAM-SHA-512|hunter2")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Contains(t, err.Error(), "Import with <username>|<scramMechanism> (e.g. 'alice|SCRAM-SHA-512')")
	for _, bad := range []string{"alice", "alice|PLAIN", "|SCRAM-SHA-512"} {
		_, _, err = parseScramID(bad)
		assert.EqualError(t, err, fmt.Sprintf("UserScramCredential ID %q is not <username>|<scramMechanism> with mechanism "+
			"SCRAM-SHA-256 or SCRAM-SHA-512: import with e.g. 'alice|SCRAM-SHA-512'", bad))
	}
}

// TestScramSchema guards the names (pulumi-kafka's), the secret flags and
// that passwordWo is an input only.
func TestScramSchema(t *testing.T) {
	spec, err := p.GetSchema(context.Background(), Name, Version, Provider())
	require.NoError(t, err)
	res, ok := spec.Resources[UserScramCredentialToken]
	require.True(t, ok, "resource %s missing", UserScramCredentialToken)
	assert.ElementsMatch(t, []string{"scramMechanism", "username"}, res.RequiredInputs)
	assert.True(t, res.InputProperties["password"].Secret)
	assert.True(t, res.InputProperties["passwordWo"].Secret)
	assert.False(t, res.InputProperties["passwordWoVersion"].Secret)
	assert.Equal(t, 4096.0, res.InputProperties["scramIterations"].Default)
	assert.True(t, res.Properties["password"].Secret)
	_, hasWo := res.Properties["passwordWo"]
	assert.False(t, hasWo, "passwordWo must not be an output")
	assert.False(t, res.InputProperties["generatePassword"].Secret)
	for _, k := range []string{"username", "scramMechanism", "scramIterations", "password", "passwordWo", "passwordWoVersion", "generatePassword"} {
		assert.NotEmpty(t, res.InputProperties[k].Description, "input %s undocumented", k)
	}

	getTopic, ok := spec.Functions["umbrellakafka:index:getTopic"]
	require.True(t, ok)
	assert.Equal(t, []string{"name"}, getTopic.Inputs.Required)
	require.NotNil(t, getTopic.ReturnType)
	require.NotNil(t, getTopic.ReturnType.ObjectTypeSpec)
	var outKeys []string
	for k := range getTopic.ReturnType.ObjectTypeSpec.Properties {
		outKeys = append(outKeys, k)
	}
	assert.ElementsMatch(t, []string{"name", "partitions", "replicationFactor", "config"}, outKeys)
	getTopics, ok := spec.Functions["umbrellakafka:index:getTopics"]
	require.True(t, ok)
	require.NotNil(t, getTopics.ReturnType)
	require.NotNil(t, getTopics.ReturnType.ObjectTypeSpec)
	assert.Equal(t, "#/types/umbrellakafka:index:getTopicsList", getTopics.ReturnType.ObjectTypeSpec.Properties["lists"].Items.Ref)
	list := spec.Types["umbrellakafka:index:getTopicsList"]
	var listKeys []string
	for k := range list.Properties {
		listKeys = append(listKeys, k)
	}
	assert.ElementsMatch(t, []string{"topicName", "partitions", "replicationFactor", "config"}, listKeys)
}

// TestScramLifecycleKfake runs create, read, update, import, delete and a
// read after an out-of-band deletion on kfake, and checks that no output
// holds a password in clear.
func TestScramLifecycleKfake(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	id := "alice|SCRAM-SHA-512"

	checked, failures := checkScram(t, s, scramProps("alice", ScramSHA512, 8192, "first-pass"))
	require.Empty(t, failures)
	preview, err := s.Create(p.CreateRequest{Urn: scramURN("a"), Properties: checked, DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, id, preview.ID)
	assert.Empty(t, describeScram(t, c.adm, "alice"), "a preview must not write")

	created, err := s.Create(p.CreateRequest{Urn: scramURN("a"), Properties: checked})
	require.NoError(t, err)
	assert.Equal(t, id, created.ID)
	assert.Equal(t, map[string]int{ScramSHA512: 8192}, describeScram(t, c.adm, "alice"))
	assert.True(t, created.Properties.Get("password").Secret())
	assertNoClearText(t, created.Properties, "first-pass")

	got, err := s.Read(p.ReadRequest{ID: id, Urn: scramURN("a"), Properties: created.Properties, Inputs: checked})
	require.NoError(t, err)
	assert.Equal(t, id, got.ID)
	d, err := s.Diff(p.DiffRequest{ID: id, Urn: scramURN("a"), State: got.Properties, Inputs: checked})
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "read after create must show no diff: %v", d.DetailedDiff)

	news, failures := checkScram(t, s, scramProps("alice", ScramSHA512, 8192, "second-pass"))
	require.Empty(t, failures)
	d, err = s.Diff(p.DiffRequest{ID: id, Urn: scramURN("a"), State: got.Properties, Inputs: news})
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{"password": {Kind: p.Update}}, d.DetailedDiff)
	upd, err := s.Update(p.UpdateRequest{ID: id, Urn: scramURN("a"), State: got.Properties, Inputs: news})
	require.NoError(t, err)
	assertNoClearText(t, upd.Properties, "second-pass")

	imported, err := s.Read(p.ReadRequest{ID: id, Urn: scramURN("imported")})
	require.NoError(t, err)
	assert.Equal(t, id, imported.ID)
	assert.Equal(t, 8192.0, imported.Inputs.Get("scramIterations").AsNumber())
	assert.Equal(t, ScramSHA512, imported.Inputs.Get("scramMechanism").AsString())

	require.NoError(t, s.Delete(p.DeleteRequest{ID: id, Urn: scramURN("a"), Properties: upd.Properties}))
	assert.Empty(t, describeScram(t, c.adm, "alice"))
	gone, err := s.Read(p.ReadRequest{ID: id, Urn: scramURN("a"), Properties: upd.Properties, Inputs: news})
	require.NoError(t, err)
	assert.Equal(t, "", gone.ID, "a deleted credential reads as gone")
	require.NoError(t, s.Delete(p.DeleteRequest{ID: id, Urn: scramURN("a"), Properties: upd.Properties}),
		"deleting a credential that is already gone succeeds")
}

// TestScramWriteOnlyPasswordKfake checks that passwordWo reaches Kafka and
// is absent from the outputs.
func TestScramWriteOnlyPasswordKfake(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	in := scramProps("bob", ScramSHA256, 0, "")
	in = with(in, "passwordWo", property.New("wo-pass-1").WithSecret(true))
	in = with(in, "passwordWoVersion", property.New("1"))
	checked, failures := checkScram(t, s, in)
	require.Empty(t, failures)
	created, err := s.Create(p.CreateRequest{Urn: scramURN("b"), Properties: checked})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{ScramSHA256: 4096}, describeScram(t, c.adm, "bob"))
	_, has := created.Properties.GetOk("passwordWo")
	assert.False(t, has, "passwordWo must not be an output")
	assert.Equal(t, "1", created.Properties.Get("passwordWoVersion").AsString())
	assertNoClearText(t, created.Properties, "wo-pass-1")
}

// describeScram reads a user's credentials straight from the cluster:
// iterations by mechanism.
func describeScram(t testing.TB, adm *kadm.Client, user string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	described, err := adm.DescribeUserSCRAMs(ctx, user)
	require.NoError(t, err)
	out := map[string]int{}
	for _, c := range described[user].CredInfos {
		out[c.Mechanism.String()] = int(c.Iterations)
	}
	return out
}

// assertNoClearText fails if secret appears anywhere in m outside a secret value.
func assertNoClearText(t testing.TB, m property.Map, secret string) {
	t.Helper()
	for k, v := range m.All {
		if v.Secret() {
			continue
		}
		b, err := json.Marshal(fmt.Sprint(v))
		require.NoError(t, err)
		assert.False(t, strings.Contains(string(b), secret), "output %s holds the password in clear", k)
	}
}

// TestGetTopicFunctionsKfake checks that getTopic and getTopics return what
// the cluster has, under pulumi-kafka's names, and that a missing topic is a
// clear error.
func TestGetTopicFunctionsKfake(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	retention := "3600000"
	_, err := c.adm.CreateTopic(ctx, 3, 2, map[string]*string{"retention.ms": &retention}, "orders")
	require.NoError(t, err)
	_, err = c.adm.CreateTopic(ctx, 1, 1, nil, "audit")
	require.NoError(t, err)

	out, failures, err := s.Invoke("umbrellakafka:index:getTopic", property.NewMap(map[string]property.Value{"name": property.New("orders")}))
	require.NoError(t, err)
	require.Empty(t, failures)
	assert.Equal(t, property.NewMap(map[string]property.Value{
		"name":              property.New("orders"),
		"partitions":        property.New(3.0),
		"replicationFactor": property.New(2.0),
		"config":            property.New(map[string]property.Value{"retention.ms": property.New("3600000")}),
	}), out)

	_, _, err = s.Invoke("umbrellakafka:index:getTopic", property.NewMap(map[string]property.Value{"name": property.New("nope")}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `topic "nope" does not exist in the Kafka cluster: check the name (getTopics lists the topics), or create the topic before reading it`)

	all, failures, err := s.Invoke("umbrellakafka:index:getTopics", property.Map{})
	require.NoError(t, err)
	require.Empty(t, failures)
	lists := all.Get("lists").AsArray().AsSlice()
	require.Len(t, lists, 2)
	assert.Equal(t, property.NewMap(map[string]property.Value{
		"topicName":         property.New("audit"),
		"partitions":        property.New(1.0),
		"replicationFactor": property.New(1.0),
		"config":            property.New(map[string]property.Value{}),
	}), lists[0].AsMap())
	assert.Equal(t, "orders", lists[1].AsMap().Get("topicName").AsString())
	assert.Equal(t, "3600000", lists[1].AsMap().Get("config").AsMap().Get("retention.ms").AsString())
}

// genProps is a UserScramCredential whose password the provider generates,
// rotated by version.
func genProps(user, mech, version string) property.Map {
	m := with(scramProps(user, mech, 0, ""), "generatePassword", property.New(true))
	return with(m, "passwordWoVersion", property.New(version))
}

// generatedPassword is the password output: secret, 32 random bytes as
// base64url.
func generatedPassword(t *testing.T, out property.Map) string {
	t.Helper()
	v := out.Get("password")
	require.True(t, v.Secret(), "a generated password must be secret")
	pw := v.AsString()
	raw, err := base64.RawURLEncoding.DecodeString(pw)
	require.NoError(t, err, "base64url without padding")
	assert.Len(t, raw, 32)
	return pw
}

// TestScramGeneratedPasswordKfake guards the request flow of
// generatePassword: a preview generates nothing, Create writes a generated
// password and returns it as a secret, a refresh shows no change and keeps
// it out of the inputs, a change of iterations keeps it, a new
// passwordWoVersion generates a new one. That Kafka accepts the new and
// refuses the old is proven on real Kafka
// (TestRealKafkaScramGeneratedPassword).
func TestScramGeneratedPasswordKfake(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	id := "gen|SCRAM-SHA-512"

	checked, failures := checkScram(t, s, genProps("gen", ScramSHA512, "1"))
	require.Empty(t, failures)
	preview, err := s.Create(p.CreateRequest{Urn: scramURN("g"), Properties: checked, DryRun: true})
	require.NoError(t, err)
	assert.True(t, preview.Properties.Get("password").IsComputed(), "a preview generates nothing")
	assert.Empty(t, describeScram(t, c.adm, "gen"), "a preview must not write")

	created, err := s.Create(p.CreateRequest{Urn: scramURN("g"), Properties: checked})
	require.NoError(t, err)
	first := generatedPassword(t, created.Properties)
	assert.Equal(t, map[string]int{ScramSHA512: 4096}, describeScram(t, c.adm, "gen"))
	assertNoClearText(t, created.Properties, first)

	again, err := s.Create(p.CreateRequest{Urn: scramURN("g2"), Properties: checked})
	require.NoError(t, err)
	assert.NotEqual(t, first, generatedPassword(t, again.Properties), "each create generates its own password")

	got, err := s.Read(p.ReadRequest{ID: id, Urn: scramURN("g"), Properties: created.Properties, Inputs: checked})
	require.NoError(t, err)
	assert.Equal(t, first, got.Properties.Get("password").AsString(), "a refresh keeps the generated password")
	_, hasPw := got.Inputs.GetOk("password")
	assert.False(t, hasPw, "the generated password is no input")
	d, err := s.Diff(p.DiffRequest{ID: id, Urn: scramURN("g"), State: got.Properties, Inputs: checked})
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "no diff after create: %v", d.DetailedDiff)

	more, failures := checkScram(t, s, with(genProps("gen", ScramSHA512, "1"), "scramIterations", property.New(8192.0)))
	require.Empty(t, failures)
	upd, err := s.Update(p.UpdateRequest{ID: id, Urn: scramURN("g"), State: got.Properties, Inputs: more})
	require.NoError(t, err)
	assert.Equal(t, first, generatedPassword(t, upd.Properties), "new iterations keep the password")
	assert.Equal(t, map[string]int{ScramSHA512: 8192}, describeScram(t, c.adm, "gen"))

	bumped, failures := checkScram(t, s, with(genProps("gen", ScramSHA512, "2"), "scramIterations", property.New(8192.0)))
	require.Empty(t, failures)
	d, err = s.Diff(p.DiffRequest{ID: id, Urn: scramURN("g"), State: upd.Properties, Inputs: bumped})
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{"passwordWoVersion": {Kind: p.Update}}, d.DetailedDiff)
	rotated, err := s.Update(p.UpdateRequest{ID: id, Urn: scramURN("g"), State: upd.Properties, Inputs: bumped})
	require.NoError(t, err)
	second := generatedPassword(t, rotated.Properties)
	assert.NotEqual(t, first, second, "a new passwordWoVersion generates a new password")
	assert.Equal(t, "2", rotated.Properties.Get("passwordWoVersion").AsString())
}
