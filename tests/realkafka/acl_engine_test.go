//go:build realkafka

package realkafka

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
)

// Least privilege through the real engine (issue 15): one stack holds a
// topic, a SCRAM user, the user's only ACL (Write on the topic) and its
// quota. The user can produce and cannot consume; an `up` that drops the
// ACL stops it producing, with Kafka's error naming the refusal; a quota
// change takes effect and reads back without drift.

const (
	aclTopic   = "orders"
	aclAppUser = "orders-app"
	aclAppPass = "orders-app-secret-5e1d"
)

// leastPrivilegeProgram is the stack: grantWrite and producerByteRate come
// from config.
func leastPrivilegeProgram(bootstrap []string, caPEM string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		prov, err := umbrellakafka.NewProvider(ctx, "kafka", adminProviderArgs(bootstrap, caPEM))
		if err != nil {
			return err
		}
		opt := pulumi.Provider(prov)
		if _, err := umbrellakafka.NewTopic(ctx, aclTopic, &umbrellakafka.TopicArgs{Name: pulumi.String(aclTopic),
			Partitions: pulumi.Int(1), ReplicationFactor: pulumi.Int(1)}, opt); err != nil {
			return err
		}
		if _, err := umbrellakafka.NewUserScramCredential(ctx, aclAppUser, &umbrellakafka.UserScramCredentialArgs{
			Username: pulumi.String(aclAppUser), ScramMechanism: pulumi.String("SCRAM-SHA-512"),
			Password: cfg.RequireSecret("appPassword")}, opt); err != nil {
			return err
		}
		if cfg.RequireBool("grantWrite") {
			if _, err := umbrellakafka.NewAcl(ctx, "orders-write", &umbrellakafka.AclArgs{
				AclResourceName: pulumi.String(aclTopic), AclResourceType: pulumi.String("Topic"),
				AclPrincipal: pulumi.String("User:" + aclAppUser), AclHost: pulumi.String("*"),
				AclOperation: pulumi.String("Write"), AclPermissionType: pulumi.String("Allow")}, opt); err != nil {
				return err
			}
		}
		_, err = umbrellakafka.NewQuota(ctx, "orders-app-quota", &umbrellakafka.QuotaArgs{
			EntityName: pulumi.String(aclAppUser), EntityType: pulumi.String("user"),
			Config: pulumi.StringMap{"producer_byte_rate": pulumi.String(cfg.Require("producerByteRate"))}}, opt)
		return err
	}
}

// newAppClient is a client of the SASL_SSL listener logged in as the app; the
// caller closes it.
func newAppClient(t *testing.T, c *localkafka.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(c.CACertPEM())))
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.SASLBootstrap()...),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
		kgo.SASL(scram.Auth{User: aclAppUser, Pass: aclAppPass}.AsSha512Mechanism()),
		kgo.RecordRetries(2), kgo.RequestRetries(2)}, opts...)...)
	require.NoError(t, err)
	return cl
}

// appClient is newAppClient closed when the test ends.
func appClient(t *testing.T, c *localkafka.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl := newAppClient(t, c, opts...)
	t.Cleanup(cl.Close)
	return cl
}

// produceAsApp writes one record as the app with a fresh client, closed at
// once (the waits below call it many times).
func produceAsApp(t *testing.T, ctx context.Context, c *localkafka.Cluster) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cl := newAppClient(t, c)
	defer cl.Close()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: aclTopic, Value: []byte("order")}).FirstErr()
}

