//go:build realkafka

package provider

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// TestAclQuotaRealKafka proves the Acl and Quota resources against a real
// Kafka 4.1.1 node running the StandardAuthorizer with SASL_SSL and MTLS
// listeners (secure_realkafka_test.go). The provider under test talks to the
// SASL_SSL listener as the SCRAM-SHA-512 super user; the clients whose access
// the ACLs and quotas govern are SCRAM users and client certificates. One
// node serves every subtest (a JVM start costs seconds on this machine); each
// subtest uses its own principals, topics and quota entities.
func TestAclQuotaRealKafka(t *testing.T) {
	s := secureCluster(t)
	user, pass := s.superUser()
	srv := s.serverWith(t, s.saslProps(localkafka.MechanismScramSHA512, user, pass))

	t.Run("LeastPrivilege", func(t *testing.T) { testLeastPrivilege(t, s, srv) })
	t.Run("ReplaceKeepsAccess", func(t *testing.T) { testReplaceKeepsAccess(t, s, srv) })
	t.Run("QuotaThrottles", func(t *testing.T) { testQuotaThrottles(t, s, srv) })
	t.Run("NoPerpetualDiffAndRefresh", func(t *testing.T) { testNoPerpetualDiffAndRefresh(t, s, srv) })
	t.Run("ImportByID", func(t *testing.T) { testImportByID(t, s, srv) })
	t.Run("KafkaRefusesWhatCheckRefuses", func(t *testing.T) { testKafkaRefusesWhatCheckRefuses(t, s) })
	t.Run("MissingClusterPermission", func(t *testing.T) { testMissingClusterPermission(t, s) })
}

// testLeastPrivilege: a SCRAM user and a certificate user, each with only a
// topic WRITE ACL created through the provider, can produce to the topic and
// cannot read it; once the provider deletes the SCRAM user's ACL, that user
// cannot produce either.
func testLeastPrivilege(t *testing.T, s *secureKafka, srv *testServer) {
	const topic, writer, certWriter = "lp-orders", "lp-writer", "lp-cert-writer"
	s.addScramUser(t, localkafka.MechanismScramSHA512, writer, "writer-secret")
	mustCreate(t, srv, topicProps(topic, 1, 1, nil))

	urn := resURN(AclToken, "writer")
	id, _, state := upResource(t, srv, urn, aclSpec{topic, "Topic", "User:" + writer, "*", "Write", "Allow", ""}.props())
	upResource(t, srv, resURN(AclToken, "cert"), aclSpec{topic, "Topic", "User:" + certWriter, "*", "WRITE", "ALLOW", ""}.props())

	scramCl := s.scramClient(t, writer, "writer-secret")
	require.NoError(t, produceOne(scramCl, topic), "the WRITE ACL lets the SCRAM user produce")
	require.ErrorIs(t, fetchErr(s.scramClient(t, writer, "writer-secret", consumeFrom(topic)...)), kerr.TopicAuthorizationFailed,
		"WRITE alone does not let it read")
	group := s.scramClient(t, writer, "writer-secret", kgo.ConsumeTopics(topic), kgo.ConsumerGroup("lp-group"))
	require.ErrorIs(t, fetchErr(group), kerr.GroupAuthorizationFailed, "nor join a consumer group")

	certCl := s.mtlsClient(t, certWriter)
	require.NoError(t, produceOne(certCl, topic), "the WRITE ACL lets the certificate user produce over mTLS")
	require.ErrorIs(t, fetchErr(s.mtlsClient(t, certWriter, consumeFrom(topic)...)), kerr.TopicAuthorizationFailed)

	require.NoError(t, srv.Delete(p.DeleteRequest{ID: id, Urn: urn, Properties: state}))
	err := produceOne(s.scramClient(t, writer, "writer-secret"), topic)
	require.ErrorIs(t, err, kerr.TopicAuthorizationFailed, "deleting the ACL stops the producer")
	require.ErrorIs(t, produceOne(scramCl, topic), kerr.TopicAuthorizationFailed, "also on a connection opened before")
	require.NoError(t, produceOne(certCl, topic), "the other principal's ACL is untouched")
}

