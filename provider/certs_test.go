package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/pki"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// ListenerCertificates without any Kafka: the generated chain verifies as
// brokers and clients will verify it, the resource is created by a provider
// that has no bootstrapServers, nothing is regenerated unless asked, and
// Check refuses bad inputs naming the field, the value, the limit and the fix.
// The real-Kafka proof (a broker serving the material, mTLS clients, a
// rotation) is certs_realkafka_test.go.

func certsURN(name string) presource.URN {
	return presource.NewURN("test", "umbrella", "", ListenerCertificatesToken, name)
}

// testServerNames are the names of the tests' server certificate: the
// in-cluster ones components.BrokerCertNames lists, plus the loopback ones.
var testServerNames = []string{"*.kafka-headless.ns.svc", "*.kafka-headless.ns.svc.cluster.local", "kafka.ns.svc",
	"localhost", "127.0.0.1", "::1"}

// certsProps builds ListenerCertificates inputs; edit changes them.
func certsProps(edit func(m map[string]property.Value)) property.Map {
	m := map[string]property.Value{
		"serverCommonName":  property.New("kafka-broker"),
		"serverNames":       propStringList(testServerNames),
		"clientCommonNames": propStringList([]string{"umbrella-deployer"}),
	}
	if edit != nil {
		edit(m)
	}
	return property.NewMap(m)
}

func propStringList(items []string) property.Value {
	vs := make([]property.Value, len(items))
	for i, s := range items {
		vs[i] = property.New(s)
	}
	return property.New(vs)
}

// certsServer is an in-process provider configured with no bootstrapServers:
// ListenerCertificates must need none.
func certsServer(t *testing.T) *testServer {
	t.Helper()
	s, err := newTestServer()
	require.NoError(t, err)
	require.NoError(t, s.Configure(property.Map{}))
	return s
}

// checkCertsInputs runs Check and returns the checked inputs and the failures by property.
func checkCertsInputs(t *testing.T, s *testServer, inputs property.Map) (property.Map, map[string]string) {
	t.Helper()
	resp, err := s.Check(p.CheckRequest{Urn: certsURN("c"), Inputs: inputs})
	require.NoError(t, err)
	failures := map[string]string{}
	for _, f := range resp.Failures {
		failures[f.Property] = f.Reason
	}
	return resp.Inputs, failures
}

// createCerts runs Check and Create, as pulumi up does.
func createCerts(t *testing.T, s *testServer, inputs property.Map) (property.Map, p.CreateResponse) {
	t.Helper()
	checked, failures := checkCertsInputs(t, s, inputs)
	require.Empty(t, failures)
	created, err := s.Create(p.CreateRequest{Urn: certsURN("c"), Properties: checked})
	require.NoError(t, err)
	return checked, created
}

// pemOut is a string output, secret or not.
func pemOut(m property.Map, key string) string { return m.Get(key).AsString() }

// clientOut is one client certificate's certPem and keyPem.
func clientOut(t *testing.T, m property.Map, cn string) (certPEM, keyPEM string) {
	t.Helper()
	c, ok := m.Get("clientCertificates").AsMap().GetOk(cn)
	require.True(t, ok, "no client certificate for %s", cn)
	return c.AsMap().Get("certPem").AsString(), c.AsMap().Get("keyPem").AsString()
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
	return testpki.VerifyAt(caPEM, certPEM, host, usage, time.Time{})
}

