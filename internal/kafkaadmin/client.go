// Package kafkaadmin is the project's Kafka admin layer: one Client that
// dials the brokers directly or through the Kubernetes API
// (internal/kubetunnel), with TLS and SASL, and one file per admin concern
// (metadata, topics, configs, ACLs, quotas, SCRAM credentials, the KRaft
// quorum, replica reassignment). Every write is done only when every broker
// shows it, since each broker answers from its own copy of the metadata.
// Errors say what they are about and what to change. It imports nothing of
// Pulumi: the provider (package provider) is one adapter over it, the
// program's pre-flight checks another.
package kafkaadmin

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel"
)

// DefaultTimeout bounds every request and every wait when a Connection sets
// none: 120 s, pulumi-kafka's default.
const DefaultTimeout = 120 * time.Second

// Connection describes how to reach and authenticate to a cluster: a plain
// value, so that the provider's settings and the program's own client are
// made from one description.
type Connection struct {
	// BootstrapServers are host:port addresses used to discover the cluster.
	BootstrapServers []string
	// Timeout bounds each request and each wait; 0 means DefaultTimeout.
	Timeout time.Duration
	// TLS, when set, encrypts every connection; nil means plaintext.
	TLS *TLS
	// SASL, when set, authenticates every connection.
	SASL *SASL
	// Kubernetes, when set, dials every broker as a port-forward stream to its
	// pod instead of through the network.
	Kubernetes *kubetunnel.Target
}

// timeout is the connection's timeout, defaulted.
func (c Connection) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Client bundles the raw franz-go client (for direct metadata requests)
// and its admin wrapper.
type Client struct {
	raw     *kgo.Client
	adm     *kadm.Client
	timeout time.Duration
	// bootstrap are the seed addresses, for errors.
	bootstrap []string

	// batchOnce makes batch, the batched creates, deletes and waits (batch.go).
	batchOnce sync.Once
	batch     *batches
}

// New creates the client for a connection. Nothing is dialed until the first
// request.
func New(c Connection) (*Client, error) {
	tc, err := c.TLS.Config()
	if err != nil {
		return nil, err
	}
	timeout := c.timeout()
	dialTimeout := min(timeout, 10*time.Second)
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.BootstrapServers...),
		kgo.RetryTimeout(timeout),
	}
	// The dialer does TLS itself (franz-go refuses Dialer with DialTLSConfig).
	if c.Kubernetes != nil {
		opts = append(opts, kgo.Dialer(tunnelDialer(kubetunnel.NewDialer(*c.Kubernetes, dialTimeout, tc))))
	} else {
		opts = append(opts, kgo.Dialer(directDialer(dialTimeout, tc)))
	}
	if mech := c.SASL.mechanism(dialTimeout); mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	raw, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("umbrellakafka: creating the Kafka client: %w", err)
	}
	adm := kadm.NewClient(raw)
	adm.SetTimeoutMillis(int32(timeout / time.Millisecond))
	return &Client{raw: raw, adm: adm, timeout: timeout, bootstrap: c.BootstrapServers}, nil
}

// Close closes the client's connections.
func (k *Client) Close() { k.raw.Close() }

// deref is *v, or the zero value when v is nil (an optional field of a
// Kafka answer): the one such helper of the package.
func deref[T any](v *T) T {
	if v == nil {
		var zero T
		return zero
	}
	return *v
}

// AnyBroker is the requestor that sends each request to whichever broker
// the client picks.
func (k *Client) AnyBroker() kmsg.Requestor { return k.raw }

// Timeout is the bound of each request and each wait.
func (k *Client) Timeout() time.Duration { return k.timeout }

// Wrap is a client over an existing franz-go client (which the caller
// keeps and closes), its requests and waits bounded by timeout.
func Wrap(raw *kgo.Client, timeout time.Duration) *Client {
	adm := kadm.NewClient(raw)
	adm.SetTimeoutMillis(int32(timeout / time.Millisecond))
	return &Client{raw: raw, adm: adm, timeout: timeout}
}

// WithTimeout bounds one request by the configured request timeout.
func (k *Client) WithTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, k.timeout)
}

// Broker is a requestor that sends to the broker with this ID alone.
func (k *Client) Broker(id int32) kmsg.Requestor { return k.raw.Broker(int(id)) }
