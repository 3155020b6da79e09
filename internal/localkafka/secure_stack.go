package localkafka

// A secure stack (config.Spec.Secure, security.mode sasl-scram).
//
// The nodes run components.ServerProperties as it is, with no listener added:
// CLIENT (SASL_SSL, SCRAM-SHA-512) on the node's client port, INTERNAL (TLS
// with client certificates) on a port of its own, CONTROLLER (TLS with client
// certificates) on the controller port. There is no PLAINTEXT listener at
// all, so this package's own admin client (Admin, Client, the readiness
// checks, AddScramUser) dials INTERNAL with the deployer's certificate
// (CN=umbrella-deployer, a super user), as the deploy-time provider does.
//
// The certificates come from a CA made at start (internal/testpki): one
// broker certificate shared by every node, CN=kafka-broker (the brokers'
// super-user principal) for 127.0.0.1 and localhost, written with its key and
// the CA as <Dir>/stack-tls/broker.pem, and the CA as ca.pem: the folder is
// the components.Network's TLSDir. RotateBrokerCertificate re-issues the
// broker certificate (same CA, new key); a node serves it once restarted.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// stackTLSDir is the TLSDir of a secure stack's nodes, under Options.Dir.
const stackTLSDir = "stack-tls"

// stackPKI is a secure stack's certificates.
type stackPKI struct {
	pool     *x509.CertPool
	deployer tls.Certificate

	mu     sync.Mutex
	broker testpki.Pair // the certificate broker.pem holds now
}

// internalPorts is how many port pairs the INTERNAL listeners take.
func internalPorts(o Options) int {
	if !o.Spec.Secure() {
		return 0
	}
	return o.Nodes
}

// checkSecureStack refuses Options.Security on a secure stack: the overlay
// adds listeners next to a PLAINTEXT one its admin client uses, and a secure
// stack has none.
func checkSecureStack(o Options) error {
	if o.Spec.Secure() && o.Security != nil {
		return fmt.Errorf("localkafka: stack %s is secure (security.mode = %s) and runs its own SASL_SSL and mTLS "+
			"listeners: drop Options.Security, or start localkafka.Plaintext(spec) for the overlay", o.Spec.Stack,
			o.Spec.Security.Mode)
	}
	return nil
}

// writeStackPKI makes the CA, the deployer's client certificate and the
// broker certificate, and writes ca.pem and broker.pem into the TLSDir.
func (c *Cluster) writeStackPKI() error {
	ca, err := testpki.NewCA("localkafka-ca")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.net.TLSDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.net.TLSDir, components.TLSTruststoreFile), []byte(ca.CertPEM), 0o600); err != nil {
		return err
	}
	deployer, err := ca.Client(components.DeployerPrincipalName)
	if err != nil {
		return err
	}
	cert, err := deployer.TLS()
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(ca.CertPEM)) {
		return errors.New("localkafka: the CA certificate does not parse")
	}
	c.ca = ca
	c.pki = &stackPKI{pool: pool, deployer: cert}
	_, err = c.issueBrokerCertificate()
	return err
}

// issueBrokerCertificate issues a broker certificate with a new key and
// replaces broker.pem (key, certificate, CA: the chain Kafka's PEM keystore
// reads) in one rename, so a node starting meanwhile reads a whole file.
func (c *Cluster) issueBrokerCertificate() (*x509.Certificate, error) {
	pair, err := c.ca.Server(components.BrokerPrincipalName)
	if err != nil {
		return nil, err
	}
	cert, err := parseCertPEM(pair.CertPEM)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(c.net.TLSDir, components.TLSKeystoreFile)
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(pair.KeyPEM+pair.CertPEM+c.ca.CertPEM), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	c.pki.mu.Lock()
	c.pki.broker = pair
	c.pki.mu.Unlock()
	return cert, nil
}

