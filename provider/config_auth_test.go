package provider

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// clientMaterial is a CA, a client pair signed by it, and the pair's key
// encrypted with "right-passphrase" such that "wrong" is refused by the
// padding check (RFC 1423 lets 1 in 256 wrong passphrases through to a
// garbage key; the test needs the refusal, so it draws until it gets one).
type clientMaterial struct {
	ca           *testpki.CA
	pair         testpki.Pair
	encryptedKey string
}

func newClientMaterial(t *testing.T) clientMaterial {
	t.Helper()
	ca, err := testpki.NewCA("unit-ca")
	require.NoError(t, err)
	pair, err := ca.Client("unit-client")
	require.NoError(t, err)
	for {
		enc, err := testpki.EncryptKey(pair.KeyPEM, "right-passphrase")
		require.NoError(t, err)
		if _, err := decryptKey([]byte(enc), "wrong"); err != nil {
			return clientMaterial{ca: ca, pair: pair, encryptedKey: enc}
		}
	}
}

func TestConfigureErrors(t *testing.T) {
	m := newClientMaterial(t)
	other, err := m.ca.Client("someone-else")
	require.NoError(t, err)
	block, _ := pem.Decode([]byte(m.pair.KeyPEM))
	pkcs8Encrypted := string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: block.Bytes}))
	with := func(kv ...any) map[string]property.Value {
		args := map[string]property.Value{"bootstrapServers": property.New([]property.Value{property.New("k:9092")})}
		for i := 0; i < len(kv); i += 2 {
			switch v := kv[i+1].(type) {
			case string:
				args[kv[i].(string)] = property.New(v)
			case bool:
				args[kv[i].(string)] = property.New(v)
			case float64:
				args[kv[i].(string)] = property.New(v)
			}
		}
		return args
	}
	tests := []struct {
		name string
		args map[string]property.Value
		want string
	}{
		{"unknown mechanism", with("saslMechanism", "gssapi", "saslUsername", "u", "saslPassword", "p"),
			`umbrellakafka:saslMechanism = "gssapi" is not supported: use one of plain, scram-sha256, scram-sha512, ` +
				`oauthbearer, or unset it`},
		{"Kafka's spelling", with("saslMechanism", "SCRAM-SHA-512", "saslUsername", "u", "saslPassword", "p"),
			`umbrellakafka:saslMechanism = "SCRAM-SHA-512" is not supported (Kafka's name SCRAM-SHA-512 is written ` +
				`"scram-sha512" here): use one of plain, scram-sha256, scram-sha512, oauthbearer, or unset it`},
		{"aws-iam", with("saslMechanism", "aws-iam"),
			`umbrellakafka:saslMechanism = "aws-iam" is not supported: AWS MSK IAM authentication needs AWS ` +
				`credentials, a region and request signing against AWS endpoints, which this provider does not ` +
				`target; use one of plain, scram-sha256, scram-sha512, oauthbearer (MSK also offers SASL/SCRAM and ` +
				`mTLS), or manage that cluster with pulumi-kafka`},
		{"scram without password", with("saslMechanism", "scram-sha512", "saslUsername", "admin"),
			`umbrellakafka:saslMechanism = "scram-sha512" needs a SASL user name and password, and saslPassword ` +
				`is not set: set it (saslPassword with --secret, or $KAFKA_SASL_USERNAME / $KAFKA_SASL_PASSWORD), ` +
				`or unset saslMechanism, saslUsername and saslPassword for no SASL`},
		{"scram without either", with("saslMechanism", "scram-sha256"),
			`umbrellakafka:saslMechanism = "scram-sha256" needs a SASL user name and password, and saslUsername ` +
				`and saslPassword is not set: set it (saslPassword with --secret, or $KAFKA_SASL_USERNAME / ` +
				`$KAFKA_SASL_PASSWORD), or unset saslMechanism, saslUsername and saslPassword for no SASL`},
		{"plain password without user", with("saslPassword", "p"),
			`umbrellakafka:saslMechanism = "plain" needs a SASL user name and password, and saslUsername is not ` +
				`set: set it (saslPassword with --secret, or $KAFKA_SASL_USERNAME / $KAFKA_SASL_PASSWORD), or unset ` +
				`saslMechanism, saslUsername and saslPassword for no SASL`},
		{"oauthbearer without token url", with("saslMechanism", "oauthbearer", "saslUsername", "id", "saslPassword", "s"),
			`umbrellakafka:saslTokenUrl is not set, and saslMechanism = "oauthbearer" needs it: set it to the ` +
				`OAuth 2.0 token endpoint of your identity provider (or $KAFKA_SASL_TOKEN_URL), e.g. ` +
				`https://login.example.com/oauth2/token`},
		{"oauthbearer bad token url", with("saslMechanism", "oauthbearer", "saslUsername", "id", "saslPassword", "s",
			"saslTokenUrl", "ftp://idp/token"),
			`umbrellakafka:saslTokenUrl = "ftp://idp/token" is not an http(s) URL: set it to the token endpoint, ` +
				`e.g. https://login.example.com/oauth2/token`},
		{"clientCert without clientKey", with("clientCert", m.pair.CertPEM),
			`umbrellakafka:clientCert is set without clientKey: set clientKey (with --secret, or $KAFKA_CLIENT_KEY) ` +
				`to the certificate's private key, or remove clientCert`},
		{"clientKey without clientCert", with("clientKey", m.pair.KeyPEM),
			`umbrellakafka:clientKey is set without clientCert: set clientCert (or $KAFKA_CLIENT_CERT) to the ` +
				`certificate the key belongs to, or remove clientKey`},
		{"caCert neither PEM nor file", with("caCert", "/nonexistent/ca.pem"),
			`umbrellakafka:caCert is neither PEM text (no -----BEGIN line) nor the path of a readable file (open ` +
				`/nonexistent/ca.pem: no such file or directory): paste the PEM text including its BEGIN/END lines, ` +
				`or give the file's path`},
		{"deprecated caCertFile names itself", with("caCertFile", "/nonexistent/ca.pem"),
			`umbrellakafka:caCertFile is neither PEM text (no -----BEGIN line) nor the path of a readable file (open ` +
				`/nonexistent/ca.pem: no such file or directory): paste the PEM text including its BEGIN/END lines, ` +
				`or give the file's path`},
		{"caCert bad PEM", with("caCert", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"),
			`umbrellakafka:caCert holds no PEM certificate: paste the CA certificate(s) including the -----BEGIN ` +
				`CERTIFICATE----- and -----END CERTIFICATE----- lines, or give the path of a file holding them`},
		{"clientKey not PEM, value not repeated", with("clientCert", m.pair.CertPEM, "clientKey", "hunter2-not-a-key"),
			`umbrellakafka:clientKey is neither PEM text (no -----BEGIN line) nor the path of a readable file: ` +
				`paste the PEM text including its BEGIN/END lines, or give the file's path`},
		{"encrypted key without passphrase", with("clientCert", m.pair.CertPEM, "clientKey", m.encryptedKey),
			`umbrellakafka:clientKey is encrypted (Proc-Type: 4,ENCRYPTED) and clientKeyPassphrase is not set: set ` +
				`clientKeyPassphrase (with --secret, or $KAFKA_CLIENT_KEY_PASSPHRASE) to its passphrase`},
		{"wrong passphrase", with("clientCert", m.pair.CertPEM, "clientKey", m.encryptedKey, "clientKeyPassphrase", "wrong"),
			`umbrellakafka:clientKeyPassphrase does not decrypt clientKey (wrong passphrase): set ` +
				`clientKeyPassphrase to the passphrase the key was encrypted with`},
		{"encrypted PKCS#8", with("clientCert", m.pair.CertPEM, "clientKey", pkcs8Encrypted),
			`umbrellakafka:clientKey is an encrypted PKCS#8 key (BEGIN ENCRYPTED PRIVATE KEY), which ` +
				`clientKeyPassphrase cannot decrypt (as in pulumi-kafka): convert it to a legacy encrypted PEM key ` +
				`(openssl rsa -aes256 -traditional, or openssl ec -aes256, on it) or to an unencrypted key kept as ` +
				`a secret (openssl pkcs8 -nocrypt)`},
		{"key of another certificate", with("clientCert", m.pair.CertPEM, "clientKey", other.KeyPEM),
			`umbrellakafka:clientCert and clientKey do not make a usable pair (tls: private key does not match ` +
				`public key): set clientKey to the private key clientCert was issued for (a wrong clientKeyPassphrase ` +
				`can also yield an unreadable key)`},
		{"TLS setting without TLS", with("tlsEnabled", false, "caCert", m.ca.CertPEM),
			`umbrellakafka:caCert is set but tlsEnabled = false, so it would be ignored: set tlsEnabled to true ` +
				`for a TLS listener, or remove caCert (and its environment variable)`},
		{"negative timeout", with("timeout", -1.0),
			`umbrellakafka:timeout = -1 is not a positive number of seconds: set it to 1 or more, or unset it for 120`},
		{"zero timeout", with("timeout", 0.0),
			`umbrellakafka:timeout = 0 is not a positive number of seconds: set it to 1 or more, or unset it for 120`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newTestServer()
			require.NoError(t, err)
			require.EqualError(t, s.Configure(property.NewMap(tt.args)), tt.want)
		})
	}
}