// testReplaceKeepsAccess follows the engine through a replacement (a new
// aclHost): Diff says replace with the new binding first, Create adds it
// while the old one still exists, Delete removes only the old one; the
// producer, connecting from 127.0.0.1, can write after every step.
func testReplaceKeepsAccess(t *testing.T, s *secureKafka, srv *testServer) {
	const topic, writer = "replace-orders", "replace-writer"
	s.addScramUser(t, localkafka.MechanismScramSHA512, writer, "writer-secret")
	mustCreate(t, srv, topicProps(topic, 1, 1, nil))
	urn := resURN(AclToken, "replace")
	oldID, _, oldState := upResource(t, srv, urn, aclSpec{topic, "Topic", "User:" + writer, "*", "Write", "Allow", ""}.props())
	cl := s.scramClient(t, writer, "writer-secret")
	require.NoError(t, produceOne(cl, topic))

	news := checked(t, srv, urn, aclSpec{topic, "Topic", "User:" + writer, "127.0.0.1", "Write", "Allow", ""}.props())
	d, err := srv.Diff(p.DiffRequest{ID: oldID, Urn: urn, State: oldState, Inputs: news})
	require.NoError(t, err)
	require.Equal(t, map[string]p.DiffKind{"aclHost": p.UpdateReplace}, diffKinds(d))
	require.False(t, d.DeleteBeforeReplace, "the new binding is created first")

	created, err := srv.Create(p.CreateRequest{Urn: urn, Properties: news})
	require.NoError(t, err)
	require.NoError(t, produceOne(cl, topic), "both bindings exist")
	require.NoError(t, srv.Delete(p.DeleteRequest{ID: oldID, Urn: urn, Properties: oldState}))
	require.NoError(t, produceOne(cl, topic), "the new binding alone grants the write")
	assert.Equal(t, []string{"User:" + writer + " 127.0.0.1 Topic " + topic + " Literal Write Allow"},
		aclsOf(t, s.plain, "User:"+writer))
	require.NoError(t, srv.Delete(p.DeleteRequest{ID: created.ID, Urn: urn, Properties: created.Properties}))
}

// aclsOf is describeAllAcls narrowed to one principal.
func aclsOf(t *testing.T, c *testCluster, principal string) []string {
	t.Helper()
	var out []string
	for _, a := range describeAllAcls(t, c) {
		if strings.HasPrefix(a, principal+" ") {
			out = append(out, a)
		}
	}
	return out
}

func diffKinds(d p.DiffResponse) map[string]p.DiffKind {
	kinds := map[string]p.DiffKind{}
	for k, v := range d.DetailedDiff {
		kinds[k] = v.Kind
	}
	return kinds
}

