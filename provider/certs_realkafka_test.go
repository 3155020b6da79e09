//go:build realkafka

package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	upoll "github.com/umbrella-platform/umbrella-streaming/internal/poll"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// ListenerCertificates and generatePassword against real Kafka 4.1.1: a
// broker serves the generated material on an mTLS listener (PEM keystore and
// truststore, ssl.client.auth=required), the generated client certificate
// is the principal User:umbrella-deployer, and a rotation keeps a rolling
// restart safe; a generated SCRAM password logs in on SASL_SSL and a new
// passwordWoVersion replaces it.

// deployerCN is the common name of the provider's client certificate, the
// principal the deploy-time provider is on the brokers' INTERNAL listener.
const deployerCN = "umbrella-deployer"

// certsOf is the generated material a test reads back.
type certsOf struct {
	ca, serverCert, keystore string
	clientCert, clientKey    string
}

func certsFrom(t *testing.T, out property.Map) certsOf {
	t.Helper()
	cert, key := clientOut(t, out, deployerCN)
	return certsOf{ca: pemOut(out, "caCertPem"), serverCert: pemOut(out, "serverCertPem"),
		keystore: pemOut(out, "serverKeystorePem"), clientCert: cert, clientKey: key}
}

// mtlsClient is a franz-go client on addrs that trusts caPEM only and, if
// certPEM is not "", presents that client certificate. served receives the
// certificate the broker presented.
func mtlsClient(t *testing.T, addrs []string, caPEM, certPEM, keyPEM string, served func(*x509.Certificate)) *kgo.Client {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(caPEM)))
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, VerifyConnection: func(cs tls.ConnectionState) error {
		if served != nil && len(cs.PeerCertificates) > 0 {
			served(cs.PeerCertificates[0])
		}
		return nil
	}}
	if certPEM != "" {
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		require.NoError(t, err)
		tc.Certificates = []tls.Certificate{pair}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.DialTLSConfig(tc), kgo.RequestRetries(0))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// listTopicsWith lists the cluster's topics through cl (nil error: the
// handshake and the authorizer let it through).
func listTopicsWith(cl *kgo.Client) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	topics, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		return nil, err
	}
	return topics.Names(), topics.Error()
}

