package provider

// The X.509 material of ListenerCertificates: pure functions from names and
// validity to PEM, with the clock passed in so tests can pin it.
//
// Keys are ECDSA P-256 (fast to make, accepted by the JVM's TLS and Go's) and
// are written as unencrypted PKCS#8 ("PRIVATE KEY"), the only unencrypted
// form Kafka's PEM keystore (ssl.keystore.type=PEM) reads. Every subject is
// CN=<name> alone, so Kafka's principal mapping rule ^CN=([^,]+)$ turns it
// into User:<name>.

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

// certBackdate is how far before "now" a certificate becomes valid: a broker
// or client whose clock runs a little behind the deploy machine's must not
// see a certificate from the future.
const certBackdate = time.Hour

// pemPair is a certificate and its private key, both PEM.
type pemPair struct {
	certPEM, keyPEM string
	notAfter        time.Time
}

// signer is a CA that issues leaves: its parsed certificate and key.
type signer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// newCA makes a self-signed CA named cn, valid for days from now.
func newCA(cn string, days int, now time.Time) (pemPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pemPair{}, fmt.Errorf("generating the CA key: %w", err)
	}
	tmpl, err := certTemplate(cn, days, now)
	if err != nil {
		return pemPair{}, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	// Leaves only: the CA signs no intermediate.
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return pemPair{}, fmt.Errorf("signing the CA certificate: %w", err)
	}
	return encodePair(der, key, tmpl.NotAfter)
}

// loadSigner parses a CA made by newCA back from its PEM.
func loadSigner(certPEM, keyPEM string) (signer, error) {
	cb, _ := pem.Decode([]byte(certPEM))
	kb, _ := pem.Decode([]byte(keyPEM))
	if cb == nil || kb == nil {
		return signer{}, errors.New("the state's caCertPem or caKeyPem is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return signer{}, fmt.Errorf("parsing the state's caCertPem: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return signer{}, fmt.Errorf("parsing the state's caKeyPem: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return signer{}, errors.New("the state's caKeyPem is not the key of caCertPem")
	}
	return signer{cert: cert, key: key}, nil
}

// issue signs a leaf for cn, valid for days from now, with the extended key
// usages given and names (IPs as IP SANs, the rest as DNS SANs; duplicates
// dropped). A leaf that would outlive its CA is refused: it would stop
// verifying when the CA expires, earlier than notAfter says.
func (s signer) issue(cn string, names []string, usages []x509.ExtKeyUsage, days int, now time.Time) (pemPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pemPair{}, fmt.Errorf("generating the key of %s: %w", cn, err)
	}
	tmpl, err := certTemplate(cn, days, now)
	if err != nil {
		return pemPair{}, err
	}
	if tmpl.NotAfter.After(s.cert.NotAfter) {
		return pemPair{}, fmt.Errorf("the certificate of %s would be valid until %s, after its CA expires (%s): "+
			"lower validityDays, or raise caValidityDays (which replaces the CA: every client must then trust the new one)",
			cn, tmpl.NotAfter.Format(time.RFC3339), s.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = usages
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.cert, &key.PublicKey, s.key)
	if err != nil {
		return pemPair{}, fmt.Errorf("signing the certificate of %s: %w", cn, err)
	}
	return encodePair(der, key, tmpl.NotAfter)
}

// certTemplate is what every certificate shares: a random serial, the
// subject CN=<cn> and the validity window.
func certTemplate(cn string, days int, now time.Time) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating a serial number: %w", err)
	}
	now = now.UTC().Truncate(time.Second)
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-certBackdate),
		NotAfter:     now.Add(time.Duration(days) * 24 * time.Hour),
	}, nil
}

// encodePair writes a certificate and its key as PEM.
func encodePair(der []byte, key *ecdsa.PrivateKey, notAfter time.Time) (pemPair, error) {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return pemPair{}, fmt.Errorf("encoding a private key: %w", err)
	}
	return pemPair{
		certPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		notAfter: notAfter,
	}, nil
}

// parseCertPEM parses the first certificate of a PEM text.
func parseCertPEM(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("the state holds a certificate that is not PEM")
	}
	return x509.ParseCertificate(b.Bytes)
}
