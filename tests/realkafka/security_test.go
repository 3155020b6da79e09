//go:build realkafka

package realkafka

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// The prod stack's secure listeners (security.mode sasl-scram) on three real
// Kafka 4.1.1 nodes running components.ServerProperties as is: the platform
// topics, one SCRAM-SHA-512 user per service and exactly the ACLs
// config.ServiceACLs computes, created by the deployer over mTLS; then what
// each service can and cannot do on the CLIENT listener, which connections
// are refused, replication over INTERNAL, and a certificate rotation under
// load.

// secureSetup is the prod cluster with the services' users and ACLs.
type secureSetup struct {
	c         *localkafka.Cluster
	passwords map[string]string // service name -> SCRAM-SHA-512 password
	acls      []config.ACL
}

var secureOnce struct {
	sync.Mutex
	s   *secureSetup
	err error
}

// secureProd returns the shared prod cluster once the platform topics, the
// service users and their ACLs exist and every broker enforces them.
func secureProd(t *testing.T) *secureSetup {
	t.Helper()
	c := cluster(t, "prod")
	secureOnce.Lock()
	defer secureOnce.Unlock()
	if secureOnce.s != nil || secureOnce.err != nil {
		require.NoError(t, secureOnce.err, "setting up the services failed earlier")
		return secureOnce.s
	}
	start := time.Now()
	s, err := setUpServices(t, c)
	secureOnce.s, secureOnce.err = s, err
	require.NoError(t, err)
	t.Logf("FIGURE topics, %d users and %d ACLs in place on every broker in %s", len(s.passwords), len(s.acls),
		time.Since(start).Round(100*time.Millisecond))
	return s
}

func setUpServices(t *testing.T, c *localkafka.Cluster) (*secureSetup, error) {
	spec := c.Spec()
	if !spec.Secure() {
		return nil, fmt.Errorf("the prod stack is not secure (security.mode = %s)", spec.Security.Mode)
	}
	ctx := testCtx(t, 3*time.Minute)
	for _, tp := range spec.Topics {
		cfg := map[string]*string{}
		for k, v := range tp.Config {
			cfg[k] = &v
		}
		createTopic(t, c, tp.Name, int32(tp.Partitions), int16(tp.ReplicationFactor), cfg)
	}
	s := &secureSetup{c: c, passwords: map[string]string{}}
	for _, svc := range spec.Services {
		pw := randomPassword(t)
		if err := c.AddScramUser(ctx, localkafka.MechanismScramSHA512, svc.Name, pw); err != nil {
			return nil, err
		}
		s.passwords[svc.Name] = pw
	}
	acls, err := config.ServiceACLs(spec.Services, spec.Topics)
	if err != nil {
		return nil, err
	}
	s.acls = acls
	if err := createACLs(ctx, c.Admin(), acls); err != nil {
		return nil, err
	}
	return s, waitACLs(ctx, c, len(acls))
}

