package testpki

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/pki"
)

// KeyFor parses keyPEM as Kafka's PEM keystore reads keys (one unencrypted
// PKCS#8 "PRIVATE KEY", here ECDSA P-256) and checks that it belongs to
// certPEM: the checks tests make on every leaf they are handed.
func KeyFor(keyPEM, certPEM string) (*ecdsa.PrivateKey, error) {
	b, rest := pem.Decode([]byte(keyPEM))
	switch {
	case b == nil:
		return nil, errors.New("no PEM block in the key")
	case strings.TrimSpace(string(rest)) != "":
		return nil, errors.New("more than one PEM block in the key")
	case b.Type != "PRIVATE KEY":
		return nil, fmt.Errorf("key block %q: Kafka's PEM keystore reads unencrypted PKCS#8 (PRIVATE KEY) only", b.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || key.Curve.Params().Name != "P-256" {
		return nil, fmt.Errorf("the key is a %T, not an ECDSA P-256 key", k)
	}
	cert, err := pki.ParseCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("the key does not belong to its certificate")
	}
	return key, nil
}

// VerifyAt checks certPEM against caPEM alone (no system roots) for usage
// and, if host is not "", for host, at time at (the zero time: now).
func VerifyAt(caPEM, certPEM, host string, usage x509.ExtKeyUsage, at time.Time) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return errors.New("no certificate in the CA PEM")
	}
	cert, err := pki.ParseCertificate(certPEM)
	if err != nil {
		return err
	}
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: at})
	return err
}
