package provider

// TLS settings: tlsEnabled, caCert, clientCert, clientKey,
// clientKeyPassphrase and skipTlsVerify, with pulumi-kafka's names and
// meaning: PEM text or a file path for the three PEM settings, the CA
// trusted besides the system roots, legacy encrypted keys (Proc-Type:
// 4,ENCRYPTED) decrypted with the passphrase. All of it is parsed in
// Configure, so bad material fails before any resource is touched.

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// tlsOn reports whether TLS is used; unset means pulumi-kafka's default, true.
func (c *Config) tlsOn() bool { return c.TLSEnabled == nil || *c.TLSEnabled }

// pemSetting is one of the three PEM settings as given: its value and the
// name of the setting it came from (the deprecated *File one when only that
// is set), for errors.
type pemSetting struct{ value, field string }

func pick(v *string, field string, file *string, fileField string) pemSetting {
	if deref(v) == "" && deref(file) != "" {
		return pemSetting{deref(file), fileField}
	}
	return pemSetting{deref(v), field}
}

func (c *Config) caCert() pemSetting { return pick(c.CACert, "caCert", c.CACertFile, "caCertFile") }
func (c *Config) clientCert() pemSetting {
	return pick(c.ClientCert, "clientCert", c.ClientCertFile, "clientCertFile")
}
func (c *Config) clientKey() pemSetting {
	return pick(c.ClientKey, "clientKey", c.ClientKeyFile, "clientKeyFile")
}

// validateTLS checks how the TLS settings combine, without parsing them.
func (c *Config) validateTLS() error {
	if !c.tlsOn() {
		for _, s := range []struct {
			name string
			set  bool
		}{
			{c.caCert().field, c.caCert().value != ""}, {c.clientCert().field, c.clientCert().value != ""},
			{c.clientKey().field, c.clientKey().value != ""}, {"skipTlsVerify", deref(c.SkipTLSVerify)},
		} {
			if s.set {
				return fmt.Errorf("umbrellakafka:%s is set but tlsEnabled = false, so it would be ignored: set "+
					"tlsEnabled to true for a TLS listener, or remove %s (and its environment variable)", s.name, s.name)
			}
		}
		return nil
	}
	cert, key := c.clientCert().value != "", c.clientKey().value != ""
	if cert && !key {
		return fmt.Errorf("umbrellakafka:clientCert is set without clientKey: set clientKey (with --secret, or $%s) "+
			"to the certificate's private key, or remove clientCert", EnvClientKey)
	}
	if key && !cert {
		return fmt.Errorf("umbrellakafka:clientKey is set without clientCert: set clientCert (or $%s) to the "+
			"certificate the key belongs to, or remove clientKey", EnvClientCert)
	}
	return nil
}

// tlsSettings reads the TLS material of a validated configuration (files
// read, key decrypted) and checks that it makes a TLS configuration; nil
// without tlsEnabled.
func (c *Config) tlsSettings() (*kafkaadmin.TLS, error) {
	if !c.tlsOn() {
		return nil, nil
	}
	t := &kafkaadmin.TLS{SkipVerify: deref(c.SkipTLSVerify)}
	ca := c.caCert()
	if ca.value != "" {
		pemBytes, err := pemOrFile(ca.field, ca.value, false)
		if err != nil {
			return nil, err
		}
		t.CACert = string(pemBytes)
	}
	if c.clientCert().value != "" {
		cert, key, err := c.clientPair()
		if err != nil {
			return nil, err
		}
		t.ClientCert, t.ClientKey = string(cert), string(key)
	}
	var pair *kafkaadmin.KeyPairError
	switch _, err := t.Config(); {
	case errors.Is(err, kafkaadmin.ErrNoCACert):
		return nil, fmt.Errorf("umbrellakafka:%s holds no PEM certificate: paste the CA certificate(s) "+
			"including the -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines, or give the path of a "+
			"file holding them", ca.field)
	case errors.As(err, &pair):
		return nil, fmt.Errorf("umbrellakafka:clientCert and clientKey do not make a usable pair (%v): "+
			"set clientKey to the private key clientCert was issued for (a wrong clientKeyPassphrase can also "+
			"yield an unreadable key)", pair.Err)
	case err != nil:
		return nil, err
	}
	return t, nil
}

// clientPair loads clientCert and clientKey, decrypting the key.
func (c *Config) clientPair() (certPEM, keyPEM []byte, err error) {
	cs, ks := c.clientCert(), c.clientKey()
	certPEM, err = pemOrFile(cs.field, cs.value, false)
	if err != nil {
		return nil, nil, err
	}
	if b, _ := pem.Decode(certPEM); b == nil || b.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("umbrellakafka:%s holds no PEM certificate: paste the client "+
			"certificate including its -----BEGIN CERTIFICATE----- line, or give the path of a file holding it", cs.field)
	}
	keyPEM, err = pemOrFile(ks.field, ks.value, true)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = decryptKey(keyPEM, deref(c.ClientKeyPassphrase))
	return certPEM, keyPEM, err
}

// decryptKey returns keyPEM's private key block, decrypted with passphrase
// if it is a legacy encrypted PEM block.
func decryptKey(keyPEM []byte, passphrase string) ([]byte, error) {
	var block *pem.Block
	for rest := keyPEM; ; {
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("umbrellakafka:clientKey holds no PEM private key: paste the key including its " +
				"-----BEGIN ... PRIVATE KEY----- line, or give the path of a file holding it")
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			break
		}
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("umbrellakafka:clientKey is an encrypted PKCS#8 key (BEGIN ENCRYPTED PRIVATE KEY), " +
			"which clientKeyPassphrase cannot decrypt (as in pulumi-kafka): convert it to a legacy encrypted PEM key " +
			"(openssl rsa -aes256 -traditional, or openssl ec -aes256, on it) or to an unencrypted key kept as a secret " +
			"(openssl pkcs8 -nocrypt)")
	}
	//nolint:staticcheck // legacy PEM encryption is the format clientKeyPassphrase has always meant.
	if !x509.IsEncryptedPEMBlock(block) {
		return pem.EncodeToMemory(block), nil
	}
	if passphrase == "" {
		return nil, fmt.Errorf("umbrellakafka:clientKey is encrypted (Proc-Type: 4,ENCRYPTED) and clientKeyPassphrase "+
			"is not set: set clientKeyPassphrase (with --secret, or $%s) to its passphrase", EnvClientKeyPassphrase)
	}
	der, err := x509.DecryptPEMBlock(block, []byte(passphrase)) //nolint:staticcheck // see above
	if err != nil {
		return nil, errors.New("umbrellakafka:clientKeyPassphrase does not decrypt clientKey (wrong passphrase): " +
			"set clientKeyPassphrase to the passphrase the key was encrypted with")
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
}

// pemOrFile returns value if it is PEM text, else the content of the file it
// names. The message for a secret setting does not repeat its value.
func pemOrFile(field, value string, secret bool) ([]byte, error) {
	if strings.Contains(value, "-----BEGIN") {
		return []byte(value), nil
	}
	b, err := os.ReadFile(value)
	if err == nil {
		return b, nil
	}
	if secret || strings.ContainsAny(value, "\n") || len(value) > 256 {
		return nil, fmt.Errorf("umbrellakafka:%s is neither PEM text (no -----BEGIN line) nor the path of a readable "+
			"file: paste the PEM text including its BEGIN/END lines, or give the file's path", field)
	}
	return nil, fmt.Errorf("umbrellakafka:%s is neither PEM text (no -----BEGIN line) nor the path of a readable "+
		"file (%v): paste the PEM text including its BEGIN/END lines, or give the file's path", field, err)
}
