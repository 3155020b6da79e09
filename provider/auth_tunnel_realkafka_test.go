//go:build realkafka

package provider

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	corev1 "k8s.io/api/core/v1"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel/kubetunneltest"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// In-cluster ports the secured listeners advertise in the tunnel test (the
// fake API server forwards every port of a pod to one target, so they only
// have to differ from each other to read clearly).
const (
	inClusterSASLPort = 9093
	inClusterMTLSPort = 9094
)

// secureInClusterCluster starts the 1-node dev stack whose secured listeners
// advertise the pod's in-cluster name (kafka-0.kafka-headless.<ns>.svc) and
// whose certificates name it and the bootstrap Service, as in a cluster.
func secureInClusterCluster(t *testing.T) *secureKafka {
	t.Helper()
	ns := kubetunneltest.Namespace
	bootstrapHost, _, err := net.SplitHostPort(components.BootstrapAddress(ns))
	require.NoError(t, err)
	lk, plain := realClusterWithOptions(t, "dev", func(o *localkafka.Options) {
		o.Security = &localkafka.Security{SuperUser: secureSuperUser, SuperPassword: secureSuperPassword,
			ServerNames: []string{components.PodFQDN(ns, 0), bootstrapHost},
			Advertise: func(id int, listener string) string {
				port := inClusterSASLPort
				if listener == localkafka.MTLSListenerName {
					port = inClusterMTLSPort
				}
				return fmt.Sprintf("%s:%d", components.PodFQDN(ns, id), port)
			}}
	})
	return &secureKafka{lk: lk, plain: plain}
}