// TestGoodTLSMaterialConfigures is the other side of TestConfigureErrors:
// PEM text, file paths and an encrypted key with its passphrase are accepted.
func TestGoodTLSMaterialConfigures(t *testing.T) {
	m := newClientMaterial(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, []byte(m.ca.CertPEM), 0o600))
	keyFile := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(keyFile, []byte(m.encryptedKey), 0o600))
	cfg := &Config{BootstrapServers: []string{"k:9092"}, CACert: &caFile, ClientCert: &m.pair.CertPEM,
		ClientKey: &keyFile, ClientKeyPassphrase: ptr("right-passphrase")}
	require.NoError(t, cfg.Configure(context.Background()))
	require.NotNil(t, connTLS(t, cfg))
	require.Len(t, connTLS(t, cfg).Certificates, 1)
	assert.Equal(t, "unit-client", connTLS(t, cfg).Certificates[0].Leaf.Subject.CommonName)
	assert.False(t, connTLS(t, cfg).InsecureSkipVerify)

	// pulumi-kafka's deprecated path-only settings, used when the others are unset.
	certFile := filepath.Join(dir, "cert.pem")
	require.NoError(t, os.WriteFile(certFile, []byte(m.pair.CertPEM), 0o600))
	plainKeyFile := filepath.Join(dir, "plain-key.pem")
	require.NoError(t, os.WriteFile(plainKeyFile, []byte(m.pair.KeyPEM), 0o600))
	files := &Config{BootstrapServers: []string{"k:9092"}, CACertFile: &caFile, ClientCertFile: &certFile,
		ClientKeyFile: &plainKeyFile}
	require.NoError(t, files.Configure(context.Background()))
	require.Len(t, connTLS(t, files).Certificates, 1)
	assert.Equal(t, "unit-client", connTLS(t, files).Certificates[0].Leaf.Subject.CommonName)
	require.NotNil(t, connTLS(t, files).RootCAs)

	plainCfg := &Config{BootstrapServers: []string{"k:9092"}, TLSEnabled: ptr(false)}
	require.NoError(t, plainCfg.Configure(context.Background()))
	assert.Nil(t, connTLS(t, plainCfg), "tlsEnabled = false: no TLS")
}