// testQuotaThrottles: a producer_byte_rate quota created through the provider
// shows in DescribeClientQuotas and makes the broker throttle the user's
// produce requests (ThrottleMillis > 0 in the response), where the same
// traffic before the quota was not throttled. Read after create and update
// shows no drift.
func testQuotaThrottles(t *testing.T, s *secureKafka, srv *testServer) {
	const topic, producer = "quota-orders", "quota-producer"
	s.addScramUser(t, localkafka.MechanismScramSHA512, producer, "producer-secret")
	mustCreate(t, srv, topicProps(topic, 1, 1, nil))
	upResource(t, srv, resURN(AclToken, "quota-writer"), aclSpec{topic, "Topic", "User:" + producer, "*", "Write", "Allow", ""}.props())

	// 160 KiB in one go: far above 1 KiB/s over any of Kafka's quota windows.
	before := s.maxThrottle(t, producer, "producer-secret", topic, 160<<10)
	require.Zero(t, before, "no quota, no throttling")

	urn := resURN(QuotaToken, "producer")
	id, in, state := upResource(t, srv, urn, quotaProps(ptr(producer), "user", map[string]string{"producer_byte_rate": "1024"}))
	assert.Equal(t, map[string]float64{"producer_byte_rate": 1024}, describeQuota(t, s.plain, "user", producer))
	read, err := srv.Read(p.ReadRequest{ID: id, Urn: urn, Properties: state, Inputs: in})
	require.NoError(t, err)
	requireNoDiff(t, srv, urn, id, read.Properties, in)

	after := s.maxThrottle(t, producer, "producer-secret", topic, 160<<10)
	require.Positive(t, after, "the broker throttles the user once the quota exists")
	t.Logf("throttle with producer_byte_rate=1024: %s", after)

	news := checked(t, srv, urn, quotaProps(ptr(producer), "user",
		map[string]string{"producer_byte_rate": "1073741824.0", "consumer_byte_rate": "2048"}))
	up, err := srv.Update(p.UpdateRequest{ID: id, Urn: urn, State: read.Properties, Inputs: news})
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"producer_byte_rate": 1 << 30, "consumer_byte_rate": 2048},
		describeQuota(t, s.plain, "user", producer))
	read, err = srv.Read(p.ReadRequest{ID: id, Urn: urn, Properties: up.Properties, Inputs: news})
	require.NoError(t, err)
	assert.Equal(t, news, read.Inputs, "Kafka's 1073741824 keeps the program's spelling 1073741824.0")
	requireNoDiff(t, srv, urn, id, read.Properties, news)

	require.NoError(t, srv.Delete(p.DeleteRequest{ID: id, Urn: urn, Properties: read.Properties}))
	assert.Empty(t, describeQuota(t, s.plain, "user", producer))
}

