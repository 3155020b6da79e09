// Package pki is the certificate authority and the leaf certificates of
// Kafka's TLS listeners, as pure functions from names and validity to PEM:
// no Pulumi, no provider, no file or network, and the clock passed in so
// tests can pin it. The provider's ListenerCertificates resource keeps its
// material in the Pulumi state through this package, and the throw-away
// material of the tests (package testpki) is made by it too, so tests run
// with certificates of the same shape the deploy makes.
//
// Keys are ECDSA P-256 (fast to make, accepted by the JVM's TLS and Go's) and
// are written as unencrypted PKCS#8 ("PRIVATE KEY"), the only unencrypted
// form Kafka's PEM keystore (ssl.keystore.type=PEM) reads. Every subject is
// CN=<name> alone, so Kafka's principal mapping rule ^CN=([^,]+)$ turns it
// into User:<name>.
//
// The error messages name the fields of the ListenerCertificates state and
// inputs (caCertPem, validityDays, ...): the state is where every CA this
// package loads is kept, and the messages are shown to its users as they are.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Backdate is how far before "now" a certificate becomes valid: a broker or
// client whose clock runs a little behind the deploy machine's must not see
// a certificate from the future.
const Backdate = time.Hour

// Pair is a certificate and its private key, both PEM, and when the
// certificate expires (so a caller need not parse it back to know).
type Pair struct {
	// CertPEM is the certificate alone (the CA is trusted directly, no chain).
	CertPEM string
	// KeyPEM is the unencrypted PKCS#8 private key ("PRIVATE KEY").
	KeyPEM string
	// NotAfter is the certificate's expiry.
	NotAfter time.Time
}

// Keystore is the file Kafka's ssl.keystore.type=PEM reads: the key, then
// the certificate, then the CA certificate that signed it.
func (p Pair) Keystore(caCertPEM string) string {
	return p.KeyPEM + p.CertPEM + caCertPEM
}

// ServerUsages are the extended key usages of a broker's certificate: a
// broker presents it to clients and also to the other brokers when it
// connects to them over mTLS. A new slice each call, so no caller can change
// another's.
func ServerUsages() []x509.ExtKeyUsage {
	return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
}

// ClientUsages are the extended key usages of a client's certificate: it
// authenticates a client and cannot serve.
func ClientUsages() []x509.ExtKeyUsage {
	return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
}

// Signer is a CA that issues leaves: its parsed certificate and key. It is
// made by LoadSigner, so a CA is always the PEM that NewCA made (and the
// state keeps), parsed back.
type Signer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA named cn, valid for days from now. It signs
// leaves only (path length 0): nothing below it can mint further CAs.
func NewCA(cn string, days int, now time.Time) (Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("generating the CA key: %w", err)
	}
	tmpl, err := template(cn, days, now)
	if err != nil {
		return Pair{}, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	// Leaves only: the CA signs no intermediate.
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Pair{}, fmt.Errorf("signing the CA certificate: %w", err)
	}
	return encode(der, key, tmpl.NotAfter)
}

// LoadSigner parses a CA made by NewCA back from its PEM, and refuses a key
// that is not the certificate's: leaves signed by it would verify under no CA.
func LoadSigner(certPEM, keyPEM string) (Signer, error) {
	cb, _ := pem.Decode([]byte(certPEM))
	kb, _ := pem.Decode([]byte(keyPEM))
	if cb == nil || kb == nil {
		return Signer{}, errors.New("the state's caCertPem or caKeyPem is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return Signer{}, fmt.Errorf("parsing the state's caCertPem: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return Signer{}, fmt.Errorf("parsing the state's caKeyPem: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return Signer{}, errors.New("the state's caKeyPem is not the key of caCertPem")
	}
	return Signer{cert: cert, key: key}, nil
}

// Issue signs a leaf for cn, valid for days from now, with the extended key
// usages given (ServerUsages, ClientUsages) and names (IPs as IP SANs, the
// rest as DNS SANs, each in the order given; duplicates dropped). A leaf that
// would outlive its CA is refused: it would stop verifying when the CA
// expires, earlier than its notAfter says.
func (s Signer) Issue(cn string, names []string, usages []x509.ExtKeyUsage, days int, now time.Time) (Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Pair{}, fmt.Errorf("generating the key of %s: %w", cn, err)
	}
	tmpl, err := template(cn, days, now)
	if err != nil {
		return Pair{}, err
	}
	if tmpl.NotAfter.After(s.cert.NotAfter) {
		return Pair{}, fmt.Errorf("the certificate of %s would be valid until %s, after its CA expires (%s): "+
			"lower validityDays, or raise caValidityDays (which replaces the CA: every client must then trust the new one)",
			cn, tmpl.NotAfter.Format(time.RFC3339), s.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = usages
	tmpl.IPAddresses, tmpl.DNSNames = splitNames(names)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.cert, &key.PublicKey, s.key)
	if err != nil {
		return Pair{}, fmt.Errorf("signing the certificate of %s: %w", cn, err)
	}
	return encode(der, key, tmpl.NotAfter)
}

// splitNames sorts subject alternative names into IPs and DNS names, keeping
// their order and dropping repeats (a certificate need not name a host twice).
func splitNames(names []string) (ips []net.IP, dns []string) {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, n)
		}
	}
	return ips, dns
}

// template is what every certificate shares: a random 127-bit serial (RFC
// 5280 allows up to 20 octets, positive), the subject CN=<cn> and the
// validity window, whole seconds in UTC, backdated by Backdate.
func template(cn string, days int, now time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating a serial number: %w", err)
	}
	now = now.UTC().Truncate(time.Second)
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-Backdate),
		NotAfter:     now.Add(time.Duration(days) * 24 * time.Hour),
	}, nil
}

// encode writes a certificate and its key as PEM.
func encode(der []byte, key *ecdsa.PrivateKey, notAfter time.Time) (Pair, error) {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Pair{}, fmt.Errorf("encoding a private key: %w", err)
	}
	return Pair{
		CertPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		NotAfter: notAfter,
	}, nil
}

// ParseCertificate parses the first certificate of a PEM text, as the state
// and Pair.CertPEM hold it.
func ParseCertificate(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("the state holds a certificate that is not PEM")
	}
	return x509.ParseCertificate(b.Bytes)
}

// FirstExpiry is the earliest notAfter of the certificates given (PEM): the
// day a set of leaves must be re-issued by. None gives the zero time.
func FirstExpiry(certPEMs ...string) (time.Time, error) {
	var first time.Time
	for _, s := range certPEMs {
		cert, err := ParseCertificate(s)
		if err != nil {
			return time.Time{}, err
		}
		if first.IsZero() || cert.NotAfter.Before(first) {
			first = cert.NotAfter
		}
	}
	return first, nil
}
