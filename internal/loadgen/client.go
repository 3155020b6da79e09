package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// DefaultDialTimeout bounds one TCP connect to a broker. A dead broker's
// address is dialled again on every retry, so it is kept short.
const DefaultDialTimeout = 5 * time.Second

// ClientConfig says how to reach the cluster.
type ClientConfig struct {
	// Bootstrap are seed brokers, host:port.
	Bootstrap []string
	// DNSServer, when set (ip:port), resolves broker names through that
	// server instead of the system resolver: from a host outside the cluster,
	// point it at the cluster DNS to reach pod names.
	DNSServer string
	// DialTimeout bounds a connect; 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// CredentialsDir, when set, is a service's credentials Secret mounted as a
	// folder (components.BuildServiceSecret: username, password,
	// sasl.mechanism, ca.crt): the client then speaks SASL_SSL as that
	// service, exactly as the service itself would.
	CredentialsDir string
	// ClientID is the Kafka client id the brokers log and quota by; ""
	// means DefaultClientID.
	ClientID string
}

// DefaultClientID is ClientConfig.ClientID when unset.
const DefaultClientID = "kafka-loadgen"

// Credentials are a service's SASL/SCRAM identity and the CA it trusts.
type Credentials struct {
	User, Password, Mechanism string
	CAPEM                     []byte
}

// ReadCredentials reads a mounted credentials Secret.
func ReadCredentials(dir string) (Credentials, error) {
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", fmt.Errorf("--credentials %s: %w: mount the service's kafka-<service> Secret there", dir, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	var c Credentials
	var ca string
	var err error
	for _, f := range []struct {
		name string
		to   *string
	}{{"username", &c.User}, {"password", &c.Password}, {"sasl.mechanism", &c.Mechanism}, {"ca.crt", &ca}} {
		if *f.to, err = read(f.name); err != nil {
			return Credentials{}, err
		}
	}
	c.CAPEM = []byte(ca)
	return c, nil
}

// SecurityOpts are the kgo options that connect with these credentials:
// TLS trusting only the CA, then SASL with the mechanism (SCRAM-SHA-512 or
// SCRAM-SHA-256).
func (c Credentials) SecurityOpts() ([]kgo.Opt, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CAPEM) {
		return nil, errors.New("ca.crt holds no PEM certificate")
	}
	auth := scram.Auth{User: c.User, Pass: c.Password}
	var mech sasl.Mechanism
	switch strings.ToUpper(c.Mechanism) {
	case "SCRAM-SHA-512":
		mech = auth.AsSha512Mechanism()
	case "SCRAM-SHA-256":
		mech = auth.AsSha256Mechanism()
	default:
		return nil, fmt.Errorf("sasl.mechanism %q: want SCRAM-SHA-512 or SCRAM-SHA-256", c.Mechanism)
	}
	return []kgo.Opt{kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), kgo.SASL(mech)}, nil
}

// Validate checks the config; messages name the flag.
func (c ClientConfig) Validate() error {
	if len(c.Bootstrap) == 0 {
		return errors.New("--bootstrap is empty: give host:port[,host:port...]")
	}
	for _, b := range c.Bootstrap {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("--bootstrap %q: %v: want host:port", b, err)
		}
	}
	if c.DNSServer != "" && c.CredentialsDir != "" {
		return errors.New("--dns-server and --credentials together are not supported: run the client inside the cluster, where pod names resolve")
	}
	if c.DNSServer != "" {
		host, _, err := net.SplitHostPort(c.DNSServer)
		if err != nil || net.ParseIP(host) == nil {
			return fmt.Errorf("--dns-server %q: want ip:port, e.g. 10.96.0.10:53", c.DNSServer)
		}
	}
	return nil
}

// Dialer returns the net.Dialer the client connects with: with DNSServer
// set, its Resolver is Go's own resolver sending every query to DNSServer.
func (c ClientConfig) Dialer() *net.Dialer {
	d := &net.Dialer{Timeout: c.DialTimeout}
	if d.Timeout == 0 {
		d.Timeout = DefaultDialTimeout
	}
	if c.DNSServer != "" {
		server := c.DNSServer
		d.Resolver = &net.Resolver{
			PreferGo: true, // the cgo resolver would ignore Dial
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var dns net.Dialer
				return dns.DialContext(ctx, network, server)
			},
		}
	}
	return d
}

// Opts are the kgo options that connect as the config says: the seed
// brokers, the client id, and either the DNS-aware dialer (plaintext) or TLS
// and SASL from CredentialsDir. Every client of this package and
// cmd/kafka-lag-exporter starts from them; call Validate first.
func (c ClientConfig) Opts() ([]kgo.Opt, error) {
	id := c.ClientID
	if id == "" {
		id = DefaultClientID
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Bootstrap...),
		kgo.ClientID(id),
	}
	if c.CredentialsDir == "" {
		return append(opts, kgo.Dialer(c.Dialer().DialContext)), nil
	}
	creds, err := ReadCredentials(c.CredentialsDir)
	if err != nil {
		return nil, err
	}
	sec, err := creds.SecurityOpts()
	if err != nil {
		return nil, fmt.Errorf("--credentials %s: %w", c.CredentialsDir, err)
	}
	// kgo.DialTLSConfig wraps kgo's own dialer; a custom one would need the TLS
	// itself, so the DNS server option is refused with credentials (Validate).
	return append(opts, sec...), nil
}
