package testpki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHandshake proves the material works for real mTLS: a server with a
// Server pair, a client with a Client pair, both trusting only the CA, and
// the server sees the client's CN.
func TestHandshake(t *testing.T) {
	ca, err := NewCA("test-ca")
	require.NoError(t, err)
	srv, err := ca.Server("broker", "kafka-0.kafka")
	require.NoError(t, err)
	cli, err := ca.Client("alice")
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(ca.CertPEM)))

	srvCert, err := srv.TLS()
	require.NoError(t, err)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{srvCert},
		ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	require.NoError(t, err)
	defer l.Close()
	peer := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			peer <- err.Error()
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			peer <- err.Error()
			return
		}
		peer <- tc.ConnectionState().PeerCertificates[0].Subject.String()
		_, _ = io.WriteString(c, "ok")
	}()

	cliCert, err := cli.TLS()
	require.NoError(t, err)
	conn, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cliCert},
		ServerName: "kafka-0.kafka"})
	require.NoError(t, err)
	defer conn.Close()
	assert.Equal(t, "CN=alice", <-peer)
}

// TestServerNames checks the SANs: loopback IP, localhost and the extras.
func TestServerNames(t *testing.T) {
	ca, err := NewCA("test-ca")
	require.NoError(t, err)
	srv, err := ca.Server("broker", "kafka-0.kafka-headless.ns.svc", "10.1.2.3")
	require.NoError(t, err)
	block, _ := pem.Decode([]byte(srv.CertPEM))
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.Equal(t, []string{"localhost", "kafka-0.kafka-headless.ns.svc"}, cert.DNSNames)
	require.Len(t, cert.IPAddresses, 2)
	assert.True(t, cert.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)))
	assert.True(t, cert.IPAddresses[1].Equal(net.ParseIP("10.1.2.3")))
	for _, host := range []string{"127.0.0.1", "localhost", "kafka-0.kafka-headless.ns.svc"} {
		assert.NoError(t, cert.VerifyHostname(host))
	}
	assert.Error(t, cert.VerifyHostname("other.example"))
}

// TestEncryptKey proves an encrypted key decrypts with its passphrase into
// the original key, and not with another.
func TestEncryptKey(t *testing.T) {
	ca, err := NewCA("test-ca")
	require.NoError(t, err)
	cli, err := ca.Client("bob")
	require.NoError(t, err)
	enc, err := EncryptKey(cli.KeyPEM, "s3cret")
	require.NoError(t, err)
	block, _ := pem.Decode([]byte(enc))
	require.NotNil(t, block)
	assert.Equal(t, "PRIVATE KEY", block.Type)
	assert.Equal(t, "4,ENCRYPTED", block.Headers["Proc-Type"])
	assert.True(t, x509.IsEncryptedPEMBlock(block)) //nolint:staticcheck

	der, err := x509.DecryptPEMBlock(block, []byte("s3cret")) //nolint:staticcheck
	require.NoError(t, err)
	plain, _ := pem.Decode([]byte(cli.KeyPEM))
	assert.Equal(t, plain.Bytes, der)
	// RFC 1423 checks only the padding, so a wrong passphrase is refused
	// with a chance of 255/256 and otherwise yields garbage, never the key.
	wrong, err := x509.DecryptPEMBlock(block, []byte("wrong")) //nolint:staticcheck
	assert.True(t, err != nil || !bytes.Equal(wrong, plain.Bytes))

	_, err = EncryptKey("not pem", "x")
	assert.EqualError(t, err, "testpki: EncryptKey: no PEM block in the key")
}
