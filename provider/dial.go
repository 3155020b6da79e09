package provider

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// inClusterNameError is a failed lookup of a broker's in-cluster name from
// outside the cluster. It wraps the *net.DNSError, so franz-go still sees a
// permanent "no such host" (and does not retry it), with a message that says
// what to do.
type inClusterNameError struct {
	dns *net.DNSError
}

func (e *inClusterNameError) Error() string {
	return fmt.Sprintf("%s: %q is a Kubernetes in-cluster name, which resolves only inside the cluster; to manage "+
		"topics from outside it, set the provider's kubernetes option so that every broker is reached through the "+
		"Kubernetes API (umbrella-streaming stacks: set topics.access: kubernetes)", e.dns.Error(), e.dns.Name)
}

func (e *inClusterNameError) Unwrap() error { return e.dns }

// directDialer is the dialer without the kubernetes option: a plain (or TLS)
// dial with the dial timeout, whose "no such host" on an in-cluster name says
// how to reach such brokers.
func directDialer(timeout time.Duration, tc *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: timeout}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if tc != nil {
			cfg := tc.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName, _, _ = net.SplitHostPort(addr)
			}
			conn, err = (&tls.Dialer{NetDialer: nd, Config: cfg}).DialContext(ctx, network, addr)
		} else {
			conn, err = nd.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, hintInCluster(err)
		}
		return conn, nil
	}
}

// hintInCluster replaces a "no such host" for an in-cluster name inside a
// dial error with an inClusterNameError, keeping the *net.OpError around it.
func hintInCluster(err error) error {
	var op *net.OpError
	var dns *net.DNSError
	if !errors.As(err, &op) || !errors.As(op.Err, &dns) || !dns.IsNotFound || !inClusterHost(dns.Name) {
		return err
	}
	hinted := *op
	hinted.Err = &inClusterNameError{dns: dns}
	return &hinted
}
