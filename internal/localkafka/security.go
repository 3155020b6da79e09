package localkafka

// Secured client listeners: Options.Security.
//
// Every node keeps the listeners components.ServerProperties renders (the
// PLAINTEXT client listener, which the nodes replicate over and this
// package's own admin client uses, and the CONTROLLER listener); Security
// adds two more client listeners next to them:
//
//   - SASL_SSL (listener SASL_SSL): TLS, then SASL with PLAIN, SCRAM-SHA-256,
//     SCRAM-SHA-512 or OAUTHBEARER. PLAIN users are fixed in the JAAS config
//     at start; SCRAM users are created through the PLAINTEXT admin
//     (AddScramUser); OAUTHBEARER uses Kafka's default unsecured validator,
//     which accepts an unsigned JWT (alg none) whose sub claim names the user,
//     so a test can issue tokens from a loopback HTTP endpoint.
//   - MTLS (security protocol SSL, ssl.client.auth=required): the client
//     certificate is the identity; ssl.principal.mapping.rules turns
//     subject CN=<name> into User:<name>.
//
// Both present a server certificate from a CA made at start (internal/testpki),
// valid for 127.0.0.1, localhost and Security.ServerNames, as PEM keystore and
// truststore files (Kafka reads ssl.keystore.type=PEM). The StandardAuthorizer
// runs with allow.everyone.if.no.acl.found=false, so a principal without ACLs
// can do nothing; super.users are User:ANONYMOUS (the PLAINTEXT and
// CONTROLLER listeners: the nodes themselves and this package's admin) and
// the configured SuperUser, who can authenticate with every mechanism.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// Names of the secured listeners in server.properties.
const (
	SASLListenerName = "SASL_SSL"
	MTLSListenerName = "MTLS"
)

// SASL mechanisms the SASL_SSL listener enables, as Kafka spells them.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
	MechanismOAuthBearer = "OAUTHBEARER"
)

// AnonymousPrincipal is who a PLAINTEXT connection is: the nodes talking to
// each other and to the controllers, and the cluster's own admin client.
const AnonymousPrincipal = "User:ANONYMOUS"

// Security adds the SASL_SSL and MTLS listeners (see the section comment).
type Security struct {
	// SuperUser is a super user (User:<name>) besides User:ANONYMOUS, with a
	// PLAIN and both SCRAM credentials for SuperPassword; a client
	// certificate with CN=<name> or a token with sub=<name> is the same
	// principal. Required.
	SuperUser     string
	SuperPassword string
	// PlainUsers are further SASL/PLAIN users (name to password): PLAIN users
	// live in the JAAS config, so they are fixed at start.
	PlainUsers map[string]string
	// ServerNames are extra names or IPs in the server certificates.
	ServerNames []string
	// Advertise, when set, returns node id's advertised host:port on a
	// secured listener (SASLListenerName or MTLSListenerName) instead of its
	// loopback address: with the pods' in-cluster names (and those names in
	// ServerNames), a client through a Kubernetes port-forward tunnel sees
	// what it sees in a cluster, TLS host name checks included. Clients that
	// dial the loopback addresses then get names they cannot resolve.
	Advertise func(id int, listener string) string
}

// tlsFiles are a node's PEM keystore and the shared truststore.
type tlsFiles struct{ keystore, truststore string }

func securityPorts(o Options) int {
	if o.Security == nil {
		return 0
	}
	return o.Nodes
}

func (s *Security) validate() error {
	if s.SuperUser == "" || s.SuperPassword == "" {
		return errors.New("localkafka: Options.Security needs SuperUser and SuperPassword: the provider under test " +
			"authenticates as that super user")
	}
	for name := range s.PlainUsers {
		if strings.ContainsAny(name, "\" ;=") {
			return fmt.Errorf("localkafka: Security.PlainUsers: user name %q has a character the JAAS config "+
				"cannot hold (quote, space, ';' or '='): pick another name", name)
		}
	}
	return nil
}

