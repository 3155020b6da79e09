package pki_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/umbrella-platform/umbrella-streaming/internal/pki"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// The CA and leaves without any resource around them: their shape (what
// brokers, clients and Kafka's PEM keystore read), the refusals and their
// messages, on a pinned clock. What the provider's ListenerCertificates makes
// of them end to end is provider/certs_test.go.

// testNow is the pinned clock: a fraction of a second on purpose, which the
// validity window drops.
var testNow = time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.FixedZone("CET", 3600))

func mustCA(t *testing.T, cn string, days int) (pki.Pair, pki.Signer) {
	t.Helper()
	ca, err := pki.NewCA(cn, days, testNow)
	require.NoError(t, err)
	s, err := pki.LoadSigner(ca.CertPEM, ca.KeyPEM)
	require.NoError(t, err)
	return ca, s
}

func mustParseCert(t *testing.T, s string) *x509.Certificate {
	t.Helper()
	cert, err := pki.ParseCertificate(s)
	require.NoError(t, err)
	return cert
}

// mustParseKey parses an unencrypted PKCS#8 "PRIVATE KEY" and checks it
// belongs to certPEM (testpki.KeyFor).
func mustParseKey(t *testing.T, keyPEM, certPEM string) *ecdsa.PrivateKey {
	t.Helper()
	key, err := testpki.KeyFor(keyPEM, certPEM)
	require.NoError(t, err)
	return key
}

// verify checks cert against the CA alone for usage and, if not "", host.
func verify(t *testing.T, caPEM, certPEM, host string, usage x509.ExtKeyUsage) error {
	t.Helper()
	return testpki.VerifyAt(caPEM, certPEM, host, usage, testNow)
}

// TestNewCA guards the CA: self-signed, signs leaves only, the validity
// window in whole UTC seconds, backdated an hour, and a P-256 PKCS#8 key.
func TestNewCA(t *testing.T) {
	ca, _ := mustCA(t, "kafka-broker CA", 3650)
	cert := mustParseCert(t, ca.CertPEM)
	assert.Equal(t, "CN=kafka-broker CA", cert.Subject.String())
	assert.Equal(t, cert.Subject, cert.Issuer, "self-signed")
	assert.NoError(t, cert.CheckSignatureFrom(cert))
	assert.True(t, cert.IsCA)
	assert.True(t, cert.BasicConstraintsValid)
	assert.Equal(t, 0, cert.MaxPathLen)
	assert.True(t, cert.MaxPathLenZero, "leaves only")
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, cert.KeyUsage)
	mustParseKey(t, ca.KeyPEM, ca.CertPEM)

	start := time.Date(2026, 3, 4, 4, 6, 7, 0, time.UTC)
	assert.True(t, start.Add(-pki.Backdate).Equal(cert.NotBefore), "NotBefore %s", cert.NotBefore)
	assert.True(t, start.Add(3650*24*time.Hour).Equal(cert.NotAfter), "NotAfter %s", cert.NotAfter)
	assert.True(t, ca.NotAfter.Equal(cert.NotAfter), "the pair says when it expires")
	assert.Equal(t, 1, cert.SerialNumber.Sign(), "a positive serial")
	assert.LessOrEqual(t, cert.SerialNumber.BitLen(), 127)
}

// TestIssue guards the leaves: CN=<name> alone, the names split into DNS and
// IP SANs in order without repeats, the usages asked for, verifying under
// their CA and no other, and a fresh key and serial each.
func TestIssue(t *testing.T) {
	ca, s := mustCA(t, "kafka-broker CA", 3650)
	names := []string{"*.kafka-headless.ns.svc", "localhost", "127.0.0.1", "localhost", "::1", "127.0.0.1"}
	server, err := s.Issue("kafka-broker", names, pki.ServerUsages(), 365, testNow)
	require.NoError(t, err)
	cert := mustParseCert(t, server.CertPEM)
	assert.Equal(t, "CN=kafka-broker", cert.Subject.String(), "the whole subject is the CN: principal User:kafka-broker")
	assert.Equal(t, "CN=kafka-broker CA", cert.Issuer.String())
	assert.Equal(t, []string{"*.kafka-headless.ns.svc", "localhost"}, cert.DNSNames)
	require.Len(t, cert.IPAddresses, 2)
	assert.Equal(t, "127.0.0.1", cert.IPAddresses[0].String())
	assert.Equal(t, "::1", cert.IPAddresses[1].String())
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, cert.ExtKeyUsage)
	assert.Equal(t, x509.KeyUsageDigitalSignature, cert.KeyUsage)
	assert.False(t, cert.IsCA)
	mustParseKey(t, server.KeyPEM, server.CertPEM)
	assert.True(t, server.NotAfter.Equal(cert.NotAfter))
	assert.True(t, time.Date(2026, 3, 4, 4, 6, 7, 0, time.UTC).Add(365*24*time.Hour).Equal(cert.NotAfter))
	for _, host := range []string{"kafka-0.kafka-headless.ns.svc", "localhost", "127.0.0.1", "::1"} {
		assert.NoError(t, verify(t, ca.CertPEM, server.CertPEM, host, x509.ExtKeyUsageServerAuth), host)
	}
	assert.NoError(t, verify(t, ca.CertPEM, server.CertPEM, "", x509.ExtKeyUsageClientAuth))
	assert.Error(t, verify(t, ca.CertPEM, server.CertPEM, "kafka-headless.ns.svc", x509.ExtKeyUsageServerAuth))

	client, err := s.Issue("umbrella-deployer", nil, pki.ClientUsages(), 365, testNow)
	require.NoError(t, err)
	ccert := mustParseCert(t, client.CertPEM)
	assert.Equal(t, "CN=umbrella-deployer", ccert.Subject.String())
	assert.Empty(t, ccert.DNSNames)
	assert.Empty(t, ccert.IPAddresses)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, ccert.ExtKeyUsage)
	assert.NoError(t, verify(t, ca.CertPEM, client.CertPEM, "", x509.ExtKeyUsageClientAuth))
	assert.Error(t, verify(t, ca.CertPEM, client.CertPEM, "", x509.ExtKeyUsageServerAuth), "a client certificate cannot serve")
	assert.NotEqual(t, cert.SerialNumber, ccert.SerialNumber)
	assert.NotEqual(t, server.KeyPEM, client.KeyPEM)

	other, _ := mustCA(t, "someone else CA", 10)
	assert.Error(t, verify(t, other.CertPEM, server.CertPEM, "localhost", x509.ExtKeyUsageServerAuth), "another CA does not trust it")

	assert.Equal(t, server.KeyPEM+server.CertPEM+ca.CertPEM, server.Keystore(ca.CertPEM),
		"the keystore Kafka reads: key, certificate, CA")
}