// TestProviderAuthThroughTheTunnel runs SASL_SSL and mTLS through the
// kubernetes access mode against real Kafka: the provider dials the brokers'
// in-cluster names through a Kubernetes API (kubetunneltest's fake API
// server with real SPDY port-forwarding to the real listeners), and the
// tunnel's dialer does the TLS itself, so the CA, the client certificate,
// the server name (the pod's name, which the broker certificate carries)
// and skipTlsVerify must all reach it.
func TestProviderAuthThroughTheTunnel(t *testing.T) {
	s := secureInClusterCluster(t)
	user, pass := s.superUser()
	f := kubetunneltest.NewFakeAPI(t, "")
	f.SetPod("kafka-0", corev1.PodRunning, "uid-kafka-0")
	bootstrapHost, _, err := net.SplitHostPort(components.BootstrapAddress(kubetunneltest.Namespace))
	require.NoError(t, err)
	through := func(props map[string]property.Value, port int) map[string]property.Value {
		props["bootstrapServers"] = propStrings([]string{fmt.Sprintf("%s:%d", bootstrapHost, port)})
		props["kubernetes"] = property.New(map[string]property.Value{
			"kubeconfig":       property.New(f.Kubeconfig()),
			"namespace":        property.New(kubetunneltest.Namespace),
			"statefulSet":      property.New("kafka"),
			"headlessService":  property.New("kafka-headless"),
			"bootstrapService": property.New("kafka"),
		})
		return props
	}

	t.Run("sasl scram-sha512", func(t *testing.T) {
		f.SetTargets(map[string]string{"kafka-0": s.lk.SASLAddr(0)})
		before := f.Upgrades()
		topicRoundTrip(t, s, s.serverWith(t, through(s.saslProps(MechScramSHA512, user, pass), inClusterSASLPort)),
			"tunnel-sasl")
		assert.Greater(t, f.Upgrades(), before, "the provider went through the Kubernetes API")
	})
	t.Run("acl, quota and scram credential", func(t *testing.T) {
		f.SetTargets(map[string]string{"kafka-0": s.lk.SASLAddr(0)})
		srv := s.serverWith(t, through(s.saslProps(MechScramSHA512, user, pass), inClusterSASLPort))
		before := f.Upgrades()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		adm := s.plain.adm

		aclURN := resURN(AclToken, "tunnel-acl")
		acl := aclSpec{"tunnel-topic", "Topic", "User:tunnel-app", "*", "Write", "Allow", ""}.props()
		aclID, aclIn, aclState := upResource(t, srv, aclURN, acl)
		quotaURN := resURN(QuotaToken, "tunnel-quota")
		quota := quotaProps(strp("tunnel-app"), "user", map[string]string{"producer_byte_rate": "1048576"})
		quotaID, quotaIn, quotaState := upResource(t, srv, quotaURN, quota)
		scramIn, created := createScram(t, srv, scramProps("tunnel-app", "SCRAM-SHA-512", 0, "tunnel-pass"))
		assert.Greater(t, f.Upgrades(), before, "the provider went through the Kubernetes API")

		acls, err := adm.DescribeACLs(ctx, kadm.NewACLs().Topics("tunnel-topic").Allow("User:tunnel-app").AllowHosts("*").
			Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral))
		require.NoError(t, err)
		require.Len(t, acls, 1)
		require.NoError(t, acls[0].Err)
		assert.Len(t, acls[0].Described, 1, "Kafka holds the ACL the provider created through the tunnel")
		quotas, err := adm.DescribeClientQuotas(ctx, true, []kadm.DescribeClientQuotaComponent{
			{Type: "user", MatchName: strp("tunnel-app"), MatchType: 0}})
		require.NoError(t, err)
		require.Len(t, quotas, 1)
		assert.Equal(t, 1048576.0, quotas[0].Values[0].Value)
		assert.Equal(t, map[string]int{"SCRAM-SHA-512": 4096}, describeScram(t, adm, "tunnel-app"))
		waitLogin(t, s, "SCRAM-SHA-512", "tunnel-app", "tunnel-pass")

		requireNoDiff(t, srv, aclURN, aclID, aclState, aclIn)
		requireNoDiff(t, srv, quotaURN, quotaID, quotaState, quotaIn)
		requireNoDiff(t, srv, scramURN("c"), created.ID, created.Properties, scramIn)

		require.NoError(t, srv.Delete(p.DeleteRequest{ID: aclID, Urn: aclURN, Properties: aclState}))
		require.NoError(t, srv.Delete(p.DeleteRequest{ID: quotaID, Urn: quotaURN, Properties: quotaState}))
		require.NoError(t, srv.Delete(p.DeleteRequest{ID: created.ID, Urn: scramURN("c"), Properties: created.Properties}))
		acls, err = adm.DescribeACLs(ctx, kadm.NewACLs().Topics("tunnel-topic").Allow("User:tunnel-app").AllowHosts("*").
			Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral))
		require.NoError(t, err)
		assert.Empty(t, acls[0].Described, "the ACL is gone")
		assert.Empty(t, describeScram(t, adm, "tunnel-app"), "the credential is gone")
	})
	t.Run("mtls with an encrypted key", func(t *testing.T) {
		f.SetTargets(map[string]string{"kafka-0": s.lk.MTLSAddr(0)})
		pair := s.clientCert(t, user)
		enc, err := testpki.EncryptKey(pair.KeyPEM, "tunnel-passphrase")
		require.NoError(t, err)
		before := f.Upgrades()
		topicRoundTrip(t, s, s.serverWith(t, through(s.mtlsProps(pair.CertPEM, enc, "tunnel-passphrase"),
			inClusterMTLSPort)), "tunnel-mtls")
		assert.Greater(t, f.Upgrades(), before, "the provider went through the Kubernetes API")
	})
	t.Run("TLS against a PLAINTEXT listener", func(t *testing.T) {
		f.SetTargets(map[string]string{"kafka-0": s.lk.Addr(0)})
		// A timeout far above the bound: a retried error would take 60 s, a
		// final one well under 30 s even on a busy machine.
		props := through(map[string]property.Value{"caCert": property.New(s.caPEM()), "timeout": property.New(60.0)},
			9092)
		start := time.Now()
		_, err := read(s.serverWith(t, props), "tunnel-plaintext", property.Map{})
		require.Error(t, err)
		assert.Less(t, time.Since(start), 30*time.Second, "final at once, not retried until the 60 s timeout")
		assert.Contains(t, err.Error(), "the listener does not speak TLS (a PLAINTEXT or SASL_PLAINTEXT listener "+
			"closes the connection): set the provider's tlsEnabled = false")
	})
	t.Run("wrong CA refused, skipTlsVerify accepted", func(t *testing.T) {
		f.SetTargets(map[string]string{"kafka-0": s.lk.SASLAddr(0)})
		otherCA, err := testpki.NewCA("not-the-brokers-ca")
		require.NoError(t, err)
		props := through(s.saslProps(MechScramSHA512, user, pass), inClusterSASLPort)
		props["caCert"] = property.New(otherCA.CertPEM)
		props["timeout"] = property.New(5.0)
		_, err = create(t, s.serverWith(t, props), topicProps("tunnel-wrong-ca", 1, 1, nil), false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the brokers' certificate is signed by a CA the provider does not trust")
		assert.False(t, s.plain.exists(t, "tunnel-wrong-ca"))

		props["skipTlsVerify"] = property.New(true)
		topicRoundTrip(t, s, s.serverWith(t, props), "tunnel-skip-verify")
	})
}
