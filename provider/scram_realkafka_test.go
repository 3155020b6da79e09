//go:build realkafka

package provider

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	upoll "github.com/umbrella-platform/umbrella-streaming/internal/poll"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// UserScramCredential and getTopic/getTopics against real Kafka 4.1.1:
// logins over SASL_SSL with the credentials the provider writes, Kafka's own
// iteration limits, and what Read and the functions report of changes made
// behind the provider's back.

// scramLogin connects to the SASL_SSL listener as user with password over
// mechanism and returns the error of the first request (nil: logged in).
func scramLogin(t *testing.T, s *secureKafka, mechanism, user, password string) error {
	t.Helper()
	return scramLoginAt(t, s, s.saslAddrs(), mechanism, user, password)
}

// scramLoginAt is scramLogin with the client seeded with addrs only: its first
// request, which authenticates, goes to one of them.
func scramLoginAt(t *testing.T, s *secureKafka, addrs []string, mechanism, user, password string) error {
	t.Helper()
	auth := scram.Auth{User: user, Pass: password}
	var m sasl.Mechanism = auth.AsSha256Mechanism()
	if mechanism == ScramSHA512 {
		m = auth.AsSha512Mechanism()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.DialTLSConfig(s.tlsConfig(t)), kgo.SASL(m),
		kgo.RequestRetries(0))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// waitLogin waits until the password logs in: a broker applies a credential
// from its copy of the metadata a moment after the controller commits it.
func waitLogin(t *testing.T, s *secureKafka, mechanism, user, password string) {
	t.Helper()
	var last error
	err := upoll.Until(context.Background(), 100*time.Millisecond, 20*time.Second, func(context.Context) (bool, error) {
		last = scramLogin(t, s, mechanism, user, password)
		return last == nil, nil
	})
	require.NoError(t, err, "user %s (%s) never logged in; last: %v", user, mechanism, last)
}

// assertRefused checks that a login with the password is refused by SASL.
func assertRefused(t *testing.T, s *secureKafka, mechanism, user, password string) {
	t.Helper()
	err := scramLogin(t, s, mechanism, user, password)
	require.Error(t, err, "user %s (%s) must not log in with this password", user, mechanism)
	assert.ErrorIs(t, err, kerr.SaslAuthenticationFailed)
}

// createScram runs Check and Create, as `pulumi up` does, and returns the checked inputs and the state.
func createScram(t *testing.T, s *testServer, inputs property.Map) (property.Map, p.CreateResponse) {
	t.Helper()
	checked, failures := checkScram(t, s, inputs)
	require.Empty(t, failures)
	created, err := s.Create(p.CreateRequest{Urn: scramURN("c"), Properties: checked})
	require.NoError(t, err)
	return checked, created
}

// TestRealKafkaScramLoginAndRotate creates a SCRAM-SHA-256 and a
// SCRAM-SHA-512 credential through the provider (itself on SASL_SSL as the
// super user), logs in with each, changes each password through Update (the
// 512 one as passwordWo with a new passwordWoVersion) and checks that the new
// password logs in and the old one is refused. A Read right after Create
// shows no diff.
func TestRealKafkaScramLoginAndRotate(t *testing.T) {
	s := secureCluster(t)
	admin, adminPass := s.superUser()
	srv := s.serverWith(t, s.saslProps(localkafka.MechanismScramSHA512, admin, adminPass))

	t.Run(ScramSHA256, func(t *testing.T) {
		const user = "app-256"
		id := kafkaadmin.ScramID(user, ScramSHA256)
		checked, created := createScram(t, srv, scramProps(user, ScramSHA256, 0, "first-secret-256"))
		assert.Equal(t, id, created.ID)
		waitLogin(t, s, ScramSHA256, user, "first-secret-256")
		assertRefused(t, s, ScramSHA256, user, "not-the-password")
		assertRefused(t, s, ScramSHA512, user, "first-secret-256") // one credential per mechanism

		read, err := srv.Read(p.ReadRequest{ID: id, Urn: scramURN("c"), Properties: created.Properties, Inputs: checked})
		require.NoError(t, err)
		d, err := srv.Diff(p.DiffRequest{ID: id, Urn: scramURN("c"), State: read.Properties, Inputs: checked})
		require.NoError(t, err)
		assert.False(t, d.HasChanges, "read after create must show no diff: %v", d.DetailedDiff)

		news, failures := checkScram(t, srv, scramProps(user, ScramSHA256, 0, "second-secret-256"))
		require.Empty(t, failures)
		d, err = srv.Diff(p.DiffRequest{ID: id, Urn: scramURN("c"), State: read.Properties, Inputs: news})
		require.NoError(t, err)
		assert.Equal(t, map[string]p.PropertyDiff{"password": {Kind: p.Update}}, d.DetailedDiff)
		_, err = srv.Update(p.UpdateRequest{ID: id, Urn: scramURN("c"), State: read.Properties, Inputs: news})
		require.NoError(t, err)
		waitLogin(t, s, ScramSHA256, user, "second-secret-256")
		assertRefused(t, s, ScramSHA256, user, "first-secret-256")
	})

	t.Run(ScramSHA512+" write-only", func(t *testing.T) {
		const user = "app-512"
		id := kafkaadmin.ScramID(user, ScramSHA512)
		wo := func(password, version string) property.Map {
			m := scramProps(user, ScramSHA512, 8192, "")
			m = with(m, "passwordWo", property.New(password).WithSecret(true))
			return with(m, "passwordWoVersion", property.New(version))
		}
		_, created := createScram(t, srv, wo("first-secret-512", "1"))
		assert.Equal(t, map[string]int{ScramSHA512: 8192}, describeScram(t, s.plain.adm, user))
		waitLogin(t, s, ScramSHA512, user, "first-secret-512")

		news, failures := checkScram(t, srv, wo("second-secret-512", "2"))
		require.Empty(t, failures)
		d, err := srv.Diff(p.DiffRequest{ID: id, Urn: scramURN("c"), State: created.Properties, Inputs: news})
		require.NoError(t, err)
		assert.Equal(t, map[string]p.PropertyDiff{"passwordWoVersion": {Kind: p.Update}}, d.DetailedDiff)
		upd, err := srv.Update(p.UpdateRequest{ID: id, Urn: scramURN("c"), State: created.Properties, Inputs: news})
		require.NoError(t, err)
		_, has := upd.Properties.GetOk("passwordWo")
		assert.False(t, has, "passwordWo must not be an output")
		waitLogin(t, s, ScramSHA512, user, "second-secret-512")
		assertRefused(t, s, ScramSHA512, user, "first-secret-512")

		require.NoError(t, srv.Delete(p.DeleteRequest{ID: id, Urn: scramURN("c"), Properties: upd.Properties}))
		assert.Empty(t, describeScram(t, s.plain.adm, user))
		assertRefused(t, s, ScramSHA512, user, "second-secret-512")
	})

	// A provider principal without the cluster Alter ACL: Kafka refuses the
	// write, and the error names the ACL to grant, never the password.
	t.Run("without the cluster ACL", func(t *testing.T) {
		s.addScramUser(t, localkafka.MechanismScramSHA512, "no-acl", "no-acl-secret")
		weak := s.serverWith(t, s.saslProps(localkafka.MechanismScramSHA512, "no-acl", "no-acl-secret"))
		checked, failures := checkScram(t, weak, scramProps("victim", ScramSHA256, 0, "victim-secret"))
		require.Empty(t, failures)
		_, err := weak.Create(p.CreateRequest{Urn: scramURN("v"), Properties: checked})
		require.Error(t, err)
		t.Logf("the refusal: %v", err)
		// Create first describes the user's credentials (to warn when it takes one over).
		assert.Contains(t, err.Error(), `SCRAM credentials of user "victim": DescribeUserScramCredentials: CLUSTER_AUTHORIZATION_FAILED`)
		assert.Contains(t, err.Error(), "--operation Alter --operation Describe --cluster")
		assert.NotContains(t, err.Error(), "victim-secret")
		assert.Empty(t, describeScram(t, s.plain.adm, "victim"))
	})
}

// TestRealKafkaScramEveryBrokerAtOnce: on 3 nodes, Create returns only
// once every broker has the credential, so a login on each broker right
// after it (no retry) succeeds; Delete returns only once every broker has
// dropped it, so a login on each right after it is refused. It guards the
// waits on every broker: each broker applies the controller's record at
// its own pace.
func TestRealKafkaScramEveryBrokerAtOnce(t *testing.T) {
	s := secureClusterN(t, 3, nil)
	admin, adminPass := s.superUser()
	srv := s.serverWith(t, s.saslProps(localkafka.MechanismScramSHA512, admin, adminPass))
	addrs := s.saslAddrs()
	require.Len(t, addrs, 3)

	const user = "everywhere"
	_, created := createScram(t, srv, scramProps(user, ScramSHA512, 0, "everywhere-secret"))
	for _, addr := range addrs {
		assert.NoError(t, scramLoginAt(t, s, []string{addr}, ScramSHA512, user, "everywhere-secret"), "broker %s", addr)
	}
	require.NoError(t, srv.Delete(p.DeleteRequest{ID: created.ID, Urn: scramURN("c"), Properties: created.Properties}))
	for _, addr := range addrs {
		assert.ErrorIs(t, scramLoginAt(t, s, []string{addr}, ScramSHA512, user, "everywhere-secret"),
			kerr.SaslAuthenticationFailed, "broker %s", addr)
	}
}

// TestRealKafkaScramIterationLimits proves the limits Check enforces are
// Kafka 4.1's: the controller refuses 4095 and 16385 iterations with
// UNACCEPTABLE_CREDENTIAL and accepts 4096 and 16384. The salted password
// is derived here, since kadm refuses out-of-range iterations itself when it
// derives it.
func TestRealKafkaScramIterationLimits(t *testing.T) {
	_, c := realCluster(t, "dev")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	salt := make([]byte, 24)
	_, err := rand.Read(salt)
	require.NoError(t, err)
	salted := sha256.Sum256([]byte("any"))
	for n, want := range map[int32]error{4095: kerr.UnacceptableCredential, 4096: nil, 16384: nil, 16385: kerr.UnacceptableCredential} {
		res, err := c.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "limits", Mechanism: kadm.ScramSha256,
			Iterations: n, Salt: salt, SaltedPassword: salted[:]}})
		require.NoError(t, err)
		if want == nil {
			assert.NoError(t, res["limits"].Err, "iterations %d", n)
		} else {
			assert.ErrorIs(t, res["limits"].Err, want, "iterations %d (%s)", n, res["limits"].ErrMessage)
		}
	}
	assert.Equal(t, ScramMinIterations, 4096)
	assert.Equal(t, ScramMaxIterations, 16384)
}