// checkConfig runs CheckConfig alone and returns the checked inputs, where
// defaults and environment variables have been applied.
func checkConfig(t *testing.T, args map[string]property.Value) property.Map {
	t.Helper()
	s, err := newTestServer()
	require.NoError(t, err)
	news, err := toStruct(property.NewMap(args))
	require.NoError(t, err)
	resp, err := s.rpc.CheckConfig(s.ctx, &rpc.CheckRequest{Urn: "urn:pulumi:test::umbrella::pulumi:providers:umbrellakafka::default", News: news})
	require.NoError(t, err)
	require.Empty(t, resp.Failures)
	out, err := fromStruct(resp.Inputs)
	require.NoError(t, err)
	return out
}

// TestDefaultsAsPulumiKafka: without settings or environment, the checked
// configuration has pulumi-kafka's defaults (TLS on, plain, 120 s).
func TestDefaultsAsPulumiKafka(t *testing.T) {
	for _, env := range []string{EnvEnableTLS, EnvSASLMechanism, EnvSkipVerify, EnvSASLUsername, EnvSASLPassword,
		EnvCACert, EnvClientCert, EnvClientKey, EnvClientKeyPassphrase, EnvSASLTokenURL} {
		t.Setenv(env, "")
	}
	got := checkConfig(t, map[string]property.Value{"bootstrapServers": property.New([]property.Value{property.New("k:9092")})})
	assert.Equal(t, property.New(true), got.Get("tlsEnabled"))
	assert.Equal(t, property.New(MechPlain), got.Get("saslMechanism"))
	assert.Equal(t, property.New(false), got.Get("skipTlsVerify"))
	assert.Equal(t, property.New(120.0), got.Get("timeout"))
	assert.True(t, got.Get("caCert").IsNull())
	assert.True(t, got.Get("saslUsername").IsNull())
}