// testNoPerpetualDiffAndRefresh: Read right after Create gives inputs whose
// Diff against the program is empty, for both resources (including a program
// that spells the ACL enums in capitals); a refresh after an out-of-band
// change shows it: a deleted ACL reads as gone, a changed quota value reads
// as the new value and diffs as an update.
func testNoPerpetualDiffAndRefresh(t *testing.T, s *secureKafka, srv *testServer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	aURN := resURN(AclToken, "refresh")
	program := aclSpec{"refresh.", "TOPIC", "User:refresh", "*", "DESCRIBE_CONFIGS", "DENY", "PREFIXED"}.props()
	aID, aIn, aState := upResource(t, srv, aURN, program)
	aRead, err := srv.Read(p.ReadRequest{ID: aID, Urn: aURN, Properties: aState, Inputs: aIn})
	require.NoError(t, err)
	assert.Equal(t, aID, aRead.ID)
	requireNoDiff(t, srv, aURN, aID, aRead.Properties, checked(t, srv, aURN, program))

	// TwoPhaseCommit (Kafka 4.x, not named by franz-go) is sent as Kafka's code 15.
	tURN := resURN(AclToken, "two-phase")
	tID, tIn, tState := upResource(t, srv, tURN, aclSpec{"refresh-tx", "transactional_id", "User:refresh", "*", "TWO_PHASE_COMMIT", "Allow", ""}.props())
	assert.Equal(t, []string{"User:refresh * Topic refresh. Prefixed DescribeConfigs Deny",
		"User:refresh * TransactionalID refresh-tx Literal TwoPhaseCommit Allow"}, aclsOf(t, s.plain, "User:refresh"))
	tRead, err := srv.Read(p.ReadRequest{ID: tID, Urn: tURN, Properties: tState, Inputs: tIn})
	require.NoError(t, err)
	requireNoDiff(t, srv, tURN, tID, tRead.Properties, tIn)
	require.NoError(t, srv.Delete(p.DeleteRequest{ID: tID, Urn: tURN, Properties: tRead.Properties}))

	deleted, err := s.plain.adm.DeleteACLs(ctx, kadm.NewACLs().Deny("User:refresh").DenyHosts("*").Topics("refresh.").
		ResourcePatternType(kadm.ACLPatternPrefixed).Operations(kadm.OpDescribeConfigs))
	require.NoError(t, err)
	require.Len(t, deleted, 1)
	require.NoError(t, deleted[0].Err)
	require.Len(t, deleted[0].Deleted, 1, "kadm deleted the ACL")
	awaitState(t, "the broker no longer shows the ACL deleted out of band", func(context.Context) (bool, string) {
		acls := aclsOf(t, s.plain, "User:refresh")
		return !slices.Contains(acls, "User:refresh * Topic refresh. Prefixed DescribeConfigs Deny"), fmt.Sprint(acls)
	})
	gone, err := srv.Read(p.ReadRequest{ID: aID, Urn: aURN, Properties: aRead.Properties, Inputs: aIn})
	require.NoError(t, err)
	assert.Empty(t, gone.ID, "a refresh finds the ACL deleted out of band")

	qURN := resURN(QuotaToken, "refresh")
	qProgram := quotaProps(nil, "client-id", map[string]string{"request_percentage": "2500.5", "producer_byte_rate": "5000000"})
	qID, qIn, qState := upResource(t, srv, qURN, qProgram)
	qRead, err := srv.Read(p.ReadRequest{ID: qID, Urn: qURN, Properties: qState, Inputs: qIn})
	require.NoError(t, err)
	requireNoDiff(t, srv, qURN, qID, qRead.Properties, qIn)

	altered, err := s.plain.adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
		Entity: kadm.ClientQuotaEntity{{Type: "client-id"}},
		Ops:    []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Value: 7000000}},
	}})
	require.NoError(t, err)
	require.NoError(t, altered[0].Err)
	awaitState(t, "the broker shows the quota changed out of band", func(context.Context) (bool, string) {
		q := describeQuota(t, s.plain, "client-id", "")
		return q["producer_byte_rate"] == 7000000, fmt.Sprint(q)
	})
	refreshed, err := srv.Read(p.ReadRequest{ID: qID, Urn: qURN, Properties: qRead.Properties, Inputs: qIn})
	require.NoError(t, err)
	assert.Equal(t, quotaProps(nil, "client-id", map[string]string{"request_percentage": "2500.5", "producer_byte_rate": "7000000"}),
		refreshed.Inputs, "a refresh shows the value changed out of band")
	d, err := srv.Diff(p.DiffRequest{ID: qID, Urn: qURN, State: refreshed.Properties, Inputs: qIn})
	require.NoError(t, err)
	require.Len(t, d.DetailedDiff, 1, "%v", d.DetailedDiff)
	assert.Equal(t, p.Update, d.DetailedDiff[`config["producer_byte_rate"]`].Kind, "the next up restores the program's value")
	require.NoError(t, srv.Delete(p.DeleteRequest{ID: qID, Urn: qURN, Properties: refreshed.Properties}))
}