func randomPassword(t *testing.T) string {
	b := make([]byte, 24)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// aclBuilder is one config.ACL as a kadm builder (allow, any host).
func aclBuilder(a config.ACL) (*kadm.ACLBuilder, error) {
	b := kadm.NewACLs().Allow(a.Principal).AllowHosts()
	switch a.ResourceType {
	case config.ACLTopic:
		b = b.Topics(a.ResourceName)
	case config.ACLGroup:
		b = b.Groups(a.ResourceName)
	case config.ACLCluster:
		b = b.Clusters()
	default:
		return nil, fmt.Errorf("ACL %s: resource type %s", a, a.ResourceType)
	}
	ops := map[string]kadm.ACLOperation{config.ACLRead: kadm.OpRead, config.ACLWrite: kadm.OpWrite,
		config.ACLDescribe: kadm.OpDescribe, config.ACLIdempotentWrite: kadm.OpIdempotentWrite}
	op, ok := ops[a.Operation]
	if !ok {
		return nil, fmt.Errorf("ACL %s: operation %s", a, a.Operation)
	}
	pattern := kadm.ACLPatternLiteral
	if a.PatternType == config.ACLPrefixed {
		pattern = kadm.ACLPatternPrefixed
	}
	return b.Operations(op).ResourcePatternType(pattern), nil
}

// createACLs creates each ACL, checking the request and every result.
func createACLs(ctx context.Context, adm *kadm.Client, acls []config.ACL) error {
	for _, a := range acls {
		b, err := aclBuilder(a)
		if err != nil {
			return err
		}
		res, err := adm.CreateACLs(ctx, b)
		if err != nil {
			return fmt.Errorf("creating ACL %s: %w", a, err)
		}
		for _, r := range res {
			if r.Err != nil {
				return fmt.Errorf("creating ACL %s: %w (%s)", a, r.Err, r.ErrMessage)
			}
		}
	}
	return nil
}

// waitACLs polls every broker until its own authorizer lists want ACLs:
// each broker authorizes from its copy of the metadata log.
func waitACLs(ctx context.Context, c *localkafka.Cluster, want int) error {
	cl, err := c.Client()
	if err != nil {
		return err
	}
	defer cl.Close()
	var last string
	err = poll.Until(ctx, 200*time.Millisecond, time.Minute, func(ctx context.Context) (bool, error) {
		for id := 0; id < c.Nodes(); id++ {
			req := kmsg.NewPtrDescribeACLsRequest()
			req.ResourceType = kmsg.ACLResourceTypeAny
			req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
			req.Operation = kmsg.ACLOperationAny
			req.PermissionType = kmsg.ACLPermissionTypeAny
			rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			resp, err := req.RequestWith(rctx, cl.Broker(id))
			cancel()
			if err != nil {
				last = fmt.Sprintf("broker %d: %v", id, err)
				return false, nil
			}
			n := 0
			for _, r := range resp.Resources {
				n += len(r.ACLs)
			}
			if n != want {
				last = fmt.Sprintf("broker %d lists %d ACLs, want %d", id, n, want)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the ACLs on every broker (%s): %w", last, err)
	}
	return nil
}

// serviceClient is a client of a service on the CLIENT listener:
// SASL_SSL, SCRAM-SHA-512, the CA trusted.
func (s *secureSetup) serviceClient(t *testing.T, name string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	pw, ok := s.passwords[name]
	require.True(t, ok, "no service %s", name)
	return s.scramClient(t, name, pw, opts...)
}

func (s *secureSetup) scramClient(t *testing.T, user, pw string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{kgo.SeedBrokers(s.c.ClientBootstrap()...), kgo.DialTLSConfig(s.c.ClientTLS()),
		kgo.SASL(scram.Auth{User: user, Pass: pw}.AsSha512Mechanism()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(20 * time.Second),
		kgo.RetryTimeout(15 * time.Second), kgo.DialTimeout(3 * time.Second)}
	cl, err := kgo.NewClient(append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// produceErr produces one record and returns the error.
func produceErr(ctx context.Context, cl *kgo.Client, topic, value string) error {
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr()
}

// consumeErr polls until a record or an error comes back and returns the
// error (nil with a record).
func consumeErr(t *testing.T, cl *kgo.Client) error {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var errs []error
		fs.EachError(func(_ string, _ int32, err error) { errs = append(errs, err) })
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if fs.NumRecords() > 0 {
			return nil
		}
	}
}

// partitionsFrom consumes every partition of topic from the start, with no group.
func partitionsFrom(topic string, partitions int) kgo.Opt {
	parts := map[int32]kgo.Offset{}
	for p := 0; p < partitions; p++ {
		parts[int32(p)] = kgo.NewOffset().AtStart()
	}
	return kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts})
}

// The ACLs config.ServiceACLs computes are exactly the ACLs the brokers
// hold: nothing more is granted to anybody.
func TestSecureProdACLsAreTheComputedOnes(t *testing.T) {
	s := secureProd(t)
	described, err := s.c.Admin().DescribeACLs(testCtx(t, 10*time.Second), kadm.NewACLs().AnyResource().
		ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).Allow().Deny().AllowHosts().DenyHosts())
	require.NoError(t, err)
	var got []string
	for _, d := range described {
		require.NoError(t, d.Err)
		for _, a := range d.Described {
			got = append(got, fmt.Sprintf("%s %s %s %s %s %s %s", a.Principal, a.Host, a.Permission, a.Operation,
				a.Type, a.Name, a.Pattern))
		}
	}
	var want []string
	for _, a := range s.acls {
		want = append(want, fmt.Sprintf("%s * %s %s %s %s %s", a.Principal, kmsg.ACLPermissionTypeAllow, kadmOp(a.Operation),
			kadmType(a.ResourceType), a.ResourceName, kadmPattern(a.PatternType)))
	}
	require.NotEmpty(t, want, "config.ServiceACLs computed no ACL: the match below would prove nothing")
	assert.ElementsMatch(t, want, got)
	assert.Len(t, got, len(s.acls))
}

func kadmOp(op string) kadm.ACLOperation {
	return map[string]kadm.ACLOperation{config.ACLRead: kadm.OpRead, config.ACLWrite: kadm.OpWrite,
		config.ACLDescribe: kadm.OpDescribe, config.ACLIdempotentWrite: kadm.OpIdempotentWrite}[op]
}

func kadmType(rt string) kmsg.ACLResourceType {
	return map[string]kmsg.ACLResourceType{config.ACLTopic: kmsg.ACLResourceTypeTopic,
		config.ACLGroup: kmsg.ACLResourceTypeGroup, config.ACLCluster: kmsg.ACLResourceTypeCluster}[rt]
}

func kadmPattern(p string) kadm.ACLPattern {
	if p == config.ACLPrefixed {
		return kadm.ACLPatternPrefixed
	}
	return kadm.ACLPatternLiteral
}

// The connectors write raw messages and never read them.
func TestSecureConnectorsProduceButCannotConsume(t *testing.T) {
	s := secureProd(t)
	raw := topicName(t, s, "raw-messages")

	prod := s.serviceClient(t, "connectors")
	require.NoError(t, produceErr(testCtx(t, 30*time.Second), prod, raw, "from-connectors"),
		"connectors write raw-messages (acks=all, idempotent)")

	// In its own name's group: no Read on any group, so the coordinator lookup is refused.
	grouped := s.serviceClient(t, "connectors", kgo.ConsumeTopics(raw), kgo.ConsumerGroup("connectors"))
	err := consumeErr(t, grouped)
	assert.ErrorIs(t, err, kerr.GroupAuthorizationFailed, "%v", err)

	// Without a group: Describe on the topic, no Read, so the fetch is refused.
	direct := s.serviceClient(t, "connectors", partitionsFrom(raw, partitionsOf(t, s, "raw-messages")))
	err = consumeErr(t, direct)
	assert.ErrorIs(t, err, kerr.TopicAuthorizationFailed, "%v", err)
}

// The email processor reads raw messages in its group and writes parsed ones,
// and nothing else.
func TestSecureEmailProcessorLeastPrivilege(t *testing.T) {
	s := secureProd(t)
	raw, parsed := topicName(t, s, "raw-messages"), topicName(t, s, "parsed-messages")
	require.NoError(t, produceErr(testCtx(t, 30*time.Second), s.serviceClient(t, "connectors"), raw, "for-email"))

	consumer := s.serviceClient(t, "email-processor", kgo.ConsumeTopics(raw), kgo.ConsumerGroup("email-processor"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, consumeErr(t, consumer), "email-processor reads raw-messages in group email-processor")
	require.NoError(t, consumer.CommitUncommittedOffsets(testCtx(t, 20*time.Second)), "and commits its offsets there")

	prod := s.serviceClient(t, "email-processor")
	require.NoError(t, produceErr(testCtx(t, 30*time.Second), prod, parsed, "parsed"), "email-processor writes parsed-messages")

	err := produceErr(testCtx(t, 30*time.Second), prod, raw, "forged")
	assert.ErrorIs(t, err, kerr.TopicAuthorizationFailed, "email-processor must not write raw-messages: %v", err)

	direct := s.serviceClient(t, "email-processor", partitionsFrom(parsed, partitionsOf(t, s, "parsed-messages")))
	err = consumeErr(t, direct)
	assert.ErrorIs(t, err, kerr.TopicAuthorizationFailed, "email-processor must not read parsed-messages: %v", err)

	other := s.serviceClient(t, "email-processor", kgo.ConsumeTopics(raw), kgo.ConsumerGroup("ingestion-normalizer"))
	err = consumeErr(t, other)
	assert.ErrorIs(t, err, kerr.GroupAuthorizationFailed, "email-processor must not use another group: %v", err)
}

func topicName(t *testing.T, s *secureSetup, id string) string {
	t.Helper()
	for _, tp := range s.c.Spec().Topics {
		if tp.ID == id {
			return tp.Name
		}
	}
	t.Fatalf("no topic %s", id)
	return ""
}

func partitionsOf(t *testing.T, s *secureSetup, id string) int {
	t.Helper()
	for _, tp := range s.c.Spec().Topics {
		if tp.ID == id {
			return tp.Partitions
		}
	}
	t.Fatalf("no topic %s", id)
	return 0
}

// metadataErr asks one CLIENT-listener metadata request of a client that
// retries nothing and returns the error.
func metadataErr(t *testing.T, opts ...kgo.Opt) error {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.RequestRetries(0), kgo.DialTimeout(3 * time.Second),
		kgo.RetryTimeout(5 * time.Second)}, opts...)...)
	require.NoError(t, err)
	defer cl.Close()
	_, err = kmsg.NewPtrMetadataRequest().RequestWith(testCtx(t, 15*time.Second), cl)
	return err
}

// Connections without the right credentials are refused on the CLIENT
// listener, and without the right certificate on INTERNAL.
func TestSecureListenersRefuseWrongCredentials(t *testing.T) {
	s := secureProd(t)
	client := kgo.SeedBrokers(s.c.ClientAddr(0))
	// Control: the right password gets an answer on the very same path.
	require.NoError(t, metadataErr(t, client, kgo.DialTLSConfig(s.c.ClientTLS()),
		kgo.SASL(scram.Auth{User: "connectors", Pass: s.passwords["connectors"]}.AsSha512Mechanism())))

	err := metadataErr(t, client, kgo.DialTLSConfig(s.c.ClientTLS()),
		kgo.SASL(scram.Auth{User: "connectors", Pass: "not-the-password"}.AsSha512Mechanism()))
	assert.ErrorIs(t, err, kerr.SaslAuthenticationFailed, "wrong password: %v", err)

	err = metadataErr(t, client, kgo.DialTLSConfig(s.c.ClientTLS()),
		kgo.SASL(scram.Auth{User: "connectors", Pass: s.passwords["connectors"]}.AsSha256Mechanism()))
	assert.ErrorIs(t, err, kerr.UnsupportedSaslMechanism, "SCRAM-SHA-256 is not enabled: %v", err)

	// TLS but no SASL: the broker wants a SASL handshake first and closes the
	// connection at the first other request (franz-go: ErrFirstReadEOF, "is SASL missing?").
	err = metadataErr(t, client, kgo.DialTLSConfig(s.c.ClientTLS()))
	var firstEOF *kgo.ErrFirstReadEOF
	require.ErrorAs(t, err, &firstEOF, "TLS without credentials")
	assert.Contains(t, err.Error(), "SASL is required but not provided")
	assert.ErrorIs(t, err, io.EOF)

	// No TLS: the broker answers the Kafka request with a TLS alert record,
	// which franz-go reads as an absurd response size and names.
	err = metadataErr(t, client)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "appear to be a tls alert record", "plaintext to the CLIENT listener")

	// INTERNAL wants a certificate of the CA: none, or one from another CA, fails the handshake.
	internal := kgo.SeedBrokers(s.c.InternalAddr(0))
	require.NoError(t, metadataErr(t, internal, kgo.DialTLSConfig(s.c.DeployerTLS())), "control: the deployer's certificate")
	err = metadataErr(t, internal, kgo.DialTLSConfig(s.c.ClientTLS()))
	assert.True(t, isBadCertificate(err), "INTERNAL without a client certificate: %v", err)
	stranger, err := testpki.NewCA("stranger-ca")
	require.NoError(t, err)
	pair, err := stranger.Client(components.DeployerPrincipalName)
	require.NoError(t, err)
	cert, err := pair.TLS()
	require.NoError(t, err)
	forged := s.c.ClientTLS()
	forged.Certificates = []tls.Certificate{cert}
	err = metadataErr(t, internal, kgo.DialTLSConfig(forged))
	assert.True(t, isBadCertificate(err), "INTERNAL with a certificate of another CA, same CN: %v", err)

	// CONTROLLER wants a certificate too: the handshake completes on the
	// client side (TLS 1.3), then the broker's bad_certificate alert arrives.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", s.c.ControllerAddr(0), s.c.ClientTLS())
	if err == nil {
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	assert.True(t, isBadCertificate(err), "CONTROLLER without a client certificate: %v", err)

	// A certificate of the CA whose CN is not a super user is authenticated, then authorized as nobody.
	nobody, err := s.c.CA().Client("nobody")
	require.NoError(t, err)
	ncert, err := nobody.TLS()
	require.NoError(t, err)
	nobodyTLS := s.c.ClientTLS()
	nobodyTLS.Certificates = []tls.Certificate{ncert}
	cl, err := kgo.NewClient(internal, kgo.DialTLSConfig(nobodyTLS), kgo.RequestRetries(0))
	require.NoError(t, err)
	defer cl.Close()
	_, err = kadm.NewClient(cl).Metadata(testCtx(t, 15*time.Second), topicName(t, s, "raw-messages"))
	assert.ErrorIs(t, err, kerr.TopicAuthorizationFailed, "User:nobody holds no ACL")
}

// isBadCertificate: the broker's TLS alert bad_certificate (42), which Go
// reports as a "remote error" of the connection.
func isBadCertificate(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "remote error" && opErr.Err.Error() == "tls: bad certificate"
}

// Replication runs over INTERNAL with the broker certificate: a topic of
// replication factor 3 reaches a full ISR, and a record written with acks=all
// is on every replica's log end.
func TestSecureReplicationOverInternal(t *testing.T) {
	s := secureProd(t)
	topic := "secure-replication"
	createTopic(t, s.c, topic, 3, 3, nil)
	st, err := s.c.Describe(testCtx(t, 10*time.Second), topic)
	require.NoError(t, err)
	require.Len(t, st.Partitions, 3)
	for _, p := range st.Partitions {
		assert.ElementsMatch(t, []int32{0, 1, 2}, p.Replicas, "partition %d", p.Partition)
		assert.ElementsMatch(t, []int32{0, 1, 2}, p.ISR, "partition %d: followers fetch over INTERNAL, the only broker listener", p.Partition)
	}
	// Written with acks=all by a service: every replica has it before the ack.
	require.NoError(t, s.c.AddScramUser(testCtx(t, time.Minute), localkafka.MechanismScramSHA512, "replication-probe", "probe-password-0"))
	acls := []config.ACL{{Principal: "User:replication-probe", ResourceType: config.ACLTopic, ResourceName: topic,
		PatternType: config.ACLLiteral, Operation: config.ACLWrite}}
	require.NoError(t, createACLs(testCtx(t, time.Minute), s.c.Admin(), acls))
	t.Cleanup(func() { deleteACLs(t, s.c, acls) })
	require.NoError(t, waitACLs(testCtx(t, time.Minute), s.c, len(s.acls)+len(acls)))
	cl := s.scramClient(t, "replication-probe", "probe-password-0", kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p := int32(0); p < 3; p++ {
		require.NoError(t, cl.ProduceSync(testCtx(t, 30*time.Second), &kgo.Record{Topic: topic, Partition: p, Value: []byte("x")}).FirstErr())
	}
	require.NoError(t, s.c.WaitInSync(testCtx(t, 30*time.Second), topic, 3))
}

func deleteACLs(t *testing.T, c *localkafka.Cluster, acls []config.ACL) {
	for _, a := range acls {
		b, err := aclBuilder(a)
		if err != nil {
			t.Error(err)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := c.Admin().DeleteACLs(ctx, b)
		cancel()
		if err != nil {
			t.Errorf("deleting ACL %s: %v", a, err)
			continue
		}
		for _, r := range res {
			if r.Err != nil {
				t.Errorf("deleting ACL %s: %v", a, r.Err)
			}
		}
	}
}