// TestRealKafkaListenerCertificates generates the certificates through the
// provider with no Kafka (no bootstrapServers), starts a broker whose mTLS
// listener serves them (PEM keystore = serverKeystorePem, truststore =
// caCertPem, ssl.client.auth=required) and proves: the generated deployer
// certificate connects, is User:umbrella-deployer (a super user, so it
// lists topics) and configures the provider itself; no client certificate,
// or one from another CA, is refused; after a rotation the new client
// certificate connects to the broker still serving the old server
// certificate, which is what makes a rolling rotation safe.
func TestRealKafkaListenerCertificates(t *testing.T) {
	certs := certsServer(t)
	inputs := certsProps(func(m map[string]property.Value) {
		m["serverNames"] = propStringList([]string{"*.kafka-headless.ns.svc", "kafka.ns.svc", "localhost", "127.0.0.1"})
		m["clientCommonNames"] = propStringList([]string{deployerCN})
	})
	_, created := createCerts(t, certs, inputs)
	old := certsFrom(t, created.Properties)

	dir := t.TempDir()
	keystore, truststore := filepath.Join(dir, "broker.pem"), filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(keystore, []byte(old.keystore), 0o600))
	require.NoError(t, os.WriteFile(truststore, []byte(old.ca), 0o600))
	mtls := "listener.name." + strings.ToLower(localkafka.MTLSListenerName) + "."
	lk, plain := realClusterWithOptions(t, "dev", func(o *localkafka.Options) {
		// localkafka's MTLS listener (ssl.client.auth=required, principal
		// CN=<name> -> User:<name>) with the generated material in place of
		// its own CA's; the deployer is the super user, as in the secure stack.
		o.Security = &localkafka.Security{SuperUser: deployerCN, SuperPassword: "deployer-secret-for-tests"}
		o.ExtraProperties = []string{
			mtls + "ssl.keystore.type=PEM",
			mtls + "ssl.keystore.location=" + keystore,
			mtls + "ssl.truststore.type=PEM",
			mtls + "ssl.truststore.location=" + truststore,
		}
	})
	addrs := lk.MTLSBootstrap()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := plain.adm.CreateTopic(ctx, 1, 1, nil, "certs-probe")
	require.NoError(t, err)

	var mu sync.Mutex
	var served []*x509.Certificate
	record := func(c *x509.Certificate) { mu.Lock(); served = append(served, c); mu.Unlock() }
	servedLast := func() *x509.Certificate { mu.Lock(); defer mu.Unlock(); return served[len(served)-1] }

	t.Run("the deployer certificate lists topics", func(t *testing.T) {
		cl := mtlsClient(t, addrs, old.ca, old.clientCert, old.clientKey, record)
		var names []string
		err := upoll.Until(context.Background(), 100*time.Millisecond, 20*time.Second, func(context.Context) (bool, error) {
			names, err = listTopicsWith(cl)
			return err == nil && slices.Contains(names, "certs-probe"), err
		})
		require.NoError(t, err, "topics seen: %v", names)
		assert.Equal(t, mustParseCert(t, old.serverCert).Raw, servedLast().Raw, "the broker serves the generated server certificate")
	})

	t.Run("the provider connects with the deployer certificate", func(t *testing.T) {
		srv, err := newTestServer()
		require.NoError(t, err)
		require.NoError(t, srv.Configure(property.NewMap(map[string]property.Value{
			"bootstrapServers": propStrings(addrs),
			"caCert":           property.New(old.ca),
			"clientCert":       property.New(old.clientCert),
			"clientKey":        property.New(old.clientKey).WithSecret(true),
			"timeout":          property.New(20.0),
		})))
		mustCreate(t, srv, topicProps("certs-by-provider", 2, 1, nil))
		assert.Equal(t, 2, len(plain.direct(t, "certs-by-provider").Partitions))
	})

	t.Run("the server certificate is accepted as a client certificate", func(t *testing.T) {
		// Brokers present it to each other over mTLS (inter-broker and
		// controller listeners): Kafka's trust manager checks that its
		// extended key usage allows client authentication.
		cert, key := old.serverCert, pemOut(created.Properties, "serverKeyPem")
		_, err := listTopicsWith(mtlsClient(t, addrs, old.ca, cert, key, nil))
		assert.NoError(t, err)
	})

	t.Run("no client certificate is refused", func(t *testing.T) {
		_, err := listTopicsWith(mtlsClient(t, addrs, old.ca, "", "", nil))
		require.Error(t, err)
		t.Logf("the refusal: %v", err)
		assert.Contains(t, err.Error(), "remote error: tls: ")
	})

	t.Run("a client certificate from another CA is refused", func(t *testing.T) {
		// localkafka's own CA signs the SASL_SSL listener; the MTLS listener
		// now trusts only the generated CA.
		other, err := lk.CA().Client(deployerCN)
		require.NoError(t, err)
		_, err = listTopicsWith(mtlsClient(t, addrs, old.ca, other.CertPEM, other.KeyPEM, nil))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "remote error: tls: ")
	})

	t.Run("after a rotation the new client certificate reaches the old server certificate", func(t *testing.T) {
		news, failures := checkCertsInputs(t, certs, certsProps(func(m map[string]property.Value) {
			m["serverNames"] = inputs.Get("serverNames")
			m["clientCommonNames"] = inputs.Get("clientCommonNames")
			m["rotation"] = property.New(1.0)
		}))
		require.Empty(t, failures)
		upd, err := certs.Update(p.UpdateRequest{ID: created.ID, Urn: certsURN("c"), State: created.Properties, Inputs: news})
		require.NoError(t, err)
		rotated := certsFrom(t, upd.Properties)
		require.Equal(t, old.ca, rotated.ca, "the CA is kept")
		require.NotEqual(t, old.clientCert, rotated.clientCert)
		require.NotEqual(t, old.serverCert, rotated.serverCert)

		names, err := listTopicsWith(mtlsClient(t, addrs, rotated.ca, rotated.clientCert, rotated.clientKey, record))
		require.NoError(t, err)
		assert.Contains(t, names, "certs-probe")
		assert.Equal(t, mustParseCert(t, old.serverCert).Raw, servedLast().Raw,
			"the broker (not restarted yet) still serves the old server certificate")
		_, err = listTopicsWith(mtlsClient(t, addrs, old.ca, old.clientCert, old.clientKey, nil))
		assert.NoError(t, err, "clients not yet given the new certificate keep working during the roll")
	})
}

// TestRealKafkaScramGeneratedPassword: a SCRAM-SHA-512 user whose password
// the provider generates logs in on SASL_SSL with the password output; a
// new passwordWoVersion generates another, which logs in while the old one
// is refused.
func TestRealKafkaScramGeneratedPassword(t *testing.T) {
	s := secureCluster(t)
	admin, adminPass := s.superUser()
	srv := s.serverWith(t, s.saslProps(localkafka.MechanismScramSHA512, admin, adminPass))
	const user = "email-processor"
	id := kafkaadmin.ScramID(user, ScramSHA512)

	checked, created := createScram(t, srv, genProps(user, ScramSHA512, "1"))
	first := generatedPassword(t, created.Properties)
	waitLogin(t, s, ScramSHA512, user, first)
	assertRefused(t, s, ScramSHA512, user, "not-the-password")

	read, err := srv.Read(p.ReadRequest{ID: id, Urn: scramURN("c"), Properties: created.Properties, Inputs: checked})
	require.NoError(t, err)
	d, err := srv.Diff(p.DiffRequest{ID: id, Urn: scramURN("c"), State: read.Properties, Inputs: checked})
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "read after create must show no diff: %v", d.DetailedDiff)

	news, failures := checkScram(t, srv, genProps(user, ScramSHA512, "2"))
	require.Empty(t, failures)
	upd, err := srv.Update(p.UpdateRequest{ID: id, Urn: scramURN("c"), State: read.Properties, Inputs: news})
	require.NoError(t, err)
	second := generatedPassword(t, upd.Properties)
	require.NotEqual(t, first, second)
	waitLogin(t, s, ScramSHA512, user, second)
	assertRefused(t, s, ScramSHA512, user, first)
}
