//go:build realkafka

package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// The secured real-Kafka harness: a local cluster whose nodes have, next to
// their PLAINTEXT listeners, a SASL_SSL listener (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512, OAUTHBEARER) and an MTLS listener (client certificates),
// with the StandardAuthorizer denying everything that no ACL allows (see
// internal/localkafka/security.go). The PLAINTEXT view (plain) is
// User:ANONYMOUS, a super user, for setting up and checking behind the
// provider's back.

// Super user of every secure cluster: the identity the provider under test
// uses unless a test says otherwise.
const (
	secureSuperUser     = "umbrella-admin"
	secureSuperPassword = "admin-secret-for-tests"
)

// secureKafka is a running secured cluster.
type secureKafka struct {
	lk    *localkafka.Cluster
	plain *testCluster // PLAINTEXT, User:ANONYMOUS (super user)
}

// secureCluster starts the 1-node dev stack with the secured listeners.
func secureCluster(t *testing.T) *secureKafka {
	t.Helper()
	return secureClusterN(t, 1, nil)
}

// secureClusterN starts a secured cluster of nodes brokers (the dev stack
// for 1, else the prod stack resized to nodes), with plainUsers as extra
// SASL/PLAIN users (name to password; PLAIN users are fixed at start).
func secureClusterN(t *testing.T, nodes int, plainUsers map[string]string) *secureKafka {
	t.Helper()
	stack := "dev"
	if nodes > 1 {
		stack = "prod"
	}
	lk, plain := realClusterWithOptions(t, stack, func(o *localkafka.Options) {
		if nodes > 1 {
			o.Spec.Brokers = nodes
		}
		o.Nodes = 0
		o.Security = &localkafka.Security{SuperUser: secureSuperUser, SuperPassword: secureSuperPassword,
			PlainUsers: plainUsers}
	})
	return &secureKafka{lk: lk, plain: plain}
}

// saslAddrs and mtlsAddrs are the secured listeners' bootstrap addresses.
func (s *secureKafka) saslAddrs() []string { return s.lk.SASLBootstrap() }
func (s *secureKafka) mtlsAddrs() []string { return s.lk.MTLSBootstrap() }

// caPEM is the CA certificate that signed the brokers' certificates.
func (s *secureKafka) caPEM() string { return s.lk.CACertPEM() }

// addScramUser creates a SCRAM credential (localkafka.MechanismScramSHA256 or
// MechanismScramSHA512) and returns once every broker accepts it.
func (s *secureKafka) addScramUser(t *testing.T, mechanism, name, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	require.NoError(t, s.lk.AddScramUser(ctx, mechanism, name, password))
}

// clientCert issues a client certificate whose principal on the MTLS
// listener is User:<cn>.
func (s *secureKafka) clientCert(t *testing.T, cn string) testpki.Pair {
	t.Helper()
	pair, err := s.lk.CA().Client(cn)
	require.NoError(t, err)
	return pair
}

// superUser is the super user's name and password (PLAIN and both SCRAMs).
func (s *secureKafka) superUser() (name, password string) {
	return secureSuperUser, secureSuperPassword
}

// propStrings is a property list of strings.
func propStrings(items []string) property.Value {
	vs := make([]property.Value, len(items))
	for i, a := range items {
		vs[i] = property.New(a)
	}
	return property.New(vs)
}

// saslProps is the provider configuration for the SASL_SSL listener with
// mechanism (localkafka.Mechanism*), user and password, trusting the CA.
func (s *secureKafka) saslProps(mechanism, user, password string) map[string]property.Value {
	return map[string]property.Value{
		"bootstrapServers": propStrings(s.saslAddrs()),
		"tls":              property.New(true),
		"tlsCaPem":         property.New(s.caPEM()),
		"saslMechanism":    property.New(mechanism),
		"saslUsername":     property.New(user),
		"saslPassword":     property.New(password).WithSecret(true),
	}
}

// serverWith starts an in-process provider (CheckConfig and Configure, like
// the engine) with exactly props as configuration plus a short request
// timeout unless props sets one.
func (s *secureKafka) serverWith(t *testing.T, props map[string]property.Value) *testServer {
	t.Helper()
	srv, err := s.configure(props)
	require.NoError(t, err)
	return srv
}

// configure is serverWith returning the configuration error.
func (s *secureKafka) configure(props map[string]property.Value) (*testServer, error) {
	srv, err := newTestServer()
	if err != nil {
		return nil, err
	}
	args := map[string]property.Value{"requestTimeoutSeconds": property.New(10.0)}
	for k, v := range props {
		args[k] = v
	}
	return srv, srv.Configure(property.NewMap(args))
}

// tlsConfig trusts the cluster's CA, for direct franz-go clients.
func (s *secureKafka) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(s.caPEM())))
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// TestSecureHarness proves the secured harness itself against real Kafka: a
// SCRAM-SHA-512 super user reaches SASL_SSL and creates a topic through the
// provider; an unknown user is refused; PLAINTEXT to the SASL_SSL port fails.
func TestSecureHarness(t *testing.T) {
	s := secureCluster(t)
	user, pass := s.superUser()

	srv := s.serverWith(t, s.saslProps(localkafka.MechanismScramSHA512, user, pass))
	state := mustCreate(t, srv, topicProps("secure-harness", 2, 1, nil))
	require.True(t, s.plain.exists(t, "secure-harness"))
	require.NoError(t, del(srv, "secure-harness", state))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stranger, err := kgo.NewClient(kgo.SeedBrokers(s.saslAddrs()...), kgo.DialTLSConfig(s.tlsConfig(t)),
		kgo.SASL(scram.Auth{User: "nobody", Pass: "guess"}.AsSha512Mechanism()), kgo.RequestRetries(0))
	require.NoError(t, err)
	defer stranger.Close()
	err = stranger.Ping(ctx)
	require.Error(t, err)
	require.Contains(t, err.Error(), "SASL_AUTHENTICATION_FAILED")

	cleartext, err := kgo.NewClient(kgo.SeedBrokers(s.saslAddrs()...), kgo.RequestRetries(0),
		kgo.DialTimeout(3*time.Second))
	require.NoError(t, err)
	defer cleartext.Close()
	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer pcancel()
	require.Error(t, cleartext.Ping(pctx), "a PLAINTEXT client must not talk to the SASL_SSL listener")

	// MTLS: the super user's certificate may create a topic; a stranger's
	// certificate is authenticated (User:stranger) but authorized for nothing.
	adm := s.mtlsAdmin(t, s.clientCert(t, user))
	created, err := adm.CreateTopic(ctx, 1, 1, nil, "secure-harness-mtls")
	require.NoError(t, err)
	require.NoError(t, created.Err)
	strangerAdm := s.mtlsAdmin(t, s.clientCert(t, "stranger"))
	_, err = strangerAdm.CreateTopic(ctx, 1, 1, nil, "secure-harness-denied")
	require.ErrorIs(t, err, kerr.TopicAuthorizationFailed)
}

// mtlsAdmin is an admin client on the MTLS listener with a client
// certificate; it is closed when the test ends.
func (s *secureKafka) mtlsAdmin(t *testing.T, pair testpki.Pair) *kadm.Client {
	t.Helper()
	cert, err := pair.TLS()
	require.NoError(t, err)
	tc := s.tlsConfig(t)
	tc.Certificates = []tls.Certificate{cert}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.mtlsAddrs()...), kgo.DialTLSConfig(tc))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}
