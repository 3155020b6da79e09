// Package testpki makes throw-away X.509 material for tests that run real
// TLS: a CA, server certificates for the local Kafka nodes and client
// certificates for mTLS principals. Everything is generated at run time, so
// no key or certificate is ever committed, and it is all PEM because Kafka
// 4.1 reads PEM keystores and truststores (ssl.keystore.type=PEM) and Go's
// crypto/tls reads PEM too.
//
// Keys are ECDSA P-256: fast to generate on a small machine and accepted by
// both the JVM and Go. Private keys are written as PKCS#8 ("PRIVATE KEY"),
// the only unencrypted form Kafka's PEM keystore reads. EncryptKey produces
// the legacy RFC 1423 encrypted PEM (Proc-Type/DEK-Info headers), the form a
// client_key_passphrase decrypts in the Terraform Kafka provider and here.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// validity of every certificate: long enough for any test run, short enough
// that a leaked one is useless.
const validity = 24 * time.Hour

// CA is a self-signed certificate authority that signs server and client
// certificates.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// CertPEM is the CA certificate, the truststore of both sides.
	CertPEM string
}

// Pair is a certificate and its private key, both PEM.
type Pair struct {
	// CertPEM is the leaf certificate followed by nothing else (the CA is
	// trusted directly).
	CertPEM string
	// KeyPEM is the unencrypted PKCS#8 private key.
	KeyPEM string
}

// NewCA creates a CA whose subject is CN=<name>.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("testpki: CA key: %w", err)
	}
	tmpl, err := template(name)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("testpki: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, CertPEM: encode("CERTIFICATE", der)}, nil
}

// Server issues a server certificate for CN=<cn>, valid for 127.0.0.1,
// localhost and the extra DNS names or IP addresses given.
func (ca *CA) Server(cn string, extraNames ...string) (Pair, error) {
	tmpl, err := template(cn)
	if err != nil {
		return Pair{}, err
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	tmpl.DNSNames = []string{"localhost"}
	for _, n := range extraNames {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return ca.issue(tmpl)
}

// Client issues a client certificate whose subject is exactly CN=<cn>, so a
// broker that maps principals from the CN sees User:<cn>.
func (ca *CA) Client(cn string) (Pair, error) {
	tmpl, err := template(cn)
	if err != nil {
		return Pair{}, err
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return ca.issue(tmpl)
}

func (ca *CA) issue(tmpl *x509.Certificate) (Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("testpki: key for %s: %w", tmpl.Subject.CommonName, err)
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return Pair{}, fmt.Errorf("testpki: certificate for %s: %w", tmpl.Subject.CommonName, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Pair{}, err
	}
	return Pair{CertPEM: encode("CERTIFICATE", der), KeyPEM: encode("PRIVATE KEY", pkcs8)}, nil
}

// TLS is the pair as a tls.Certificate.
func (p Pair) TLS() (tls.Certificate, error) {
	return tls.X509KeyPair([]byte(p.CertPEM), []byte(p.KeyPEM))
}

// EncryptKey returns keyPEM encrypted with passphrase as a legacy RFC 1423
// PEM block (AES-256-CBC, Proc-Type: 4,ENCRYPTED). That format is insecure
// against a padding oracle, which does not matter for a test key; it is
// what the Kafka provider's clientKeyPassphrase has always decrypted.
func EncryptKey(keyPEM, passphrase string) (string, error) {
	block, _ := pem.Decode([]byte(keyPEM))
	if block == nil {
		return "", errors.New("testpki: EncryptKey: no PEM block in the key")
	}
	enc, err := x509.EncryptPEMBlock(rand.Reader, block.Type, block.Bytes, []byte(passphrase), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		return "", fmt.Errorf("testpki: encrypting the key: %w", err)
	}
	return string(pem.EncodeToMemory(enc)), nil
}

func template(cn string) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour), // tolerate clock skew between JVM and test
		NotAfter:     now.Add(validity),
	}, nil
}

func encode(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}