// TestRealKafkaScramReadImportAndDrift: import by ID reproduces mechanism
// and iterations; iterations changed with kadm show in Read (and as a diff
// against the program); a credential deleted with kadm reads as gone, and
// deleting it through the provider then succeeds. AlterUserScramCredentials
// works over PLAINTEXT, so the plain 1-node cluster suffices.
func TestRealKafkaScramReadImportAndDrift(t *testing.T) {
	_, c := realCluster(t, "dev")
	srv := server(t, c.addrs, nil)
	const user = "drift"
	id := kafkaadmin.ScramID(user, ScramSHA512)
	checked, created := createScram(t, srv, scramProps(user, ScramSHA512, 8192, "drift-secret"))
	assert.Equal(t, map[string]int{ScramSHA512: 8192}, describeScram(t, c.adm, user))

	imported, err := srv.Read(p.ReadRequest{ID: id, Urn: scramURN("imported")})
	require.NoError(t, err)
	assert.Equal(t, id, imported.ID)
	assert.Equal(t, ScramSHA512, imported.Inputs.Get("scramMechanism").AsString())
	assert.Equal(t, user, imported.Inputs.Get("username").AsString())
	assert.Equal(t, 8192.0, imported.Inputs.Get("scramIterations").AsNumber())
	assert.Equal(t, 8192.0, imported.Properties.Get("scramIterations").AsNumber())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: user, Mechanism: kadm.ScramSha512,
		Iterations: 12288, Password: "changed-behind-our-back"}})
	require.NoError(t, err)
	require.NoError(t, res.Error())
	awaitState(t, "the broker shows the credential changed out of band", func(context.Context) (bool, string) {
		got := describeScram(t, c.adm, user)
		return got[ScramSHA512] == 12288, fmt.Sprint(got)
	})
	read, err := srv.Read(p.ReadRequest{ID: id, Urn: scramURN("c"), Properties: created.Properties, Inputs: checked})
	require.NoError(t, err)
	assert.Equal(t, 12288.0, read.Properties.Get("scramIterations").AsNumber())
	assert.True(t, read.Properties.Get("password").Secret(), "the recorded password stays a secret")
	d, err := srv.Diff(p.DiffRequest{ID: id, Urn: scramURN("c"), State: read.Properties, Inputs: checked})
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{"scramIterations": {Kind: p.Update}}, d.DetailedDiff)

	res, err = c.adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	require.NoError(t, err)
	require.NoError(t, res.Error())
	awaitState(t, "the broker no longer shows the credential deleted out of band", func(context.Context) (bool, string) {
		got := describeScram(t, c.adm, user)
		return len(got) == 0, fmt.Sprint(got)
	})
	gone, err := srv.Read(p.ReadRequest{ID: id, Urn: scramURN("c"), Properties: read.Properties, Inputs: checked})
	require.NoError(t, err)
	assert.Equal(t, "", gone.ID, "a credential deleted outside Pulumi reads as gone")
	require.NoError(t, srv.Delete(p.DeleteRequest{ID: id, Urn: scramURN("c"), Properties: read.Properties}))
}

