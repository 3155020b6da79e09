package kafkaadmin

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const inClusterHint = `is a Kubernetes in-cluster name, which resolves only inside the cluster; to manage ` +
	`topics from outside it, set the provider's kubernetes option so that every broker is reached through the ` +
	`Kubernetes API (umbrella-streaming stacks: set topics.access: kubernetes)`

// assertInClusterDialError checks that err names the fix and still unwraps
// to the permanent DNS error franz-go does not retry.
func assertInClusterDialError(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var dns *net.DNSError
	require.ErrorAs(t, err, &dns, "franz-go must still see the DNS error (a permanent dial error, not retried)")
	assert.True(t, dns.IsNotFound)
	var op *net.OpError
	require.ErrorAs(t, err, &op)
	assert.Equal(t, "dial", op.Op)
	assert.Contains(t, err.Error(), inClusterHint)
}

// Outside a pod an in-cluster name is refused without asking any resolver:
// the test's resolver counts the queries it gets.
func TestDirectDialOutsideAPodDoesNotLookUpInClusterNames(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	queries := useNXDomainResolver(t)
	dial := directDialer(2*time.Second, nil)
	_, err := dial(context.Background(), "tcp", "kafka-0.kafka-headless.umbrella-streaming.svc:9092")
	assertInClusterDialError(t, err)
	assert.Contains(t, err.Error(), "not looked up: this process does not run in a Kubernetes pod")
	assert.Zero(t, queries(), "no DNS query for an in-cluster name outside a pod")

	// Other names keep their plain error.
	_, err = dial(context.Background(), "tcp", "no-such-host.invalid:9092")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "topics.access")
	assert.Positive(t, queries(), "other names are looked up")
}

// In a pod the name is looked up, and its "no such host" names the fix.
func TestDirectDialInAPodNamesTheFixForInClusterNames(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "198.18.128.1")
	queries := useNXDomainResolver(t)
	dial := directDialer(2*time.Second, nil)
	_, err := dial(context.Background(), "tcp", "kafka-0.kafka-headless.umbrella-streaming.svc:9092")
	assertInClusterDialError(t, err)
	assert.Contains(t, err.Error(), "no such host")
	assert.Positive(t, queries(), "in a pod the name is looked up")
}

// useNXDomainResolver points the direct dialer at a DNS server on the
// loopback that answers every query "no such name", and returns how many
// queries it has answered.
func useNXDomainResolver(t *testing.T) func() int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	answered := make(chan struct{}, 1024)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			resp := append([]byte(nil), buf[:n]...)
			resp[2] |= 0x80                   // QR: a response
			resp[3] = resp[3]&0xf0 | 0x80 | 3 // RA, RCODE 3: NXDOMAIN
			_, _ = pc.WriteTo(resp, from)
			answered <- struct{}{}
		}
	}()
	old := resolver
	resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
	t.Cleanup(func() { resolver = old })
	return func() int { return len(answered) }
}