// RotateBrokerCertificate re-issues the broker certificate of a secure
// stack (same CA, new key and serial) and returns it. Running nodes keep
// serving the old one until they restart (Restart), as pods do after the
// certificate Secret changes.
func (c *Cluster) RotateBrokerCertificate() (*x509.Certificate, error) {
	if c.pki == nil {
		return nil, errors.New("localkafka: RotateBrokerCertificate: the stack is not secure (security.mode none)")
	}
	return c.issueBrokerCertificate()
}

// BrokerCertificate is the certificate broker.pem holds now (nil on a
// plaintext stack).
func (c *Cluster) BrokerCertificate() *x509.Certificate {
	if c.pki == nil {
		return nil
	}
	c.pki.mu.Lock()
	defer c.pki.mu.Unlock()
	cert, _ := parseCertPEM(c.pki.broker.CertPEM) // parsed once already by issueBrokerCertificate
	return cert
}

func parseCertPEM(s string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("localkafka: no PEM block in the certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// DeployerTLS is the TLS config of the deployer (User:umbrella-deployer, a
// super user) on the INTERNAL listener: its client certificate and the CA.
// Nil on a plaintext stack.
func (c *Cluster) DeployerTLS() *tls.Config {
	if c.pki == nil {
		return nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: c.pki.pool, Certificates: []tls.Certificate{c.pki.deployer}}
}

// ClientTLS trusts the CA and presents no certificate: what a service uses
// on the CLIENT listener, with SCRAM-SHA-512 on top. Nil on a plaintext stack.
func (c *Cluster) ClientTLS() *tls.Config {
	if c.pki == nil {
		return nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: c.pki.pool}
}

// adminTLS is the dial option of this package's own clients.
func (c *Cluster) adminTLS() []kgo.Opt {
	if c.pki == nil {
		return nil
	}
	return []kgo.Opt{kgo.DialTLSConfig(c.DeployerTLS())}
}

// ClientAddr is node id's address on the stack's client listener: CLIENT
// (SASL_SSL) on a secure stack, PLAINTEXT otherwise.
func (c *Cluster) ClientAddr(id int) string {
	return net.JoinHostPort(Host, strconv.Itoa(c.nodes[id].clientPort))
}

// ClientBootstrap returns every node's ClientAddr, by node id.
func (c *Cluster) ClientBootstrap() []string {
	out := make([]string, len(c.nodes))
	for i := range c.nodes {
		out[i] = c.ClientAddr(i)
	}
	return out
}

// InternalAddr is node id's INTERNAL (mTLS) address on a secure stack, ""
// on a plaintext one.
func (c *Cluster) InternalAddr(id int) string {
	if !c.spec.Secure() {
		return ""
	}
	return net.JoinHostPort(Host, strconv.Itoa(c.nodes[id].internalPort))
}

// InternalBootstrap returns every node's InternalAddr, by node id.
func (c *Cluster) InternalBootstrap() []string {
	out := make([]string, len(c.nodes))
	for i := range c.nodes {
		out[i] = c.InternalAddr(i)
	}
	return out
}

// ControllerAddr is node id's CONTROLLER address ("" on a broker-only node).
func (c *Cluster) ControllerAddr(id int) string {
	if !c.Spec().IsController(id) { // SetControllers may change the roles
		return ""
	}
	return net.JoinHostPort(Host, strconv.Itoa(c.nodes[id].controllerPort))
}

// ServedCertificate dials addr with TLS as the deployer (any listener of a
// secure stack takes that certificate) and returns the certificate the node
// presents: after a rotation, which certificate a restarted node serves.
func (c *Cluster) ServedCertificate(ctx context.Context, addr string) (*x509.Certificate, error) {
	if c.pki == nil {
		return nil, errors.New("localkafka: ServedCertificate: the stack is not secure (security.mode none)")
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 3 * time.Second}, Config: c.DeployerTLS()}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("localkafka: TLS to %s: %w", addr, err)
	}
	defer conn.Close()
	peers := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(peers) == 0 {
		return nil, fmt.Errorf("localkafka: %s presented no certificate", addr)
	}
	return peers[0], nil
}
