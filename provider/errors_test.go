package provider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"google.golang.org/grpc/status"
)

// These tests provoke authorization and TLS failures with kfake: real
// Kafka on loopback would need a SASL listener with StandardAuthorizer and a
// certificate authority, while kfake enforces SASL, ACLs and TLS the way Kafka
// answers them (the same error codes). INVALID_CONFIG, name collisions and
// TOPIC_DELETION_DISABLED come from real Kafka in errors_realkafka_test.go.
// POLICY_VIOLATION needs a Java policy class on the brokers, which neither
// can load, so its hint is checked on the error alone.

// saslServer starts an in-process provider that authenticates to addrs with
// SASL/PLAIN as user.
func saslServer(t *testing.T, addrs []string, user, pass string) *testServer {
	t.Helper()
	return server(t, addrs, map[string]property.Value{
		"saslMechanism": property.New(MechPlain),
		"saslUsername":  property.New(user),
		"saslPassword":  property.New(pass),
	})
}

func TestAuthorizationErrorsNameTheACL(t *testing.T) {
	// "app" may describe and create topics and describe the cluster (reading the
	// reassignments in progress), but not alter the cluster (start one).
	allow := func(res kmsg.ACLResourceType, name string, op kmsg.ACLOperation) kfake.ACL {
		return kfake.ACL{Resource: res, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: op, Allow: true}
	}
	topicOps := []kmsg.ACLOperation{kmsg.ACLOperationDescribe, kmsg.ACLOperationCreate,
		kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationAlter}
	var acls []kfake.ACL
	for _, op := range topicOps {
		acls = append(acls, allow(kmsg.ACLResourceTypeTopic, "allowed", op))
	}
	acls = append(acls, allow(kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLOperationDescribe))
	c := newCluster(t, kfake.EnableSASL(), kfake.EnableACLs(), kfake.Superuser("PLAIN", "admin", "admin"),
		kfake.User("PLAIN", "app", "secret", acls...))
	s := saslServer(t, c.addrs, "app", "secret")

	t.Run("TOPIC_AUTHORIZATION_FAILED on create", func(t *testing.T) {
		_, err := create(t, s, topicProps("denied", 1, 1, nil), false)
		require.Error(t, err)
		assert.Equal(t, `topic "denied": TOPIC_AUTHORIZATION_FAILED: Not authorized to access topics: [Topic authorization failed.] `+
			`(CreateTopics): the provider authenticates as User:<saslUsername> (saslMechanism/saslUsername; with clientCert `+
			`and no SASL, the principal the broker maps the certificate to, usually User:<CN>; User:ANONYMOUS without `+
			`either), which lacks the Create permission on topic "denied": grant it with kafka-acls --bootstrap-server `+
			`<broker> --add --allow-principal User:<saslUsername> --operation Create --topic denied, or set `+
			`saslUsername/saslPassword to a principal that has it`, err.Error())
	})

	t.Run("CLUSTER_AUTHORIZATION_FAILED on a replication factor change", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("allowed", 1, 1, nil))
		_, err := update(s, "allowed", state, topicProps("allowed", 1, 2, nil), false)
		require.Error(t, err)
		reasons := initFailedReasons(t, err)
		require.Len(t, reasons, 1)
		assert.Contains(t, reasons[0], `CLUSTER_AUTHORIZATION_FAILED`)
		// The change first throttles the brokers' replication (#14 item 4), which
		// needs AlterConfigs on the cluster; the reassignment itself needs Alter.
		assert.Contains(t, reasons[0], `which lacks the AlterConfigs permission on the cluster: grant it with kafka-acls `+
			`--bootstrap-server <broker> --add --allow-principal User:<saslUsername> --operation AlterConfigs --cluster, or set `+
			`saslUsername/saslPassword to a principal that has it`)
	})
}

func TestTLSUnknownCANamesCACert(t *testing.T) {
	cert := selfSigned(t)
	tlsCluster, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	require.NoError(t, err)
	t.Cleanup(tlsCluster.Close)

	s := server(t, tlsCluster.ListenAddrs(), map[string]property.Value{"tlsEnabled": property.New(true)})
	_, err = create(t, s, topicProps("x", 1, 1, nil), false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `: the TLS handshake failed: the brokers' certificate is signed by a CA the `+
		`provider does not trust: set the provider's caCert to that CA's PEM certificate (or skipTlsVerify = true for `+
		`an insecure development cluster)`)
}

// selfSigned makes a certificate for 127.0.0.1 signed by itself, a CA the
// provider does not trust.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "kfake"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// POLICY_VIOLATION needs a create.topic.policy.class.name on the brokers: a
// Java class neither localkafka nor kfake can load, so the hint is checked on
// the answer Kafka gives.
func TestPolicyViolationHint(t *testing.T) {
	err := kafkaadmin.TopicError("t", "CreateTopics", kerr.PolicyViolation, "Topic replication factor must be 3")
	assert.True(t, errors.Is(err, kerr.PolicyViolation))
	assert.Equal(t, `topic "t": POLICY_VIOLATION: Request parameters do not satisfy the configured policy. `+
		`(CreateTopics: Topic replication factor must be 3): a topic policy of the cluster `+
		`(create.topic.policy.class.name or alter.config.policy.class.name on the brokers) refused it: change the `+
		`inputs to what the policy allows (the broker's message says which rule), or ask the cluster's operators `+
		`to change the policy`, err.Error())
}

// initFailedReasons returns the reasons of a ResourceInitFailed error (an
// update that failed midway), which the gRPC message leaves out.
func initFailedReasons(t *testing.T, err error) []string {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "a gRPC status: %v", err)
	for _, d := range st.Details() {
		if f, ok := d.(*rpc.ErrorResourceInitFailed); ok {
			return f.GetReasons()
		}
	}
	t.Fatalf("no ErrorResourceInitFailed in %v", err)
	return nil
}
