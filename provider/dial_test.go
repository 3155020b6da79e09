package provider

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDirectDialNamesTheFixForInClusterNames(t *testing.T) {
	dial := directDialer(2*time.Second, nil)
	_, err := dial(context.Background(), "tcp", "kafka-0.kafka-headless.umbrella-streaming.svc.invalid-tld-for-test.svc:9092")
	require.Error(t, err)
	var dns *net.DNSError
	require.ErrorAs(t, err, &dns, "franz-go must still see the DNS error (a permanent dial error, not retried)")
	assert.True(t, dns.IsNotFound)
	var op *net.OpError
	require.ErrorAs(t, err, &op)
	assert.Equal(t, "dial", op.Op)
	assert.Contains(t, err.Error(), `is a Kubernetes in-cluster name, which resolves only inside the cluster; to manage `+
		`topics from outside it, set the provider's kubernetes option so that every broker is reached through the `+
		`Kubernetes API (umbrella-streaming stacks: set topics.access: kubernetes)`)

	// Other names keep their plain error.
	_, err = dial(context.Background(), "tcp", "no-such-host.invalid:9092")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "topics.access")
}