// TestEnvironmentDefaults: pulumi-kafka's environment variables fill unset
// settings, an explicit setting wins, and secrets from the environment are
// secret in the checked configuration.
func TestEnvironmentDefaults(t *testing.T) {
	t.Setenv(EnvEnableTLS, "false")
	t.Setenv(EnvSASLMechanism, "scram-sha512")
	t.Setenv(EnvSASLUsername, "env-user")
	t.Setenv(EnvSASLPassword, "env-password")
	t.Setenv(EnvSASLTokenURL, "http://127.0.0.1:1/token")
	t.Setenv(EnvCACert, "")
	got := checkConfig(t, map[string]property.Value{
		"bootstrapServers": property.New([]property.Value{property.New("k:9092")}),
		"saslUsername":     property.New("explicit-user"),
	})
	assert.Equal(t, property.New(false), got.Get("tlsEnabled"))
	assert.Equal(t, property.New("scram-sha512"), got.Get("saslMechanism"))
	assert.Equal(t, property.New("explicit-user"), got.Get("saslUsername"), "the explicit setting wins")
	assert.Equal(t, property.New("env-password").WithSecret(true), got.Get("saslPassword"))
	assert.Equal(t, property.New("http://127.0.0.1:1/token"), got.Get("saslTokenUrl"))

	t.Setenv(EnvSASLOAuthScopes, "kafka, admin ,")
	cfg := &Config{BootstrapServers: []string{"k:9092"}, TLSEnabled: ptr(false)}
	require.NoError(t, cfg.Configure(context.Background()))
	assert.Equal(t, []string{"kafka", "admin"}, cfg.SASLOAuthScopes)
	explicit := &Config{BootstrapServers: []string{"k:9092"}, TLSEnabled: ptr(false), SASLOAuthScopes: []string{"x"}}
	require.NoError(t, explicit.Configure(context.Background()))
	assert.Equal(t, []string{"x"}, explicit.SASLOAuthScopes)

	t.Setenv(EnvSASLMechanism, "aws-iam")
	s, err := newTestServer()
	require.NoError(t, err)
	err = s.Configure(property.NewMap(map[string]property.Value{
		"bootstrapServers": property.New([]property.Value{property.New("k:9092")})}))
	require.ErrorContains(t, err, `umbrellakafka:saslMechanism = "aws-iam" is not supported`)
}

