package kafkaadmin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// TLS are a connection's TLS settings as PEM text (the caller reads files
// and decrypts keys).
type TLS struct {
	// CACert is the CA bundle that signs the brokers' certificates, trusted
	// besides the system roots; empty trusts the system roots alone.
	CACert string
	// ClientCert and ClientKey are the client certificate and its unencrypted
	// private key for mTLS; both empty for none.
	ClientCert, ClientKey string
	// SkipVerify accepts any broker certificate.
	SkipVerify bool
}

// ErrNoCACert is Config's error for a CACert holding no PEM certificate.
var ErrNoCACert = errors.New("the CA bundle holds no PEM certificate")

// KeyPairError is Config's error for a client certificate and key that do
// not make a usable pair; Err is crypto/tls's reason.
type KeyPairError struct{ Err error }

func (e *KeyPairError) Error() string {
	return "the client certificate and key do not make a usable pair: " + e.Err.Error()
}

func (e *KeyPairError) Unwrap() error { return e.Err }

// Config is the crypto/tls configuration; nil for a nil TLS (plaintext).
func (t *TLS) Config() (*tls.Config, error) {
	if t == nil {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.SkipVerify} //nolint:gosec // the user's explicit choice
	if t.CACert != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(t.CACert)) {
			return nil, ErrNoCACert
		}
		tc.RootCAs = pool
	}
	if t.ClientCert != "" || t.ClientKey != "" {
		cert, err := tls.X509KeyPair([]byte(t.ClientCert), []byte(t.ClientKey))
		if err != nil {
			return nil, &KeyPairError{Err: err}
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
