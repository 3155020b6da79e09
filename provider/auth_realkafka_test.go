//go:build realkafka

package provider

import (
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// topicRoundTrip creates, reads and deletes a topic through srv and checks
// each step on the cluster behind the provider's back (PLAINTEXT admin).
func topicRoundTrip(t *testing.T, s *secureKafka, srv *testServer, topic string) {
	t.Helper()
	state := mustCreate(t, srv, topicProps(topic, 3, 1, map[string]string{"retention.ms": "3600000"}))
	parts, rf, cfg := s.plain.describe(t, topic)
	assert.Equal(t, []any{3, 1, map[string]string{"retention.ms": "3600000"}}, []any{parts, rf, cfg})
	got, err := read(srv, topic, state)
	require.NoError(t, err)
	assert.Equal(t, 3.0, got.Properties.Get("partitions").AsNumber())
	require.NoError(t, del(srv, topic, state))
	assert.False(t, s.plain.exists(t, topic))
}

// TestProviderAuthenticates runs a topic's life through every client
// authentication pulumi-kafka supports (and this provider implements)
// against real Kafka 4.1.1 listeners that accept nothing else: SASL_SSL with
// plain, scram-sha256, scram-sha512 and oauthbearer, and mTLS with a plain
// and an encrypted client key.
func TestProviderAuthenticates(t *testing.T) {
	s := secureCluster(t)
	user, pass := s.superUser()

	for _, mech := range []string{MechPlain, MechScramSHA256, MechScramSHA512} {
		t.Run("sasl "+mech, func(t *testing.T) {
			topicRoundTrip(t, s, s.serverWith(t, s.saslProps(mech, user, pass)), "auth-"+mech)
		})
	}
	t.Run("sasl scram-sha256 as a user created for the test", func(t *testing.T) {
		// A SCRAM credential made after start is usable at once (AddScramUser
		// waits for the brokers), and the principal is that user: without
		// ACLs, Kafka refuses the create and the error names the ACL to add.
		s.addScramUser(t, localkafka.MechanismScramSHA256, "app-256", "app-256-password")
		srv := s.serverWith(t, s.saslProps(MechScramSHA256, "app-256", "app-256-password"))
		_, err := create(t, srv, topicProps("auth-app-256", 1, 1, nil), false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "TOPIC_AUTHORIZATION_FAILED")
		assert.Contains(t, err.Error(), "--allow-principal User:<saslUsername> --operation Create --topic auth-app-256")
		assert.False(t, s.plain.exists(t, "auth-app-256"))
	})
	t.Run("sasl oauthbearer", func(t *testing.T) {
		te := s.tokenEndpoint(t, user, "client-secret")
		props := s.oauthProps(te, user, "client-secret")
		props["saslOauthScopes"] = propStrings([]string{"kafka"})
		topicRoundTrip(t, s, s.serverWith(t, props), "auth-oauthbearer")
		assert.EqualValues(t, 1, te.issued.Load(), "one token, reused by every connection")
	})
	t.Run("mtls", func(t *testing.T) {
		pair := s.clientCert(t, user)
		topicRoundTrip(t, s, s.serverWith(t, s.mtlsProps(pair.CertPEM, pair.KeyPEM, "")), "auth-mtls")
	})
	t.Run("mtls with an encrypted key", func(t *testing.T) {
		pair := s.clientCert(t, user)
		enc, err := testpki.EncryptKey(pair.KeyPEM, "key-passphrase")
		require.NoError(t, err)
		topicRoundTrip(t, s, s.serverWith(t, s.mtlsProps(pair.CertPEM, enc, "key-passphrase")), "auth-mtls-encrypted")
	})
}

// TestProviderAuthFailures proves against real Kafka that a refused
// connection fails with an error naming the setting to fix: a broker
// certificate from another CA (and skipTlsVerify accepting it anyway), a
// wrong password, a wrong OAuth client secret, TLS (the default) against a
// PLAINTEXT listener, and the mTLS listener without a client certificate.
func TestProviderAuthFailures(t *testing.T) {
	s := secureCluster(t)
	user, pass := s.superUser()
	short := func(props map[string]property.Value) map[string]property.Value {
		props["timeout"] = property.New(5.0)
		return props
	}
	otherCA, err := testpki.NewCA("not-the-brokers-ca")
	require.NoError(t, err)

	t.Run("wrong CA", func(t *testing.T) {
		props := short(s.saslProps(MechScramSHA512, user, pass))
		props["caCert"] = property.New(otherCA.CertPEM)
		_, err := create(t, s.serverWith(t, props), topicProps("auth-wrong-ca", 1, 1, nil), false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "certificate signed by unknown authority")
		assert.Contains(t, err.Error(), "the TLS handshake failed: the brokers' certificate is signed by a CA the "+
			"provider does not trust: set the provider's caCert to that CA's PEM certificate")
		assert.False(t, s.plain.exists(t, "auth-wrong-ca"))
	})
	t.Run("skipTlsVerify accepts the unknown CA", func(t *testing.T) {
		props := s.saslProps(MechScramSHA512, user, pass)
		props["caCert"] = property.New(otherCA.CertPEM)
		props["skipTlsVerify"] = property.New(true)
		topicRoundTrip(t, s, s.serverWith(t, props), "auth-skip-verify")
	})
	t.Run("wrong password", func(t *testing.T) {
		props := short(s.saslProps(MechScramSHA512, user, "not-the-password"))
		_, err := create(t, s.serverWith(t, props), topicProps("auth-wrong-password", 1, 1, nil), false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SASL_AUTHENTICATION_FAILED")
		assert.Contains(t, err.Error(), "the brokers refused the SASL credentials: check the provider's "+
			"saslUsername and saslPassword")
		assert.NotContains(t, err.Error(), "not-the-password", "the password never appears in an error")
		assert.False(t, s.plain.exists(t, "auth-wrong-password"))
	})
	t.Run("wrong OAuth client secret", func(t *testing.T) {
		te := s.tokenEndpoint(t, user, "client-secret")
		props := short(s.oauthProps(te, user, "bad-client-secret-x"))
		_, err := create(t, s.serverWith(t, props), topicProps("auth-oauth-refused", 1, 1, nil), false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the OAuth token endpoint saslTokenUrl "+te.URL+" answered 401 Unauthorized "+
			"without an access token (invalid_client): check saslUsername (the client id) and saslPassword (the "+
			"client secret)")
		assert.NotContains(t, err.Error(), "bad-client-secret-x")
	})
	t.Run("TLS (the default) against a PLAINTEXT listener", func(t *testing.T) {
		// A timeout far above the bound: a retried error would take 60 s, a
		// final one well under 30 s even on a busy machine.
		props := map[string]property.Value{"bootstrapServers": propStrings(s.lk.Bootstrap()), "timeout": property.New(60.0)}
		start := time.Now()
		_, err := read(s.serverWith(t, props), "auth-plaintext", property.Map{})
		require.Error(t, err)
		assert.Less(t, time.Since(start), 30*time.Second, "final at once, not retried until the 60 s timeout")
		assert.Contains(t, err.Error(), "the listener does not speak TLS (a PLAINTEXT or SASL_PLAINTEXT listener "+
			"closes the connection): set the provider's tlsEnabled = false (it defaults to true, as in pulumi-kafka)")
	})
	t.Run("mTLS listener without a client certificate", func(t *testing.T) {
		props := short(map[string]property.Value{
			"bootstrapServers": propStrings(s.mtlsAddrs()),
			"caCert":           property.New(s.caPEM()),
		})
		_, err := create(t, s.serverWith(t, props), topicProps("auth-no-cert", 1, 1, nil), false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "remote error: tls: ")
		assert.Contains(t, err.Error(), "the broker requires a client certificate it trusts (mTLS): set the "+
			"provider's clientCert and clientKey")
	})
}