// TestListenerCertificatesChain guards what brokers and clients will check:
// the server certificate verifies under the CA for every serverNames entry
// (the wildcard for a pod's name) as a server and as a client (brokers use
// it towards each other), the client certificate as a client only, and the
// keys are the PKCS#8 PEM that Kafka's PEM keystore reads.
func TestListenerCertificatesChain(t *testing.T) {
	s := certsServer(t)
	_, created := createCerts(t, s, certsProps(nil))
	out := created.Properties
	caPEM, serverPEM := pemOut(out, "caCertPem"), pemOut(out, "serverCertPem")

	ca := mustParseCert(t, caPEM)
	assert.True(t, ca.IsCA)
	assert.Equal(t, "kafka-broker CA", ca.Subject.String()[len("CN="):])
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, ca.KeyUsage)
	assert.Equal(t, ca.Subject, ca.Issuer, "self-signed")
	assert.NoError(t, ca.CheckSignatureFrom(ca))
	mustParseKey(t, pemOut(out, "caKeyPem"), caPEM)
	assert.WithinDuration(t, time.Now().Add(CADefaultValidityDays*24*time.Hour), ca.NotAfter, time.Minute)

	server := mustParseCert(t, serverPEM)
	assert.Equal(t, "CN=kafka-broker", server.Subject.String(), "the whole subject is the CN: principal User:kafka-broker")
	assert.Equal(t, []string{"*.kafka-headless.ns.svc", "*.kafka-headless.ns.svc.cluster.local", "kafka.ns.svc", "localhost"},
		server.DNSNames)
	require.Len(t, server.IPAddresses, 2)
	assert.Equal(t, "127.0.0.1", server.IPAddresses[0].String())
	assert.Equal(t, "::1", server.IPAddresses[1].String())
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, server.ExtKeyUsage)
	mustParseKey(t, pemOut(out, "serverKeyPem"), serverPEM)
	for _, host := range append([]string{"kafka-0.kafka-headless.ns.svc", "kafka-2.kafka-headless.ns.svc.cluster.local"},
		testServerNames[2:]...) {
		assert.NoError(t, verify(t, caPEM, serverPEM, host, x509.ExtKeyUsageServerAuth), "server certificate for %s", host)
	}
	assert.Error(t, verify(t, caPEM, serverPEM, "kafka-headless.ns.svc", x509.ExtKeyUsageServerAuth),
		"a wildcard covers one label, not the bare domain")
	assert.Error(t, verify(t, caPEM, serverPEM, "a.kafka-0.kafka-headless.ns.svc", x509.ExtKeyUsageServerAuth),
		"a wildcard covers exactly one label")
	assert.Error(t, verify(t, caPEM, serverPEM, "kafka.other.svc", x509.ExtKeyUsageServerAuth))
	assert.NoError(t, verify(t, caPEM, serverPEM, "", x509.ExtKeyUsageClientAuth), "brokers authenticate to each other with it")

	clientPEM, clientKey := clientOut(t, out, "umbrella-deployer")
	client := mustParseCert(t, clientPEM)
	assert.Equal(t, "CN=umbrella-deployer", client.Subject.String())
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, client.ExtKeyUsage)
	assert.Empty(t, client.DNSNames)
	mustParseKey(t, clientKey, clientPEM)
	assert.NoError(t, verify(t, caPEM, clientPEM, "", x509.ExtKeyUsageClientAuth))
	assert.Error(t, verify(t, caPEM, clientPEM, "", x509.ExtKeyUsageServerAuth), "a client certificate cannot serve")

	other, err := pki.NewCA("someone else CA", 10, time.Now())
	require.NoError(t, err)
	assert.Error(t, verify(t, other.CertPEM, serverPEM, "localhost", x509.ExtKeyUsageServerAuth), "another CA does not trust it")

	assert.Equal(t, pemOut(out, "serverKeyPem")+serverPEM+caPEM, pemOut(out, "serverKeystorePem"),
		"the keystore Kafka reads: key, certificate, CA")
	assert.Equal(t, server.NotAfter.UTC().Format(time.RFC3339), out.Get("notAfter").AsString())
	assert.WithinDuration(t, time.Now().Add(CertDefaultValidityDays*24*time.Hour), server.NotAfter, time.Minute)
	assert.True(t, server.NotBefore.Before(time.Now().Add(-50*time.Minute)), "backdated for clock skew")
	assert.Equal(t, "kafka-broker CA", created.ID)
}

