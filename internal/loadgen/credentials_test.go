package loadgen

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/testkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

func TestCredentialsFromAMountedSecret(t *testing.T) {
	ca, err := testpki.NewCA("loadgen-test-ca")
	require.NoError(t, err)
	dir := testkafka.WriteCredentials(t, "connectors", "s3cret\n", "SCRAM-SHA-512", ca.CertPEM)
	c, err := ReadCredentials(dir)
	require.NoError(t, err)
	assert.Equal(t, "connectors", c.User)
	assert.Equal(t, "s3cret", c.Password, "a trailing newline in the Secret is not part of the password")
	opts, err := c.SecurityOpts()
	require.NoError(t, err)
	assert.Len(t, opts, 2, "TLS and SASL")

	_, err = ReadCredentials(t.TempDir())
	require.ErrorContains(t, err, "username")
	require.ErrorContains(t, err, "mount the service's kafka-<service> Secret there")

	_, err = Credentials{User: "a", Password: "b", Mechanism: "PLAIN", CAPEM: []byte(ca.CertPEM)}.SecurityOpts()
	require.ErrorContains(t, err, `sasl.mechanism "PLAIN": want SCRAM-SHA-512 or SCRAM-SHA-256`)
	_, err = Credentials{User: "a", Password: "b", Mechanism: "SCRAM-SHA-512", CAPEM: []byte("not pem")}.SecurityOpts()
	require.ErrorContains(t, err, "ca.crt holds no PEM certificate")

	err = ClientConfig{Bootstrap: []string{"k:9092"}, DNSServer: "10.96.0.10:53", CredentialsDir: dir}.Validate()
	require.ErrorContains(t, err, "--dns-server and --credentials together are not supported")
}
