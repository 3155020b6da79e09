package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync"
	"time"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel"
)

// SASL mechanisms the provider accepts in saslMechanism.
const (
	// SASLPlain is SASL/PLAIN: only safe together with TLS.
	SASLPlain = "PLAIN"
	// SASLScramSHA512 is SASL/SCRAM-SHA-512.
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// DefaultRequestTimeoutSeconds bounds every Kafka request (and every wait for
// metadata to settle) when requestTimeoutSeconds is not set.
const DefaultRequestTimeoutSeconds = 30

// Config is the umbrellakafka provider configuration: how to reach the Kafka
// cluster and which safety rails apply to the topics it manages.
//
// Configure never dials Kafka. The first resource operation that needs the
// cluster creates one client, which every resource of this provider process
// shares; previews of new topics never create it at all.
type Config struct {
	// BootstrapServers are host:port addresses used to discover the cluster.
	BootstrapServers []string `pulumi:"bootstrapServers"`
	// SASLMechanism is PLAIN or SCRAM-SHA-512; unset means no SASL.
	SASLMechanism *string `pulumi:"saslMechanism,optional"`
	// SASLUsername is the SASL user name.
	SASLUsername *string `pulumi:"saslUsername,optional"`
	// SASLPassword is the SASL password (a secret).
	SASLPassword *string `pulumi:"saslPassword,optional" provider:"secret"`
	// TLS turns on TLS to the brokers.
	TLS *bool `pulumi:"tls,optional"`
	// TLSCaPem is a PEM bundle of CAs trusted for the brokers' certificates.
	TLSCaPem *string `pulumi:"tlsCaPem,optional"`
	// RequestTimeoutSeconds bounds each Kafka request and each wait.
	RequestTimeoutSeconds *int `pulumi:"requestTimeoutSeconds,optional"`
	// ProtectTopics makes Delete refuse to delete topics.
	ProtectTopics *bool `pulumi:"protectTopics,optional"`
	// AllowReplace lets a topic rename go ahead as delete-then-create.
	AllowReplace *bool `pulumi:"allowReplace,optional"`
	// Kubernetes, when set, reaches every broker through the Kubernetes API
	// (pods/portforward) instead of the network: see kubernetes_access.go and
	// package internal/kubetunnel.
	Kubernetes *KubernetesAccess `pulumi:"kubernetes,optional"`

	// conn is the lazy, shared Kafka client; set by Configure.
	conn *kafkaConn
}

var (
	_ infer.Annotated       = (*Config)(nil)
	_ infer.CustomConfigure = (*Config)(nil)
)

// Annotate documents the configuration fields for the schema.
func (c *Config) Annotate(a infer.Annotator) {
	a.Describe(&c.BootstrapServers,
		"Kafka bootstrap servers as host:port, e.g. [\"kafka-0.kafka:9092\"]. Every broker the cluster "+
			"advertises must be reachable from where Pulumi runs, unless kubernetes is set.")
	a.Describe(&c.SASLMechanism, "SASL mechanism: PLAIN or SCRAM-SHA-512. Leave unset for no SASL.")
	a.Describe(&c.SASLUsername, "SASL user name; required when saslMechanism is set.")
	a.Describe(&c.SASLPassword, "SASL password; required when saslMechanism is set. Stored as a secret.")
	a.Describe(&c.TLS, "Connect to the brokers over TLS.")
	a.Describe(&c.TLSCaPem,
		"PEM-encoded CA certificate(s) that sign the brokers' certificates. Implies tls. "+
			"Unset means the system trust store.")
	a.Describe(&c.RequestTimeoutSeconds,
		"Upper bound in seconds for each Kafka request and for each wait for metadata to settle.")
	a.SetDefault(&c.RequestTimeoutSeconds, DefaultRequestTimeoutSeconds)
	a.Describe(&c.ProtectTopics,
		"When true, deleting a Topic (including the delete half of a replacement) fails with an error "+
			"instead of deleting data. Meant for production stacks.")
	a.Describe(&c.AllowReplace,
		"When false (the default), a change that would replace a Topic (a rename, which deletes the old "+
			"topic and its data) is refused at preview. Set true to allow it.")
	a.Describe(&c.Kubernetes,
		"Reach every broker through the Kubernetes API (pods/portforward) instead of the network: for a deploy "+
			"machine outside the cluster, where the brokers' advertised in-cluster names do not resolve.")
}

// Configure validates the configuration and prepares the lazy client. It does
// not contact Kafka, so a preview works without a reachable broker.
func (c *Config) Configure(context.Context) error {
	if err := c.validate(); err != nil {
		return err
	}
	c.conn = &kafkaConn{cfg: *c}
	return nil
}

func (c *Config) validate() error {
	if len(c.BootstrapServers) == 0 {
		return fmt.Errorf("umbrellakafka:bootstrapServers is empty: set it to the brokers' host:port list, " +
			"e.g. pulumi config set --path 'umbrellakafka:bootstrapServers[0]' kafka-0.kafka:9092")
	}
	if c.SASLMechanism != nil {
		switch *c.SASLMechanism {
		case SASLPlain, SASLScramSHA512:
		default:
			return fmt.Errorf("umbrellakafka:saslMechanism = %q is not supported: use %s or %s, or unset it",
				*c.SASLMechanism, SASLPlain, SASLScramSHA512)
		}
		if deref(c.SASLUsername) == "" || deref(c.SASLPassword) == "" {
			return fmt.Errorf("umbrellakafka:saslMechanism = %q needs saslUsername and saslPassword: set both "+
				"(saslPassword with --secret)", *c.SASLMechanism)
		}
	}
	if c.Kubernetes != nil {
		if err := c.Kubernetes.validate(); err != nil {
			return err
		}
	}
	if t := deref(c.RequestTimeoutSeconds); t < 0 {
		return fmt.Errorf("umbrellakafka:requestTimeoutSeconds = %d is negative: use a positive number of "+
			"seconds or unset it for %d", t, DefaultRequestTimeoutSeconds)
	}
	return nil
}

// requestTimeout is requestTimeoutSeconds as a duration, defaulted.
func (c Config) requestTimeout() time.Duration {
	if t := deref(c.RequestTimeoutSeconds); t > 0 {
		return time.Duration(t) * time.Second
	}
	return DefaultRequestTimeoutSeconds * time.Second
}

// client returns the provider process's shared Kafka client, creating it on
// first use.
func (c Config) client() (*kafkaClient, error) {
	if c.conn == nil {
		return nil, fmt.Errorf("umbrellakafka provider is not configured: Configure must run before resource operations")
	}
	return c.conn.get()
}

// kafkaConn creates the shared client at most once per provider process.
type kafkaConn struct {
	cfg  Config
	once sync.Once
	cl   *kafkaClient
	err  error
}

func (k *kafkaConn) get() (*kafkaClient, error) {
	k.once.Do(func() { k.cl, k.err = newKafkaClient(k.cfg) })
	return k.cl, k.err
}

// kafkaClient bundles the raw franz-go client (for direct metadata requests)
// and its admin wrapper.
type kafkaClient struct {
	raw     *kgo.Client
	adm     *kadm.Client
	timeout time.Duration

	// batchOnce makes batch, the batched creates, deletes and waits (batch.go).
	batchOnce sync.Once
	batch     *batches
}

func newKafkaClient(c Config) (*kafkaClient, error) {
	timeout := c.requestTimeout()
	dialTimeout := min(timeout, 10*time.Second)
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.BootstrapServers...),
		kgo.RetryTimeout(timeout),
	}
	var tc *tls.Config
	if deref(c.TLS) || deref(c.TLSCaPem) != "" {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
		if pem := deref(c.TLSCaPem); pem != "" {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM([]byte(pem)) {
				return nil, fmt.Errorf("umbrellakafka:tlsCaPem holds no PEM certificate: paste the CA " +
					"certificate(s) including the BEGIN/END CERTIFICATE lines")
			}
			tc.RootCAs = pool
		}
	}
	// The dialer does TLS itself (franz-go refuses Dialer with DialTLSConfig).
	if c.Kubernetes != nil {
		opts = append(opts, kgo.Dialer(kubetunnel.NewDialer(c.Kubernetes.target(), dialTimeout, tc).DialContext))
	} else {
		opts = append(opts, kgo.Dialer(directDialer(dialTimeout, tc)))
	}
	switch deref(c.SASLMechanism) {
	case SASLPlain:
		opts = append(opts, kgo.SASL(plain.Auth{User: deref(c.SASLUsername), Pass: deref(c.SASLPassword)}.AsMechanism()))
	case SASLScramSHA512:
		opts = append(opts, kgo.SASL(scram.Auth{User: deref(c.SASLUsername), Pass: deref(c.SASLPassword)}.AsSha512Mechanism()))
	}
	raw, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("umbrellakafka: creating the Kafka client: %w", err)
	}
	adm := kadm.NewClient(raw)
	adm.SetTimeoutMillis(int32(timeout / time.Millisecond))
	return &kafkaClient{raw: raw, adm: adm, timeout: timeout}, nil
}

func deref[T any](v *T) T {
	if v == nil {
		var zero T
		return zero
	}
	return *v
}