// TestListenerCertificatesSecrets guards that every key is secret in the
// outputs and that nothing else holds one in clear.
func TestListenerCertificatesSecrets(t *testing.T) {
	s := certsServer(t)
	_, created := createCerts(t, s, certsProps(nil))
	out := created.Properties
	for _, k := range []string{"caKeyPem", "serverKeyPem", "serverKeystorePem", "clientCertificates"} {
		assert.True(t, out.Get(k).Secret(), "%s must be secret", k)
	}
	for _, k := range []string{"caCertPem", "serverCertPem", "notAfter"} {
		assert.False(t, out.Get(k).Secret(), "%s is public", k)
	}
	_, key := clientOut(t, out, "umbrella-deployer")
	assert.True(t, out.Get("clientCertificates").Secret(), "clientCertificates holds keys: secret")
	for _, key := range []string{pemOut(out, "caKeyPem"), pemOut(out, "serverKeyPem"), key} {
		assertNoClearText(t, out, strings.Split(key, "\n")[1])
	}

	spec, err := p.GetSchema(context.Background(), Name, Version, Provider())
	require.NoError(t, err)
	res, ok := spec.Resources[ListenerCertificatesToken]
	require.True(t, ok)
	for _, k := range []string{"caKeyPem", "serverKeyPem", "serverKeystorePem", "clientCertificates"} {
		assert.True(t, res.Properties[k].Secret, "schema: %s secret", k)
	}
	assert.True(t, spec.Types["umbrellakafka:index:ClientCertificate"].Properties["keyPem"].Secret)
	assert.ElementsMatch(t, []string{"serverCommonName", "serverNames"}, res.RequiredInputs)
	for _, k := range []string{"serverCommonName", "serverNames", "clientCommonNames", "validityDays", "rotation", "caValidityDays"} {
		assert.NotEmpty(t, res.InputProperties[k].Description, "input %s undocumented", k)
	}
	assert.Equal(t, float64(CertDefaultValidityDays), res.InputProperties["validityDays"].Default)
	assert.Equal(t, float64(CADefaultValidityDays), res.InputProperties["caValidityDays"].Default)
}