// writeTLS makes the CA and every node's server certificate and writes the
// PEM files the nodes read.
func (c *Cluster) writeTLS() error {
	ca, err := testpki.NewCA("localkafka-ca")
	if err != nil {
		return err
	}
	c.ca = ca
	dir := filepath.Join(c.opts.Dir, "tls")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	trust := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(trust, []byte(ca.CertPEM), 0o600); err != nil {
		return err
	}
	for _, n := range c.nodes {
		pair, err := ca.Server(fmt.Sprintf("localkafka-node-%d", n.id), c.opts.Security.ServerNames...)
		if err != nil {
			return err
		}
		ks := filepath.Join(dir, fmt.Sprintf("node-%d-keystore.pem", n.id))
		if err := os.WriteFile(ks, []byte(pair.KeyPEM+pair.CertPEM), 0o600); err != nil {
			return err
		}
		n.tls = tlsFiles{keystore: ks, truststore: trust}
	}
	return nil
}

// listenerAdd is what one extra listener adds to three list-valued keys.
type listenerAdd struct {
	name, protocol string
	port           int
	advertise      string
}

// withListeners appends extra listeners to the listeners,
// advertised.listeners and listener.security.protocol.map lines.
func withListeners(props string, adds []listenerAdd) string {
	if len(adds) == 0 {
		return props
	}
	add := map[string]string{}
	for _, a := range adds {
		add["listeners"] += fmt.Sprintf(",%s://%s:%d", a.name, Host, a.port)
		add["advertised.listeners"] += fmt.Sprintf(",%s://%s", a.name, a.advertise)
		add["listener.security.protocol.map"] += fmt.Sprintf(",%s:%s", a.name, a.protocol)
	}
	lines := strings.Split(props, "\n")
	for i, line := range lines {
		if key, _, ok := strings.Cut(line, "="); ok && add[key] != "" {
			lines[i] = line + add[key]
		}
	}
	return strings.Join(lines, "\n")
}

// withSecurity adds the secured listeners and their settings to a node's
// server.properties text.
func (c *Cluster) withSecurity(props string, n *node) string {
	s := c.opts.Security
	if s == nil {
		return props
	}
	advertise := func(listener string, port int) string {
		if s.Advertise != nil {
			return s.Advertise(n.id, listener)
		}
		return net.JoinHostPort(Host, strconv.Itoa(port))
	}
	props = withListeners(props, []listenerAdd{
		{SASLListenerName, "SASL_SSL", n.saslPort, advertise(SASLListenerName, n.saslPort)},
		{MTLSListenerName, "SSL", n.mtlsPort, advertise(MTLSListenerName, n.mtlsPort)},
	})
	return strings.TrimRight(props, "\n") + "\n" + strings.Join(securityLines(s, n.tls), "\n") + "\n"
}

// securityLines are the server.properties lines of Security (pure, so the
// rendering is testable without a JVM).
func securityLines(s *Security, f tlsFiles) []string {
	sasl := "listener.name." + strings.ToLower(SASLListenerName) + "."
	mtls := "listener.name." + strings.ToLower(MTLSListenerName) + "."
	users := map[string]string{s.SuperUser: s.SuperPassword}
	for u, p := range s.PlainUsers {
		users[u] = p
	}
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names) // deterministic file
	plain := "org.apache.kafka.common.security.plain.PlainLoginModule required"
	for _, u := range names {
		plain += fmt.Sprintf(" user_%s=%q", u, users[u])
	}
	scram := "org.apache.kafka.common.security.scram.ScramLoginModule required;"
	return []string{
		"# localkafka Options.Security",
		"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"allow.everyone.if.no.acl.found=false",
		"super.users=" + AnonymousPrincipal + ";User:" + s.SuperUser,
		"ssl.keystore.type=PEM",
		"ssl.keystore.location=" + f.keystore,
		"ssl.truststore.type=PEM",
		"ssl.truststore.location=" + f.truststore,
		// The whole subject of a testpki client certificate is CN=<name>.
		"ssl.principal.mapping.rules=RULE:^CN=([^,]+)$/$1/,DEFAULT",
		mtls + "ssl.client.auth=required",
		sasl + "sasl.enabled.mechanisms=" + strings.Join([]string{MechanismPlain, MechanismScramSHA256,
			MechanismScramSHA512, MechanismOAuthBearer}, ","),
		sasl + "plain.sasl.jaas.config=" + plain + ";",
		sasl + "scram-sha-256.sasl.jaas.config=" + scram,
		sasl + "scram-sha-512.sasl.jaas.config=" + scram,
		// No server callback handler: Kafka's unsecured validator (unsigned JWTs).
		sasl + "oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
	}
}