// testImportByID: an ACL and quotas made outside Pulumi are read by their
// pulumi-kafka IDs alone, and the inputs read equal what the program would
// write, so the first up after `pulumi import` changes nothing.
func testImportByID(t *testing.T, s *secureKafka, srv *testServer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, err := s.plain.adm.CreateACLs(ctx, kadm.NewACLs().Allow("User:imported").AllowHosts("10.1.2.3").
		Groups("imported-").ResourcePatternType(kadm.ACLPatternPrefixed).Operations(kadm.OpRead))
	require.NoError(t, err)
	require.NoError(t, created[0].Err)
	awaitState(t, "the broker shows the ACL created out of band", func(context.Context) (bool, string) {
		acls := aclsOf(t, s.plain, "User:imported")
		return slices.Contains(acls, "User:imported 10.1.2.3 Group imported- Prefixed Read Allow"), fmt.Sprint(acls)
	})

	aURN := resURN(AclToken, "imported")
	imported := importByID(t, srv, aURN, "User:imported|10.1.2.3|READ|ALLOW|GROUP|imported-|PREFIXED")
	assert.Equal(t, "User:imported|10.1.2.3|Read|Allow|Group|imported-|Prefixed", imported.ID)
	program := checked(t, srv, aURN, aclSpec{"imported-", "Group", "User:imported", "10.1.2.3", "Read", "Allow", "Prefixed"}.props())
	assert.Equal(t, program, imported.Inputs)
	requireNoDiff(t, srv, aURN, imported.ID, imported.Properties, program)
	missing, err := srv.Read(p.ReadRequest{ID: "User:imported|10.1.2.3|Describe|Allow|Group|imported-|Prefixed", Urn: aURN})
	require.NoError(t, err)
	assert.Empty(t, missing.ID, "importing an ACL that does not exist finds nothing")

	name := "imported-app"
	altered, err := s.plain.adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
		Entity: kadm.ClientQuotaEntity{{Type: "client-id", Name: &name}},
		Ops:    []kadm.AlterClientQuotaOp{{Key: "consumer_byte_rate", Value: 1048576}, {Key: "request_percentage", Value: 12.5}},
	}})
	require.NoError(t, err)
	require.NoError(t, altered[0].Err)
	awaitState(t, "the broker shows the quota created out of band", func(context.Context) (bool, string) {
		q := describeQuota(t, s.plain, "client-id", name)
		return q["consumer_byte_rate"] == 1048576 && q["request_percentage"] == 12.5, fmt.Sprint(q)
	})
	qURN := resURN(QuotaToken, "imported")
	qProgram := checked(t, srv, qURN, quotaProps(ptr(name), "client-id",
		map[string]string{"consumer_byte_rate": "1048576", "request_percentage": "12.5"}))
	for _, id := range []string{"imported-app|client-id", "client-id:imported-app"} {
		q := importByID(t, srv, qURN, id)
		assert.Equal(t, "imported-app|client-id", q.ID, id)
		assert.Equal(t, qProgram, q.Inputs, id)
		requireNoDiff(t, srv, qURN, q.ID, q.Properties, qProgram)
	}
}

// testKafkaRefusesWhatCheckRefuses proves the quota and ACL rules of Check
// are Kafka's: each value Check refuses, Kafka refuses too (validate-only),
// and the valid ones it accepts.
func testKafkaRefusesWhatCheckRefuses(t *testing.T, s *secureKafka) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := "rules-user"
	validate := func(key string, v float64) error {
		res, err := s.plain.adm.ValidateAlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
			Entity: kadm.ClientQuotaEntity{{Type: "user", Name: &name}},
			Ops:    []kadm.AlterClientQuotaOp{{Key: key, Value: v}},
		}})
		if err != nil {
			return err
		}
		return res[0].Err
	}
	for _, c := range []struct {
		key   string
		value float64
	}{{"producer_byte_rate", 0}, {"producer_byte_rate", -1}, {"consumer_byte_rate", 1.5}, {"connection_creation_rate", 5},
		{"producer_byte_rat", 5}} {
		check := quotaValueFailure("user", c.key, formatQuotaValue(c.value))
		require.NotEmpty(t, check, "Check refuses %s=%v", c.key, c.value)
		require.Error(t, validate(c.key, c.value), "Kafka refuses %s=%v too", c.key, c.value)
	}
	for _, key := range quotaKeyNames(userClientQuotaKeys) {
		require.Empty(t, quotaValueFailure("user", key, "2"))
		require.NoError(t, validate(key, 2), "Kafka accepts %s=2", key)
	}

	// An ACL with a filter-only value is refused by Kafka as by Check.
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, "rules", kmsg.ACLResourcePatternTypeLiteral
	c.Principal, c.Host, c.Operation, c.PermissionType = "User:rules", "*", kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAllow
	req := kmsg.NewPtrCreateACLsRequest()
	req.Creations = append(req.Creations, c)
	resp, err := req.RequestWith(ctx, s.plain.raw)
	require.NoError(t, err)
	require.Error(t, kerr.ErrorForCode(resp.Results[0].ErrorCode), "Kafka refuses operation Any")
	require.NotEmpty(t, enumFailure("aclOperation", "Any", aclOperations))
}