// TestListenerCertificatesNoKafkaNeeded: a provider without bootstrapServers
// makes certificates (preview and create), and refuses, with the fix, an
// operation that does need Kafka.
func TestListenerCertificatesNoKafkaNeeded(t *testing.T) {
	s := certsServer(t)
	checked, failures := checkCertsInputs(t, s, certsProps(nil))
	require.Empty(t, failures)
	preview, err := s.Create(p.CreateRequest{Urn: certsURN("c"), Properties: checked, DryRun: true})
	require.NoError(t, err)
	assert.True(t, preview.Properties.Get("caCertPem").IsComputed(), "a preview generates nothing")
	assert.Equal(t, "kafka-broker", preview.Properties.Get("serverCommonName").AsString())

	_, created := createCerts(t, s, certsProps(nil))
	assert.NotEmpty(t, pemOut(created.Properties, "caCertPem"))

	_, err = read(s, "orders", property.Map{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "umbrellakafka:bootstrapServers is empty: set it to the brokers' host:port list, e.g. "+
		"pulumi config set --path 'umbrellakafka:bootstrapServers[0]' kafka-0.kafka:9092 (only ListenerCertificates "+
		"works without it)")
}

// TestListenerCertificatesLifecycle guards "nothing regenerated unless
// asked": a refresh and an unchanged update keep every byte; a rotation
// re-issues every leaf and keeps the CA (so old and new leaves verify under
// one CA); new serverNames re-issue only the server certificate, a new client
// name only its own; caValidityDays replaces; an import is refused.
func TestListenerCertificatesLifecycle(t *testing.T) {
	s := certsServer(t)
	checked, created := createCerts(t, s, certsProps(nil))
	id, state := created.ID, created.Properties

	got, err := s.Read(p.ReadRequest{ID: id, Urn: certsURN("c"), Properties: state, Inputs: checked})
	require.NoError(t, err)
	assert.Equal(t, id, got.ID)
	assert.Equal(t, state, got.Properties, "a refresh changes nothing")
	d, err := s.Diff(p.DiffRequest{ID: id, Urn: certsURN("c"), State: got.Properties, Inputs: checked})
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "no change after create: %v", d.DetailedDiff)
	same, err := s.Update(p.UpdateRequest{ID: id, Urn: certsURN("c"), State: state, Inputs: checked})
	require.NoError(t, err)
	assert.Equal(t, state, same.Properties, "an update without a change changes nothing")

	step := func(t *testing.T, state property.Map, edit func(map[string]property.Value)) (property.Map, map[string]p.PropertyDiff) {
		t.Helper()
		news, failures := checkCertsInputs(t, s, certsProps(edit))
		require.Empty(t, failures)
		d, err := s.Diff(p.DiffRequest{ID: id, Urn: certsURN("c"), State: state, Inputs: news})
		require.NoError(t, err)
		preview, err := s.Update(p.UpdateRequest{ID: id, Urn: certsURN("c"), State: state, Inputs: news, DryRun: true})
		require.NoError(t, err)
		assert.Equal(t, state.Get("caCertPem"), preview.Properties.Get("caCertPem"), "the preview knows the CA stays")
		upd, err := s.Update(p.UpdateRequest{ID: id, Urn: certsURN("c"), State: state, Inputs: news})
		require.NoError(t, err)
		return upd.Properties, d.DetailedDiff
	}
	changed := func(a, b property.Map, key string) bool { return !a.Get(key).Equals(b.Get(key)) }
	clientCert := func(m property.Map, cn string) string { c, _ := clientOut(t, m, cn); return c }

	rotated, diff := step(t, state, func(m map[string]property.Value) { m["rotation"] = property.New(1.0) })
	assert.Equal(t, map[string]p.PropertyDiff{"rotation": {Kind: p.Update, InputDiff: true}}, diff)
	assert.Equal(t, pemOut(state, "caCertPem"), pemOut(rotated, "caCertPem"))
	assert.Equal(t, pemOut(state, "caKeyPem"), pemOut(rotated, "caKeyPem"))
	for _, k := range []string{"serverCertPem", "serverKeyPem", "serverKeystorePem"} {
		assert.True(t, changed(state, rotated, k), "rotation re-issues %s", k)
	}
	assert.NotEqual(t, clientCert(state, "umbrella-deployer"), clientCert(rotated, "umbrella-deployer"))
	caPEM := pemOut(rotated, "caCertPem")
	for _, st := range []property.Map{state, rotated} {
		assert.NoError(t, verify(t, caPEM, pemOut(st, "serverCertPem"), "kafka-1.kafka-headless.ns.svc", x509.ExtKeyUsageServerAuth))
		assert.NoError(t, verify(t, caPEM, clientCert(st, "umbrella-deployer"), "", x509.ExtKeyUsageClientAuth))
	}
	assert.Equal(t, 1.0, rotated.Get("rotation").AsNumber())

	renamed, diff := step(t, rotated, func(m map[string]property.Value) {
		m["rotation"] = property.New(1.0)
		m["serverNames"] = propStringList(append([]string{"kafka-external.example.com"}, testServerNames...))
	})
	assert.Equal(t, map[string]p.PropertyDiff{"serverNames": {Kind: p.Update, InputDiff: true}}, diff)
	assert.True(t, changed(rotated, renamed, "serverCertPem"))
	assert.Equal(t, clientCert(rotated, "umbrella-deployer"), clientCert(renamed, "umbrella-deployer"),
		"new server names leave the client certificates alone")
	assert.NoError(t, verify(t, caPEM, pemOut(renamed, "serverCertPem"), "kafka-external.example.com", x509.ExtKeyUsageServerAuth))

	moreClients, diff := step(t, renamed, func(m map[string]property.Value) {
		m["rotation"] = property.New(1.0)
		m["serverNames"] = propStringList(append([]string{"kafka-external.example.com"}, testServerNames...))
		m["clientCommonNames"] = propStringList([]string{"umbrella-deployer", "ops-tool"})
	})
	assert.Equal(t, map[string]p.PropertyDiff{"clientCommonNames": {Kind: p.Update, InputDiff: true}}, diff)
	assert.False(t, changed(renamed, moreClients, "serverCertPem"), "adding a client does not roll the brokers")
	assert.Equal(t, clientCert(renamed, "umbrella-deployer"), clientCert(moreClients, "umbrella-deployer"))
	assert.Equal(t, "CN=ops-tool", mustParseCert(t, clientCert(moreClients, "ops-tool")).Subject.String())

	fewer, _ := step(t, moreClients, func(m map[string]property.Value) {
		m["rotation"] = property.New(1.0)
		m["serverNames"] = propStringList(append([]string{"kafka-external.example.com"}, testServerNames...))
		m["clientCommonNames"] = propStringList([]string{"ops-tool"})
	})
	_, has := fewer.Get("clientCertificates").AsMap().GetOk("umbrella-deployer")
	assert.False(t, has, "a removed name's certificate is dropped")
	assert.Equal(t, clientCert(moreClients, "ops-tool"), clientCert(fewer, "ops-tool"))

	news, failures := checkCertsInputs(t, s, certsProps(func(m map[string]property.Value) { m["caValidityDays"] = property.New(1000.0) }))
	require.Empty(t, failures)
	d, err = s.Diff(p.DiffRequest{ID: id, Urn: certsURN("c"), State: state, Inputs: news})
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{"caValidityDays": {Kind: p.UpdateReplace, InputDiff: true}}, d.DetailedDiff)

	_, err = s.Read(p.ReadRequest{ID: "kafka-broker CA", Urn: certsURN("imported")})
	require.EqualError(t, err, `ListenerCertificates "kafka-broker CA" cannot be imported: its keys exist only in the `+
		`Pulumi state; declare the resource and run pulumi up to generate them`)
}