// TestRealKafkaTopicFunctions: getTopic and getTopics report what real Kafka
// has for topics created and configured with kadm: partitions, replication
// factor and only the topic's own (dynamic) configs, a config changed
// behind the provider's back, and a clear error for a missing topic.
func TestRealKafkaTopicFunctions(t *testing.T) {
	lk, c := realCluster(t, "prod") // 3 nodes, so replication factors differ
	srv := server(t, c.addrs, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	compact, retention := "compact", "3600000"
	for _, tc := range []struct {
		name       string
		partitions int32
		rf         int16
		cfg        map[string]*string
	}{
		{"fn-orders", 3, 3, map[string]*string{"cleanup.policy": &compact, "retention.ms": &retention}},
		{"fn-audit", 1, 2, nil},
	} {
		resp, err := c.adm.CreateTopic(ctx, tc.partitions, tc.rf, tc.cfg, tc.name)
		require.NoError(t, err)
		require.NoError(t, resp.Err)
		require.NoError(t, lk.WaitInSync(ctx, tc.name, int(tc.rf)))
		require.NoError(t, lk.WaitPropagated(ctx, tc.name, int(tc.partitions)))
	}

	getTopic := func(name string) (property.Map, error) {
		out, failures, err := srv.Invoke("umbrellakafka:index:getTopic", property.NewMap(map[string]property.Value{"name": property.New(name)}))
		require.Empty(t, failures)
		return out, err
	}
	out, err := getTopic("fn-orders")
	require.NoError(t, err)
	assert.Equal(t, property.NewMap(map[string]property.Value{
		"name":              property.New("fn-orders"),
		"partitions":        property.New(3.0),
		"replicationFactor": property.New(3.0),
		"config": property.New(map[string]property.Value{
			"cleanup.policy": property.New("compact"), "retention.ms": property.New("3600000"),
		}),
	}), out)

	alter, err := c.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("7200000")}}, "fn-orders")
	require.NoError(t, err)
	require.NoError(t, alter[0].Err)
	// getTopic and getTopics may each ask another of the three brokers.
	awaitState(t, "every broker shows the changed retention.ms", func(context.Context) (bool, string) {
		views := brokerViews(t, c, "fn-orders")
		for id, v := range views {
			if v.Config["retention.ms"] != "7200000" {
				return false, fmt.Sprintf("broker %d shows %v", id, v.Config)
			}
		}
		return len(views) == 3, fmt.Sprintf("%d brokers", len(views))
	})
	require.NoError(t, upoll.Until(ctx, 100*time.Millisecond, 20*time.Second, func(context.Context) (bool, error) {
		out, err = getTopic("fn-orders")
		return err == nil && out.Get("config").AsMap().Get("retention.ms").AsString() == "7200000", err
	}), "getTopic must report the changed retention.ms")

	_, err = getTopic("fn-missing")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `topic "fn-missing" does not exist in the Kafka cluster`)

	all, failures, err := srv.Invoke("umbrellakafka:index:getTopics", property.Map{})
	require.NoError(t, err)
	require.Empty(t, failures)
	byName := map[string]property.Map{}
	var names []string
	for _, v := range all.Get("lists").AsArray().All {
		m := v.AsMap()
		byName[m.Get("topicName").AsString()] = m
		names = append(names, m.Get("topicName").AsString())
	}
	assert.IsNonDecreasing(t, names, "lists are sorted by name")
	assert.Equal(t, property.NewMap(map[string]property.Value{
		"topicName":         property.New("fn-audit"),
		"partitions":        property.New(1.0),
		"replicationFactor": property.New(2.0),
		"config":            property.New(map[string]property.Value{}),
	}), byName["fn-audit"])
	assert.Equal(t, 3.0, byName["fn-orders"].Get("partitions").AsNumber())
	assert.Equal(t, 3.0, byName["fn-orders"].Get("replicationFactor").AsNumber())
	assert.Equal(t, "7200000", byName["fn-orders"].Get("config").AsMap().Get("retention.ms").AsString())
	assert.Equal(t, "compact", byName["fn-orders"].Get("config").AsMap().Get("cleanup.policy").AsString())
}
