package kafkaadmin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
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

// resolver is the direct dialer's resolver; nil is the system's. Tests set a
// loopback one.
var resolver *net.Resolver

// inPod reports whether this process runs in a Kubernetes pod, the only place
// where in-cluster names resolve: the kubelet sets KUBERNETES_SERVICE_HOST in
// every container.
func inPod() bool { return os.Getenv("KUBERNETES_SERVICE_HOST") != "" }

// notLookedUp is the dial error for an in-cluster name outside a pod. The
// name is not sent to the system resolver at all: outside the cluster it can
// only fail, slowly, and the query would leave the machine for a resolver
// that has no business seeing the cluster's names.
func notLookedUp(network, host string) error {
	dns := &net.DNSError{Err: "not looked up: this process does not run in a Kubernetes pod", Name: host, IsNotFound: true}
	return &net.OpError{Op: "dial", Net: network, Err: &inClusterNameError{dns: dns}}
}

// directDialer is the dialer without the kubernetes option: a plain (or TLS)
// dial with the dial timeout, whose "no such host" on an in-cluster name says
// how to reach such brokers. Outside a pod an in-cluster name fails at once,
// without a lookup.
func directDialer(timeout time.Duration, tc *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: timeout, Resolver: resolver}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, err := net.SplitHostPort(addr); err == nil && rules.InClusterHost(host, "") && !inPod() {
			return nil, notLookedUp(network, host)
		}
		var conn net.Conn
		var err error
		if tc != nil {
			cfg := tc.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName, _, _ = net.SplitHostPort(addr)
			}
			conn, err = (&tls.Dialer{NetDialer: nd, Config: cfg}).DialContext(ctx, network, addr)
			if err != nil && closedDuringHandshake(err) {
				return nil, &notTLSError{addr: addr, err: err}
			}
		} else {
			conn, err = nd.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, hintInCluster(err)
		}
		return conn, nil
	}
}

// tunnelDialer is the kubernetes option's dialer, whose TLS handshake over
// the port-forward stream, when the listener closes it, fails as it does
// without the option (notTLSError).
func tunnelDialer(d *kubetunnel.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		var hs *kubetunnel.HandshakeError
		if err != nil && errors.As(err, &hs) && (closedDuringHandshake(hs.Err) || kubetunnel.ClosedBeforeAnswer(hs.Err)) {
			return nil, &notTLSError{addr: addr, err: hs.Err}
		}
		return conn, err
	}
}

// notTLSError is a TLS handshake the listener ended without a word, which
// is what a Kafka listener without TLS does with a ClientHello (it reads it
// as an oversized request and closes the connection). It does not unwrap to
// io.EOF on purpose: franz-go would retry an EOF until the timeout and then
// report only "context deadline exceeded"; this error is final and says
// which setting to change. tlsEnabled defaults to true, as in pulumi-kafka,
// so this is the first error a PLAINTEXT stack that forgot it sees.
type notTLSError struct {
	addr string
	err  error
}

func (e *notTLSError) Error() string {
	return fmt.Sprintf("the TLS handshake with %s ended without an answer (%v): the listener does not speak TLS "+
		"(a PLAINTEXT or SASL_PLAINTEXT listener closes the connection): set the provider's tlsEnabled = false "+
		"(it defaults to true, as in pulumi-kafka), or point bootstrapServers at a TLS listener", e.addr, e.err)
}

// closedDuringHandshake reports whether a TLS dial failed because the peer
// closed or reset the connection during the handshake.
func closedDuringHandshake(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// hintInCluster replaces a "no such host" for an in-cluster name inside a
// dial error with an inClusterNameError, keeping the *net.OpError around it.
func hintInCluster(err error) error {
	var op *net.OpError
	var dns *net.DNSError
	if !errors.As(err, &op) || !errors.As(op.Err, &dns) || !dns.IsNotFound || !rules.InClusterHost(dns.Name, "") {
		return err
	}
	hinted := *op
	hinted.Err = &inClusterNameError{dns: dns}
	return &hinted
}