// testMissingClusterPermission: a provider whose principal may not manage
// ACLs or quotas gets CLUSTER_AUTHORIZATION_FAILED with the permission to
// grant named, and nothing is created.
func testMissingClusterPermission(t *testing.T, s *secureKafka) {
	const weak = "weak-admin"
	s.addScramUser(t, localkafka.MechanismScramSHA512, weak, "weak-secret")
	srv := s.serverWith(t, s.saslProps(localkafka.MechanismScramSHA512, weak, "weak-secret"))
	in := checked(t, srv, resURN(AclToken, "weak"), writeAcl.props())
	_, err := srv.Create(p.CreateRequest{Urn: resURN(AclToken, "weak"), Properties: in})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "acl User:alice|*|Write|Allow|Topic|orders|Literal: CLUSTER_AUTHORIZATION_FAILED")
	assert.Contains(t, err.Error(), "the provider authenticates as User:<saslUsername>")
	assert.Contains(t, err.Error(), "which lacks the Describe permission on the cluster that DescribeAcls needs: grant it with "+
		"kafka-acls --bootstrap-server <broker> --add --allow-principal User:<saslUsername> --operation Describe --cluster")

	qIn := checked(t, srv, resURN(QuotaToken, "weak"), quotaProps(ptr("x"), "user", map[string]string{"producer_byte_rate": "1"}))
	_, err = srv.Create(p.CreateRequest{Urn: resURN(QuotaToken, "weak"), Properties: qIn})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `quota of user "x": CLUSTER_AUTHORIZATION_FAILED`)
	assert.Contains(t, err.Error(), "lacks the DescribeConfigs permission on the cluster that DescribeClientQuotas needs")
	assert.Empty(t, describeQuota(t, s.plain, "user", "x"))
}

// TestAclWithoutAuthorizer: on brokers with no authorizer Kafka answers
// SECURITY_DISABLED, and the error says how to enable one.
func TestAclWithoutAuthorizer(t *testing.T) {
	_, c := realCluster(t, "dev")
	srv := server(t, c.addrs, nil)
	in := checked(t, srv, resURN(AclToken, "a"), writeAcl.props())
	_, err := srv.Create(p.CreateRequest{Urn: resURN(AclToken, "a"), Properties: in})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "acl User:alice|*|Write|Allow|Topic|orders|Literal: SECURITY_DISABLED")
	assert.Contains(t, err.Error(), "the brokers run no authorizer, so Kafka keeps no ACLs: set "+
		"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer on every broker and controller")
}

// scramClient is a SCRAM-SHA-512 client of the SASL_SSL listener; it is
// closed when the test ends. Requests are not retried, so an authorization
// error surfaces at once.
func (s *secureKafka) scramClient(t *testing.T, user, password string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.saslAddrs()...), kgo.DialTLSConfig(s.tlsConfig(t)),
		kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// mtlsClient is a client of the MTLS listener whose certificate makes it
// User:<cn>; it is closed when the test ends.
func (s *secureKafka) mtlsClient(t *testing.T, cn string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cert, err := s.clientCert(t, cn).TLS()
	require.NoError(t, err)
	tc := s.tlsConfig(t)
	tc.Certificates = []tls.Certificate{cert}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.mtlsAddrs()...), kgo.DialTLSConfig(tc)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// consumeFrom reads partition 0 of topic from the start, with no group.
func consumeFrom(topic string) []kgo.Opt {
	return []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}})}
}

// produceOne writes one record and returns the produce error.
func produceOne(cl *kgo.Client, topic string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr()
}

// fetchErr polls a consuming client until it reports an error (the test
// expects one) and returns it, or the context error after 30 s.
func fetchErr(cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var first error
		fs.EachError(func(_ string, _ int32, err error) {
			if first == nil && !errors.Is(err, context.DeadlineExceeded) {
				first = err
			}
		})
		if first != nil {
			return first
		}
	}
}