// TestListenerCertificatesValidity: validityDays sets the leaves' lifetime
// and notAfter. (That a leaf which would outlive its CA is refused with the
// fix is internal/pki's TestIssueRefusesLeafOutlivingCA.)
func TestListenerCertificatesValidity(t *testing.T) {
	s := certsServer(t)
	_, created := createCerts(t, s, certsProps(func(m map[string]property.Value) {
		m["validityDays"] = property.New(30.0)
		m["caValidityDays"] = property.New(60.0)
	}))
	server := mustParseCert(t, pemOut(created.Properties, "serverCertPem"))
	assert.WithinDuration(t, time.Now().Add(30*24*time.Hour), server.NotAfter, time.Minute)
	assert.Equal(t, server.NotAfter.UTC().Format(time.RFC3339), created.Properties.Get("notAfter").AsString())
}

// TestListenerCertificatesCheck guards the refusals made before anything is
// generated.
func TestListenerCertificatesCheck(t *testing.T) {
	s := certsServer(t)
	cases := []struct {
		name string
		edit func(map[string]property.Value)
		want map[string]string
	}{
		{"validityDays 0", func(m map[string]property.Value) { m["validityDays"] = property.New(0.0) },
			map[string]string{"validityDays": "validityDays = 0: is outside 1..3650 days; set it between 1 and 3650, or leave it unset for 365"}},
		{"validityDays 4000", func(m map[string]property.Value) {
			m["validityDays"] = property.New(4000.0)
			m["caValidityDays"] = property.New(5000.0)
		}, map[string]string{"validityDays": "validityDays = 4000: is outside 1..3650 days; set it between 1 and 3650, or leave it unset for 365"}},
		{"caValidityDays over 20 years", func(m map[string]property.Value) { m["caValidityDays"] = property.New(7301.0) },
			map[string]string{"caValidityDays": "caValidityDays = 7301: is outside 1..7300 days; set it between 1 and 7300, or leave it unset for 3650"}},
		{"CA shorter than its leaves", func(m map[string]property.Value) { m["caValidityDays"] = property.New(100.0) },
			map[string]string{"caValidityDays": "caValidityDays = 100: is below validityDays (365): the leaves would outlive the CA that signs them; raise caValidityDays or lower validityDays"}},
		{"empty serverNames", func(m map[string]property.Value) { m["serverNames"] = propStringList(nil) },
			map[string]string{"serverNames": `serverNames = []: is empty: a server certificate must name the hosts clients dial, or every TLS host name check fails; list the brokers' DNS names and IPs, e.g. ["*.kafka-headless.ns.svc", "localhost", "127.0.0.1"]`}},
		{"bad server names", func(m map[string]property.Value) {
			m["serverNames"] = propStringList([]string{"kafka.ns.svc", "kafka_0.ns", "a.*.ns", "*", ""})
		}, map[string]string{
			"serverNames[1]": `serverNames[1] = "kafka_0.ns": has the label "kafka_0", which is not a DNS label (letters, digits and '-', up to 63; '*' only as the whole leftmost label); use a DNS name ("kafka.ns.svc"), a wildcard for one leftmost label ("*.kafka-headless.ns.svc") or an IP`,
			"serverNames[2]": `serverNames[2] = "a.*.ns": has the label "*", which is not a DNS label (letters, digits and '-', up to 63; '*' only as the whole leftmost label); use a DNS name ("kafka.ns.svc"), a wildcard for one leftmost label ("*.kafka-headless.ns.svc") or an IP`,
			"serverNames[3]": `serverNames[3] = "*": is a wildcard without a domain; use a DNS name ("kafka.ns.svc"), a wildcard for one leftmost label ("*.kafka-headless.ns.svc") or an IP`,
			"serverNames[4]": `serverNames[4] = "": is not a host name (empty, or over 253 characters); use a DNS name ("kafka.ns.svc"), a wildcard for one leftmost label ("*.kafka-headless.ns.svc") or an IP`,
		}},
		{"duplicate clientCommonNames", func(m map[string]property.Value) {
			m["clientCommonNames"] = propStringList([]string{"umbrella-deployer", "ops", "umbrella-deployer"})
		}, map[string]string{"clientCommonNames[2]": `clientCommonNames[2] = "umbrella-deployer": repeats clientCommonNames[0]: one certificate per common name; list each name once`}},
		{"common name the principal rule cannot read", func(m map[string]property.Value) {
			m["clientCommonNames"] = propStringList([]string{"ops,team"})
		}, map[string]string{"clientCommonNames[0]": `clientCommonNames[0] = "ops,team": has a character other than letters, digits, '.', '_' and '-' (or does not start with a letter or digit): the subject DN would escape it, and Kafka's principal would not be User:<name>; use a plain name, e.g. "umbrella-deployer"`}},
		{"empty serverCommonName", func(m map[string]property.Value) { m["serverCommonName"] = property.New("") },
			map[string]string{"serverCommonName": `serverCommonName = "": is empty: a certificate needs a common name, the principal User:<name>; set it, e.g. "kafka-broker"`}},
		{"long serverCommonName", func(m map[string]property.Value) { m["serverCommonName"] = property.New(strings.Repeat("k", 65)) },
			map[string]string{"serverCommonName": fmt.Sprintf(`serverCommonName = %q: is 65 characters long, over X.509's limit of 64; shorten it`, strings.Repeat("k", 65))}},
		{"negative rotation", func(m map[string]property.Value) { m["rotation"] = property.New(-1.0) },
			map[string]string{"rotation": "rotation = -1: is negative; start at 0 and only ever raise it by one to re-issue the leaves"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, failures := checkCertsInputs(t, s, certsProps(tc.edit))
			assert.Equal(t, tc.want, failures)
		})
	}

	t.Run("defaults and limits accepted", func(t *testing.T) {
		checked, failures := checkCertsInputs(t, s, certsProps(nil))
		assert.Empty(t, failures)
		assert.Equal(t, 365.0, checked.Get("validityDays").AsNumber())
		assert.Equal(t, 0.0, checked.Get("rotation").AsNumber())
		assert.Equal(t, 3650.0, checked.Get("caValidityDays").AsNumber())
		for _, days := range []float64{1, 3650} {
			_, failures := checkCertsInputs(t, s, certsProps(func(m map[string]property.Value) {
				m["validityDays"] = property.New(days)
				m["caValidityDays"] = property.New(7300.0)
			}))
			assert.Empty(t, failures, "validityDays %v", days)
		}
	})
	t.Run("unknown values during preview are not checked", func(t *testing.T) {
		_, failures := checkCertsInputs(t, s, certsProps(func(m map[string]property.Value) {
			m["serverNames"] = property.New(property.Computed)
			m["validityDays"] = property.New(property.Computed)
		}))
		assert.Empty(t, failures)
		_, failures = checkCertsInputs(t, s, certsProps(func(m map[string]property.Value) {
			m["serverNames"] = property.New([]property.Value{property.New("localhost"), property.New(property.Computed)})
			m["clientCommonNames"] = property.New([]property.Value{property.New(property.Computed)})
		}))
		assert.Empty(t, failures, "a list with an unknown item is checked once it is known")
	})
}