// TestIssueRefusesLeafOutlivingCA: a leaf that would outlive the CA is
// refused with the fix (it would stop verifying before its notAfter).
func TestIssueRefusesLeafOutlivingCA(t *testing.T) {
	_, ca := mustCA(t, "kafka-broker CA", 60)
	_, err := ca.Issue("late", nil, pki.ClientUsages(), 30, testNow.Add(40*24*time.Hour))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "after its CA expires (")
	assert.Contains(t, err.Error(), "lower validityDays, or raise caValidityDays (which replaces the CA: every client must then trust the new one)")

	_, err = ca.Issue("in time", nil, pki.ClientUsages(), 30, testNow.Add(30*24*time.Hour))
	assert.NoError(t, err, "a leaf ending with its CA is fine")
}

// TestLoadSignerRefusals guards the messages of a CA the state holds broken.
func TestLoadSignerRefusals(t *testing.T) {
	ca, _ := mustCA(t, "kafka-broker CA", 10)
	other, _ := mustCA(t, "someone else CA", 10)
	garbage := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")}))
	garbageKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("garbage")}))

	_, err := pki.LoadSigner("not pem", ca.KeyPEM)
	assert.EqualError(t, err, "the state's caCertPem or caKeyPem is not PEM")
	_, err = pki.LoadSigner(ca.CertPEM, "")
	assert.EqualError(t, err, "the state's caCertPem or caKeyPem is not PEM")
	_, err = pki.LoadSigner(garbage, ca.KeyPEM)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "parsing the state's caCertPem: "), err.Error())
	_, err = pki.LoadSigner(ca.CertPEM, garbageKey)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "parsing the state's caKeyPem: "), err.Error())
	_, err = pki.LoadSigner(ca.CertPEM, other.KeyPEM)
	assert.EqualError(t, err, "the state's caKeyPem is not the key of caCertPem")
}

// TestParseCertificate: the first certificate of a PEM text, and a refusal
// of anything else.
func TestParseCertificate(t *testing.T) {
	ca, _ := mustCA(t, "kafka-broker CA", 10)
	cert, err := pki.ParseCertificate(ca.CertPEM + ca.KeyPEM)
	require.NoError(t, err)
	assert.Equal(t, "CN=kafka-broker CA", cert.Subject.String())
	for _, bad := range []string{"", "not pem", ca.KeyPEM} {
		_, err := pki.ParseCertificate(bad)
		assert.EqualError(t, err, "the state holds a certificate that is not PEM", "%q", bad)
	}
}

// TestFirstExpiry: the earliest notAfter among the certificates.
func TestFirstExpiry(t *testing.T) {
	_, s := mustCA(t, "kafka-broker CA", 100)
	long, err := s.Issue("long", nil, pki.ClientUsages(), 90, testNow)
	require.NoError(t, err)
	short, err := s.Issue("short", nil, pki.ClientUsages(), 30, testNow)
	require.NoError(t, err)
	first, err := pki.FirstExpiry(long.CertPEM, short.CertPEM, long.CertPEM)
	require.NoError(t, err)
	assert.True(t, short.NotAfter.Equal(first), "first %s", first)
	first, err = pki.FirstExpiry()
	require.NoError(t, err)
	assert.True(t, first.IsZero())
	_, err = pki.FirstExpiry(long.CertPEM, "not pem")
	assert.EqualError(t, err, "the state holds a certificate that is not PEM")
}

// TestUsagesAreFresh: a caller changing its usages cannot change another's.
func TestUsagesAreFresh(t *testing.T) {
	u := pki.ServerUsages()
	u[0] = x509.ExtKeyUsageAny
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, pki.ServerUsages())
	c := pki.ClientUsages()
	c[0] = x509.ExtKeyUsageAny
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, pki.ClientUsages())
}