// throttleHook records the longest throttle any broker asked for.
type throttleHook struct{ max atomic.Int64 }

func (h *throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	for {
		cur := h.max.Load()
		if int64(d) <= cur || h.max.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// maxThrottle produces size bytes as one SCRAM user in records of 8 KiB with
// a fresh client and returns the longest throttle the broker put in its
// produce responses.
func (s *secureKafka) maxThrottle(t *testing.T, user, password, topic string, size int) time.Duration {
	t.Helper()
	hook := &throttleHook{}
	cl := s.scramClient(t, user, password, kgo.WithHooks(hook), kgo.ProducerLinger(0))
	recs := make([]*kgo.Record, 0, size/(8<<10))
	for range size / (8 << 10) {
		v := make([]byte, 8<<10)
		_, err := rand.Read(v) // random, so compression cannot shrink what the quota counts
		require.NoError(t, err)
		recs = append(recs, &kgo.Record{Topic: topic, Value: v})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, cl.ProduceSync(ctx, recs...).FirstErr())
	return time.Duration(hook.max.Load())
}

// TestAclQuotaEveryBrokerRealKafka: on three brokers, each one alone shows an
// ACL and a quota as soon as the provider's Create returns, and none shows
// them once Delete returns, so whichever broker a client or the next Read
// reaches agrees with the state.
func TestAclQuotaEveryBrokerRealKafka(t *testing.T) {
	s := secureClusterN(t, 3, nil)
	user, pass := s.superUser()
	srv := s.serverWith(t, s.saslProps(localkafka.MechanismScramSHA512, user, pass))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	view := kafkaadmin.Wrap(s.plain.raw, 10*time.Second)
	ids, err := view.BrokerIDs(ctx)
	require.NoError(t, err)
	require.Len(t, ids, 3)
	everyBroker := func(what string, check func(kmsg.Requestor) bool) {
		t.Helper()
		for _, id := range ids {
			require.True(t, check(view.Broker(id)), "broker %d: %s", id, what)
		}
	}

	acl := aclArgs(aclSpec{"everywhere", "Topic", "User:everywhere", "*", "Read", "Allow", "Literal"})
	aURN := resURN(AclToken, "everywhere")
	aID, _, aState := upResource(t, srv, aURN, aclSpec{"everywhere", "Topic", "User:everywhere", "*", "Read", "Allow", ""}.props())
	everyBroker("shows the ACL", func(r kmsg.Requestor) bool {
		ok, err := view.ACLExists(ctx, r, aclBinding(acl))
		require.NoError(t, err)
		return ok
	})
	quota := QuotaArgs{EntityName: ptr("everywhere"), EntityType: "user"}
	qURN := resURN(QuotaToken, "everywhere")
	qID, _, qState := upResource(t, srv, qURN, quotaProps(ptr("everywhere"), "user", map[string]string{"consumer_byte_rate": "65536"}))
	everyBroker("shows the quota", func(r kmsg.Requestor) bool {
		have, err := view.DescribeQuota(ctx, r, quotaEntity(quota))
		require.NoError(t, err)
		return have["consumer_byte_rate"] == 65536
	})

	require.NoError(t, srv.Delete(p.DeleteRequest{ID: aID, Urn: aURN, Properties: aState}))
	everyBroker("no longer shows the ACL", func(r kmsg.Requestor) bool {
		ok, err := view.ACLExists(ctx, r, aclBinding(acl))
		require.NoError(t, err)
		return !ok
	})
	require.NoError(t, srv.Delete(p.DeleteRequest{ID: qID, Urn: qURN, Properties: qState}))
	everyBroker("no longer shows the quota", func(r kmsg.Requestor) bool {
		have, err := view.DescribeQuota(ctx, r, quotaEntity(quota))
		require.NoError(t, err)
		return len(have) == 0
	})
}
