package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// DefaultTimeoutSeconds bounds every Kafka request (and every wait for
// metadata to settle) when timeout is not set: 120, pulumi-kafka's default.
const DefaultTimeoutSeconds = 120

// Environment variables that supply a setting the program leaves unset, the
// same ones pulumi-kafka (the bridged Terraform provider) reads, so a stack
// configured by environment keeps working after the migration.
const (
	EnvCACert              = "KAFKA_CA_CERT"
	EnvClientCert          = "KAFKA_CLIENT_CERT"
	EnvClientKey           = "KAFKA_CLIENT_KEY"
	EnvClientKeyPassphrase = "KAFKA_CLIENT_KEY_PASSPHRASE"
	EnvSkipVerify          = "KAFKA_SKIP_VERIFY"
	EnvEnableTLS           = "KAFKA_ENABLE_TLS"
	EnvSASLUsername        = "KAFKA_SASL_USERNAME"
	EnvSASLPassword        = "KAFKA_SASL_PASSWORD"
	EnvSASLMechanism       = "KAFKA_SASL_MECHANISM"
	EnvSASLTokenURL        = "KAFKA_SASL_TOKEN_URL"
	EnvSASLOAuthScopes     = "KAFKA_SASL_OAUTH_SCOPES"
)

// Config is the umbrellakafka provider configuration: how to reach and
// authenticate to the Kafka cluster, and which safety rails apply to the
// topics it manages. The connection settings carry pulumi-kafka's names,
// defaults and environment variables, so moving a stack from pulumi-kafka is
// a rename of the package.
//
// Configure never dials Kafka: it validates the settings (PEM material
// included) and prepares the client, which the first resource operation that
// needs the cluster creates and every resource of this provider process
// shares; previews of new topics never create it at all.
type Config struct {
	// BootstrapServers are host:port addresses used to discover the cluster.
	// Optional in the schema so that a provider that only makes
	// ListenerCertificates (before any broker exists) can leave it out; the
	// first operation that needs Kafka refuses it empty (client).
	BootstrapServers []string `pulumi:"bootstrapServers,optional"`
	// TLSEnabled turns on TLS to the brokers (default true, as in pulumi-kafka).
	TLSEnabled *bool `pulumi:"tlsEnabled,optional"`
	// CACert is the PEM CA bundle (or a path to it) that signs the brokers'
	// certificates, trusted besides the system roots.
	CACert *string `pulumi:"caCert,optional"`
	// ClientCert and ClientKey are the client certificate and its private key
	// (PEM or paths) for mTLS; the key may be encrypted with ClientKeyPassphrase.
	ClientCert          *string `pulumi:"clientCert,optional"`
	ClientKey           *string `pulumi:"clientKey,optional" provider:"secret"`
	ClientKeyPassphrase *string `pulumi:"clientKeyPassphrase,optional" provider:"secret"`
	// CACertFile, ClientCertFile and ClientKeyFile are pulumi-kafka's
	// deprecated path-only forms of caCert, clientCert and clientKey, used
	// when those are unset, so a stack that still sets them migrates as is.
	CACertFile     *string `pulumi:"caCertFile,optional"`
	ClientCertFile *string `pulumi:"clientCertFile,optional"`
	ClientKeyFile  *string `pulumi:"clientKeyFile,optional"`
	// SkipTLSVerify accepts any broker certificate.
	SkipTLSVerify *bool `pulumi:"skipTlsVerify,optional"`
	// SASLMechanism is plain, scram-sha256, scram-sha512 or oauthbearer.
	SASLMechanism *string `pulumi:"saslMechanism,optional"`
	// SASLUsername and SASLPassword are the SASL credentials (for oauthbearer
	// the OAuth client id and secret); SASL is on when either is set.
	SASLUsername *string `pulumi:"saslUsername,optional"`
	SASLPassword *string `pulumi:"saslPassword,optional" provider:"secret"`
	// SASLTokenURL is the OAuth token endpoint for oauthbearer.
	SASLTokenURL *string `pulumi:"saslTokenUrl,optional"`
	// SASLOAuthScopes are the scopes requested with the token.
	SASLOAuthScopes []string `pulumi:"saslOauthScopes,optional"`
	// Timeout bounds each Kafka request and each wait, in seconds.
	Timeout *int `pulumi:"timeout,optional"`
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

// Annotate documents the configuration fields for the schema and sets
// pulumi-kafka's defaults and environment variables.
func (c *Config) Annotate(a infer.Annotator) {
	a.Describe(&c.BootstrapServers,
		"Kafka bootstrap servers as host:port, e.g. [\"kafka-0.kafka:9092\"]. Every broker the cluster "+
			"advertises must be reachable from where Pulumi runs, unless kubernetes is set. Needed by every resource "+
			"and function except ListenerCertificates, which makes certificates without a cluster.")
	a.Describe(&c.TLSEnabled, "Connect to the brokers over TLS. Defaults to true (as pulumi-kafka does): set it to "+
		"false for a PLAINTEXT or SASL_PLAINTEXT listener.")
	a.SetDefault(&c.TLSEnabled, true, EnvEnableTLS)
	a.Describe(&c.CACert, "PEM CA certificate(s) that sign the brokers' certificates, or the path of a file "+
		"holding them; trusted besides the system's roots. Needs tlsEnabled.")
	a.SetDefault(&c.CACert, nil, EnvCACert)
	a.Describe(&c.ClientCert, "PEM client certificate (or a path to it) for TLS client authentication (mTLS); "+
		"the broker maps it to a principal, usually User:<CN>. Needs clientKey and tlsEnabled.")
	a.SetDefault(&c.ClientCert, nil, EnvClientCert)
	a.Describe(&c.ClientKey, "PEM private key of clientCert (or a path to it). An encrypted key (Proc-Type: "+
		"4,ENCRYPTED) needs clientKeyPassphrase. Stored as a secret.")
	a.SetDefault(&c.ClientKey, nil, EnvClientKey)
	a.Describe(&c.ClientKeyPassphrase, "Passphrase that decrypts an encrypted clientKey. Stored as a secret.")
	a.SetDefault(&c.ClientKeyPassphrase, nil, EnvClientKeyPassphrase)
	a.Describe(&c.CACertFile, "Path of a PEM CA certificate file; used when caCert is unset.")
	a.Deprecate(&c.CACertFile, "Kept for pulumi-kafka compatibility: use caCert, which takes PEM text or a path.")
	a.Describe(&c.ClientCertFile, "Path of a PEM client certificate file; used when clientCert is unset.")
	a.Deprecate(&c.ClientCertFile, "Kept for pulumi-kafka compatibility: use clientCert, which takes PEM text or a path.")
	a.Describe(&c.ClientKeyFile, "Path of a PEM private key file of the client certificate; used when clientKey is unset.")
	a.Deprecate(&c.ClientKeyFile, "Kept for pulumi-kafka compatibility: use clientKey, which takes PEM text or a path.")
	a.Describe(&c.SkipTLSVerify, "Accept any broker certificate (no CA or host name check). Only for an insecure "+
		"development cluster.")
	a.SetDefault(&c.SkipTLSVerify, false, EnvSkipVerify)
	a.Describe(&c.SASLMechanism, "SASL mechanism: plain, scram-sha256, scram-sha512 or oauthbearer (aws-iam is "+
		"refused: AWS MSK IAM is not supported). SASL is used when saslUsername or saslPassword is set.")
	a.SetDefault(&c.SASLMechanism, MechPlain, EnvSASLMechanism)
	a.Describe(&c.SASLUsername, "SASL user name; for oauthbearer the OAuth client id.")
	a.SetDefault(&c.SASLUsername, nil, EnvSASLUsername)
	a.Describe(&c.SASLPassword, "SASL password; for oauthbearer the OAuth client secret. Stored as a secret.")
	a.SetDefault(&c.SASLPassword, nil, EnvSASLPassword)
	a.Describe(&c.SASLTokenURL, "OAuth 2.0 token endpoint for saslMechanism oauthbearer: the provider fetches a "+
		"token there with the client-credentials grant (client id saslUsername, secret saslPassword).")
	a.SetDefault(&c.SASLTokenURL, nil, EnvSASLTokenURL)
	a.Describe(&c.SASLOAuthScopes, "OAuth scopes requested with the oauthbearer token. Unset: the comma-separated "+
		"list in $"+EnvSASLOAuthScopes+", else none.")
	a.Describe(&c.Timeout,
		"Upper bound in seconds for each Kafka request and for each wait for metadata to settle.")
	a.SetDefault(&c.Timeout, DefaultTimeoutSeconds)
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

// Configure validates the configuration, PEM material included, and prepares
// the lazy client. It does not contact Kafka, so a preview works without a
// reachable broker.
func (c *Config) Configure(context.Context) error {
	if c.SASLOAuthScopes == nil {
		c.SASLOAuthScopes = scopesFromEnv(os.Getenv(EnvSASLOAuthScopes))
	}
	conn, err := c.prepare()
	if err != nil {
		return err
	}
	c.conn = &kafkaConn{conn: conn}
	return nil
}

// prepare validates the configuration, PEM material included, and returns
// the connection it describes: everything short of creating the client.
func (c *Config) prepare() (kafkaadmin.Connection, error) {
	if err := c.validate(); err != nil {
		return kafkaadmin.Connection{}, err
	}
	t, err := c.tlsSettings()
	if err != nil {
		return kafkaadmin.Connection{}, err
	}
	return c.connection(t), nil
}

// connection is the configuration as kafkaadmin takes it; t is its TLS part
// (tlsSettings).
func (c Config) connection(t *kafkaadmin.TLS) kafkaadmin.Connection {
	conn := kafkaadmin.Connection{BootstrapServers: c.BootstrapServers, Timeout: c.timeout(), TLS: t, SASL: c.sasl()}
	if c.Kubernetes != nil {
		target := c.Kubernetes.target()
		conn.Kubernetes = &target
	}
	return conn
}

// scopesFromEnv splits a comma-separated scope list, dropping empty items.
func scopesFromEnv(v string) []string { return rules.SplitList(v) }

func (c *Config) validate() error {
	if err := c.validateSASL(); err != nil {
		return err
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	if c.Kubernetes != nil {
		if err := c.Kubernetes.validate(); err != nil {
			return err
		}
	}
	if c.Timeout != nil && *c.Timeout <= 0 {
		return fmt.Errorf("umbrellakafka:timeout = %d is not a positive number of seconds: set it to 1 or more, "+
			"or unset it for %d", *c.Timeout, DefaultTimeoutSeconds)
	}
	return nil
}

// timeout is the timeout setting as a duration, defaulted.
func (c Config) timeout() time.Duration {
	if t := deref(c.Timeout); t > 0 {
		return time.Duration(t) * time.Second
	}
	return DefaultTimeoutSeconds * time.Second
}

// client returns the provider process's shared Kafka client, creating it on
// first use.
func (c Config) client() (*kafkaadmin.Client, error) {
	if c.conn == nil {
		return nil, fmt.Errorf("umbrellakafka provider is not configured: Configure must run before resource operations")
	}
	if len(c.BootstrapServers) == 0 {
		return nil, errNoBootstrap
	}
	return c.conn.get()
}

// errNoBootstrap refuses a Kafka operation on a provider without
// bootstrapServers (which only ListenerCertificates can do without).
var errNoBootstrap = errors.New("umbrellakafka:bootstrapServers is empty: set it to the brokers' host:port list, " +
	"e.g. pulumi config set --path 'umbrellakafka:bootstrapServers[0]' kafka-0.kafka:9092 (only " +
	"ListenerCertificates works without it)")

// kafkaConn creates the shared client at most once per provider process.
type kafkaConn struct {
	conn kafkaadmin.Connection
	once sync.Once
	cl   *kafkaadmin.Client
	err  error
}

func (k *kafkaConn) get() (*kafkaadmin.Client, error) {
	k.once.Do(func() { k.cl, k.err = kafkaadmin.New(k.conn) })
	return k.cl, k.err
}

// deref is *v, or the zero value when v is nil (an unset optional input or
// Kafka field): the one such helper of the package.
func deref[T any](v *T) T {
	if v == nil {
		var zero T
		return zero
	}
	return *v
}