// TestListenerCertificatesDiff guards which changes update in place (new
// leaves, same CA) and which replace (a new CA).
func TestListenerCertificatesDiff(t *testing.T) {
	state := ListenerCertificatesState{ServerCommonName: "kafka-broker", ServerNames: []string{"a", "b"},
		ClientCommonNames: []string{"umbrella-deployer"}, ValidityDays: 365, Rotation: 0, CAValidityDays: 3650}
	base := func() ListenerCertificatesArgs {
		return ListenerCertificatesArgs{ServerCommonName: "kafka-broker", ServerNames: []string{"a", "b"},
			ClientCommonNames: []string{"umbrella-deployer"}, ValidityDays: intp(365), Rotation: intp(0), CAValidityDays: intp(3650)}
	}
	cases := []struct {
		name string
		edit func(*ListenerCertificatesArgs)
		want map[string]p.DiffKind
	}{
		{"no change", func(*ListenerCertificatesArgs) {}, map[string]p.DiffKind{}},
		{"rotation", func(a *ListenerCertificatesArgs) { a.Rotation = intp(1) }, map[string]p.DiffKind{"rotation": p.Update}},
		{"serverNames order", func(a *ListenerCertificatesArgs) { a.ServerNames = []string{"b", "a"} },
			map[string]p.DiffKind{"serverNames": p.Update}},
		{"clientCommonNames", func(a *ListenerCertificatesArgs) { a.ClientCommonNames = nil },
			map[string]p.DiffKind{"clientCommonNames": p.Update}},
		{"validityDays", func(a *ListenerCertificatesArgs) { a.ValidityDays = intp(30) }, map[string]p.DiffKind{"validityDays": p.Update}},
		{"serverCommonName", func(a *ListenerCertificatesArgs) { a.ServerCommonName = "broker" },
			map[string]p.DiffKind{"serverCommonName": p.Update}},
		{"caValidityDays replaces", func(a *ListenerCertificatesArgs) { a.CAValidityDays = intp(1000) },
			map[string]p.DiffKind{"caValidityDays": p.UpdateReplace}},
		{"unknown rotation during preview", func(a *ListenerCertificatesArgs) { a.Rotation = nil },
			map[string]p.DiffKind{"rotation": p.Update}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := base()
			tc.edit(&args)
			d := diffCerts(state, args)
			got := map[string]p.DiffKind{}
			for k, v := range d.DetailedDiff {
				got[k] = v.Kind
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, len(tc.want) > 0, d.HasChanges)
		})
	}
	// An empty list and no list are the same (the state records [] for none).
	noClients := state
	noClients.ClientCommonNames = []string{}
	args := base()
	args.ClientCommonNames = nil
	assert.False(t, diffCerts(noClients, args).HasChanges)
}