// createSuperUser gives the super user both SCRAM credentials.
func (c *Cluster) createSuperUser(ctx context.Context) error {
	s := c.opts.Security
	for _, m := range []string{MechanismScramSHA256, MechanismScramSHA512} {
		if err := c.AddScramUser(ctx, m, s.SuperUser, s.SuperPassword); err != nil {
			return err
		}
	}
	return nil
}

// AddScramUser creates or replaces a SCRAM credential (mechanism
// SCRAM-SHA-256 or SCRAM-SHA-512) through the cluster's admin client (the
// PLAINTEXT listener, or INTERNAL as the deployer on a secure stack) and waits
// until every running node knows it, so a SASL client can log in at once.
func (c *Cluster) AddScramUser(ctx context.Context, mechanism, name, password string) error {
	var mech kadm.ScramMechanism
	switch mechanism {
	case MechanismScramSHA256:
		mech = kadm.ScramSha256
	case MechanismScramSHA512:
		mech = kadm.ScramSha512
	default:
		return fmt.Errorf("localkafka: AddScramUser: mechanism %q: use %s or %s", mechanism, MechanismScramSHA256,
			MechanismScramSHA512)
	}
	res, err := c.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: name, Mechanism: mech, Iterations: 4096,
		Password: password}})
	if err != nil {
		return fmt.Errorf("localkafka: creating the %s credential of %s: %w", mechanism, name, err)
	}
	if err := res.Error(); err != nil {
		return fmt.Errorf("localkafka: creating the %s credential of %s: %w", mechanism, name, err)
	}
	return c.waitScram(ctx, name, int8(mech))
}

// waitScram polls every running node until it describes the user's
// credential for mechanism: each broker authenticates from its own copy of
// the metadata, which follows the controller a little later.
func (c *Cluster) waitScram(ctx context.Context, name string, mech int8) error {
	return poll.Until(ctx, 100*time.Millisecond, 30*time.Second, func(ctx context.Context) (bool, error) {
		for _, n := range c.nodes {
			if !c.Running(n.id) {
				continue
			}
			req := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
			u := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
			u.Name = name
			req.Users = append(req.Users, u)
			rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			resp, err := req.RequestWith(rctx, c.admin.Broker(n.id))
			cancel()
			if err != nil || len(resp.Results) != 1 || kerr.ErrorForCode(resp.Results[0].ErrorCode) != nil {
				return false, nil
			}
			found := false
			for _, ci := range resp.Results[0].CredentialInfos {
				found = found || ci.Mechanism == mech
			}
			if !found {
				return false, nil
			}
		}
		return true, nil
	})
}

// SASLAddr is node id's SASL_SSL address ("" without Options.Security).
func (c *Cluster) SASLAddr(id int) string {
	if c.opts.Security == nil {
		return ""
	}
	return net.JoinHostPort(Host, strconv.Itoa(c.nodes[id].saslPort))
}

// MTLSAddr is node id's MTLS address ("" without Options.Security).
func (c *Cluster) MTLSAddr(id int) string {
	if c.opts.Security == nil {
		return ""
	}
	return net.JoinHostPort(Host, strconv.Itoa(c.nodes[id].mtlsPort))
}

// SASLBootstrap returns every node's SASL_SSL address, by node id.
func (c *Cluster) SASLBootstrap() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, c.SASLAddr(n.id))
	}
	return out
}

// MTLSBootstrap returns every node's MTLS address, by node id.
func (c *Cluster) MTLSBootstrap() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, c.MTLSAddr(n.id))
	}
	return out
}

// CA is the CA that signed the nodes' certificates (nil without
// Options.Security); it issues client certificates for the MTLS listener.
func (c *Cluster) CA() *testpki.CA { return c.ca }

// CACertPEM is the CA certificate clients trust ("" without Options.Security).
func (c *Cluster) CACertPEM() string {
	if c.ca == nil {
		return ""
	}
	return c.ca.CertPEM
}
