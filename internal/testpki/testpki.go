// Package testpki makes throw-away X.509 material for tests that run real
// TLS: a CA, server certificates for the local Kafka nodes and client
// certificates for mTLS principals. Everything is generated at run time, so
// no key or certificate is ever committed, and it is all PEM because Kafka
// 4.1 reads PEM keystores and truststores (ssl.keystore.type=PEM) and Go's
// crypto/tls reads PEM too.
//
// The certificates are made by internal/pki, the code that makes the
// deploy's ListenerCertificates, so tests run with material of the same
// shape: ECDSA P-256 keys written as PKCS#8 ("PRIVATE KEY", the only
// unencrypted form Kafka's PEM keystore reads), subjects CN=<name> alone, a
// CA that signs leaves only. What testpki adds is the test's choices (a short
// validity, 127.0.0.1 and localhost in every server certificate), TLS, and
// EncryptKey, which produces the legacy RFC 1423 encrypted PEM
// (Proc-Type/DEK-Info headers), the form a client_key_passphrase decrypts in
// the Terraform Kafka provider and here.
package testpki

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/pki"
)

// leafDays is the validity of every leaf: long enough for any test run,
// short enough that a leaked one is useless.
const leafDays = 1

// caDays is the CA's validity: a day longer than a leaf's, because internal/pki
// refuses a leaf that would outlive its CA, and a local stack re-issues its
// broker certificate (RotateBrokerCertificate) while it runs.
const caDays = leafDays + 1

// CA is a self-signed certificate authority that signs server and client
// certificates.
type CA struct {
	signer pki.Signer
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
	ca, err := pki.NewCA(name, caDays, time.Now())
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	signer, err := pki.LoadSigner(ca.CertPEM, ca.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	return &CA{signer: signer, CertPEM: ca.CertPEM}, nil
}

// Server issues a server certificate for CN=<cn>, valid for 127.0.0.1,
// localhost and the extra DNS names or IP addresses given.
func (ca *CA) Server(cn string, extraNames ...string) (Pair, error) {
	names := append([]string{"127.0.0.1", "localhost"}, extraNames...)
	return ca.issue(cn, names, pki.ServerUsages())
}

// Client issues a client certificate whose subject is exactly CN=<cn>, so a
// broker that maps principals from the CN sees User:<cn>.
func (ca *CA) Client(cn string) (Pair, error) {
	return ca.issue(cn, nil, pki.ClientUsages())
}

func (ca *CA) issue(cn string, names []string, usages []x509.ExtKeyUsage) (Pair, error) {
	leaf, err := ca.signer.Issue(cn, names, usages, leafDays, time.Now())
	if err != nil {
		return Pair{}, fmt.Errorf("testpki: %w", err)
	}
	return Pair{CertPEM: leaf.CertPEM, KeyPEM: leaf.KeyPEM}, nil
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
