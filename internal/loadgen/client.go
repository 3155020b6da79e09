package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
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

// opts are the kgo options every client of this package shares.
func (c ClientConfig) opts() []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(c.Bootstrap...),
		kgo.Dialer(c.Dialer().DialContext),
		kgo.ClientID("kafka-loadgen"),
	}
}