// TestAuthSchema guards the connection settings' schema: pulumi-kafka's
// names, the secrets, the defaults and the environment variables.
func TestAuthSchema(t *testing.T) {
	spec, err := p.GetSchema(context.Background(), Name, Version, Provider())
	require.NoError(t, err)
	props := spec.Provider.InputProperties
	for _, k := range []string{"saslPassword", "clientKey", "clientKeyPassphrase"} {
		assert.True(t, props[k].Secret, "%s must be secret", k)
		assert.True(t, spec.Config.Variables[k].Secret, "config variable %s must be secret", k)
	}
	for _, k := range []string{"caCert", "clientCert", "saslUsername", "saslMechanism", "saslTokenUrl"} {
		assert.False(t, props[k].Secret, "%s is not a secret", k)
	}
	assert.Equal(t, true, props["tlsEnabled"].Default)
	assert.Equal(t, false, props["skipTlsVerify"].Default)
	assert.Equal(t, "plain", props["saslMechanism"].Default)
	assert.Equal(t, 120.0, props["timeout"].Default)
	envs := map[string]string{
		"tlsEnabled": EnvEnableTLS, "caCert": EnvCACert, "clientCert": EnvClientCert, "clientKey": EnvClientKey,
		"clientKeyPassphrase": EnvClientKeyPassphrase, "skipTlsVerify": EnvSkipVerify, "saslMechanism": EnvSASLMechanism,
		"saslUsername": EnvSASLUsername, "saslPassword": EnvSASLPassword, "saslTokenUrl": EnvSASLTokenURL,
	}
	for k, env := range envs {
		require.NotNil(t, props[k].DefaultInfo, "%s has no environment default", k)
		assert.Equal(t, []string{env}, props[k].DefaultInfo.Environment, k)
	}
	for _, old := range []string{"tls", "tlsCaPem", "requestTimeoutSeconds"} {
		assert.NotContains(t, props, old, "the pre-parity name %s is gone", old)
	}
}

// TestReadmeTableMatchesSchema keeps the README's tables equal to the schema:
// a row for every provider setting, naming its environment variable, and one
// for every resource and function.
func TestReadmeTableMatchesSchema(t *testing.T) {
	spec, err := p.GetSchema(context.Background(), Name, Version, Provider())
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(line, "| `"), "`"); ok && strings.HasPrefix(line, "| `") {
			rows[name] = line
		}
	}
	for name, prop := range spec.Provider.InputProperties {
		row, ok := rows[name]
		if !assert.True(t, ok, "README's settings table has no row for %s", name) {
			continue
		}
		if prop.DefaultInfo != nil {
			for _, env := range prop.DefaultInfo.Environment {
				assert.Contains(t, row, "`"+env+"`", "README row of %s", name)
			}
		}
		assert.Equal(t, prop.Secret, strings.Contains(row, "(secret)"), "README row of %s: secret marking", name)
	}
	for _, token := range append(slices.Collect(maps.Keys(spec.Resources)), slices.Collect(maps.Keys(spec.Functions))...) {
		_, ok := rows[token]
		assert.True(t, ok, "README's resource table has no row for %s", token)
	}
}

// TestTLSDefaultAgainstPlaintextSaysTlsEnabled guards the migration pitfall
// of the pulumi-kafka default: tlsEnabled unset means TLS, and a listener
// without TLS closes the connection on the ClientHello (as Kafka does; the
// real one is TestProviderAuthFailures). The error is final, not retried
// until the timeout, and says to set tlsEnabled = false.
func TestTLSDefaultAgainstPlaintextSaysTlsEnabled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 512)) // the ClientHello, read as a request size
			c.Close()
		}
	}()
	s, err := newTestServer()
	require.NoError(t, err)
	require.NoError(t, s.Configure(property.NewMap(map[string]property.Value{
		"bootstrapServers": property.New([]property.Value{property.New(l.Addr().String())}),
		"timeout":          property.New(60.0), // far above the bound below, which a busy machine must not reach
	})))
	start := time.Now()
	_, err = read(s, "plaintext", property.Map{})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 30*time.Second, "final, not retried until the 60 s timeout")
	assert.Contains(t, err.Error(), "the TLS handshake with "+l.Addr().String()+" ended without an answer (")
	assert.Contains(t, err.Error(), "): the listener does not speak TLS (a PLAINTEXT or SASL_PLAINTEXT listener closes the connection): "+
		"set the provider's tlsEnabled = false (it defaults to true, as in pulumi-kafka), or point bootstrapServers at a "+
		"TLS listener")
}

// connTLS is the crypto/tls configuration the configured provider's client
// would use.
func connTLS(t *testing.T, c *Config) *tls.Config {
	t.Helper()
	tc, err := c.conn.conn.TLS.Config()
	require.NoError(t, err)
	return tc
}