func TestEngineLeastPrivilege(t *testing.T) {
	c := secureNode(t)
	plugins := pluginDir(t)
	ctx := testCtx(t, 10*time.Minute)
	st := engineStack(t, ctx, plugins, leastPrivilegeProgram(c.SASLBootstrap(), c.CACertPEM()))
	var out bytes.Buffer
	up := func(what string, grant bool, rate string) map[string]int {
		t.Helper()
		require.NoError(t, st.SetAllConfig(ctx, auto.ConfigMap{
			"appPassword": {Value: aclAppPass, Secret: true}, "grantWrite": {Value: map[bool]string{true: "true", false: "false"}[grant]},
			"producerByteRate": {Value: rate}}))
		out.Reset()
		res, err := st.Up(ctx, optup.ProgressStreams(&out), optup.ErrorProgressStreams(&out))
		require.NoError(t, err, "%s:\n%s", what, out.String())
		return *res.Summary.ResourceChanges
	}
	// awaitQuota waits until the broker describes the app's quota as exactly
	// one producer_byte_rate of want: the broker answers from its copy of the
	// metadata log, which can trail the controller that acknowledged the up.
	awaitQuota := func(want float64, why string) {
		t.Helper()
		var described []kadm.DescribedClientQuota
		var lastErr error
		err := poll.Until(ctx, 200*time.Millisecond, 30*time.Second, func(ctx context.Context) (bool, error) {
			described, lastErr = c.Admin().DescribeClientQuotas(ctx, true, []kadm.DescribeClientQuotaComponent{
				{Type: "user", MatchName: pulumi.StringRef(aclAppUser)}})
			return lastErr == nil && len(described) == 1 && len(described[0].Values) == 1 &&
				described[0].Values[0].Key == "producer_byte_rate" && described[0].Values[0].Value == want, nil
		})
		require.NoError(t, err, "%s: waiting for the broker to describe %s's quota as producer_byte_rate=%v (last: %+v, err %v)",
			why, aclAppUser, want, described, lastErr)
	}

	assert.Equal(t, map[string]int{"create": 6}, up("first up", true, "1048576"),
		"stack, provider, topic, credential, ACL, quota")
	var produced error
	err := poll.Until(ctx, 200*time.Millisecond, 20*time.Second, func(ctx context.Context) (bool, error) {
		produced = produceAsApp(t, ctx, c)
		return produced == nil, nil
	})
	require.NoError(t, err, "the app never produced with its Write ACL; last: %v", produced)
	consumer := appClient(t, c, kgo.ConsumeTopics(aclTopic), kgo.ConsumerGroup("orders-readers"))
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	fetches := consumer.PollFetches(fctx)
	cancel()
	// A poll that only timed out also carries an error (the context's): the
	// refusal must be the authorizer's.
	var pollErrs []error
	fetches.EachError(func(_ string, _ int32, e error) { pollErrs = append(pollErrs, e) })
	refused := errors.Join(pollErrs...)
	assert.True(t, errors.Is(refused, kerr.GroupAuthorizationFailed) || errors.Is(refused, kerr.TopicAuthorizationFailed),
		"the app has no Read ACL: consuming must be refused by the authorizer; got %v", refused)
	t.Logf("consuming without a Read ACL: %v", refused)
	awaitQuota(1048576, "first up")

	assert.Equal(t, map[string]int{"same": 6}, up("second up, no change", true, "1048576"), "no perpetual diff")

	assert.Equal(t, map[string]int{"same": 4, "delete": 1, "update": 1}, up("third up: no ACL, a new quota", false, "2097152"))
	// The broker drops the ACL when it applies the controller's record: wait for
	// the refusal (a produce that still succeeds is the ACL not yet gone there).
	err = poll.Until(ctx, 200*time.Millisecond, 30*time.Second, func(ctx context.Context) (bool, error) {
		produced = produceAsApp(t, ctx, c)
		return errors.Is(produced, kerr.TopicAuthorizationFailed), nil
	})
	require.NoError(t, err, "the ACL is gone: producing must be refused with TOPIC_AUTHORIZATION_FAILED; last produce: %v", produced)
	t.Logf("producing without the ACL: %v", produced)
	awaitQuota(2097152, "third up: the quota change took effect")
	assert.Equal(t, map[string]int{"same": 5}, up("fourth up, no change", false, "2097152"), "no perpetual diff")

	out.Reset()
	_, err = st.Destroy(ctx, optdestroy.ProgressStreams(&out), optdestroy.ErrorProgressStreams(&out))
	require.NoError(t, err, out.String())
}
