package localkafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/testpki"
)

// Defaults of Options.
const (
	// DefaultHeapOpts keeps a local node small: the stack's heapOpts size a
	// production pod, and three of those would not fit a laptop.
	DefaultHeapOpts = "-Xms128m -Xmx512m"
	// DefaultStartTimeout bounds Start and Restart. A cold JVM on 2 cores
	// needs 5-15 s per node.
	DefaultStartTimeout = 2 * time.Minute
	// DefaultStopTimeout is how long a node gets to shut down after SIGTERM
	// before it is killed.
	DefaultStopTimeout = 15 * time.Second
	// Host is the loopback address every node binds and advertises.
	Host = "127.0.0.1"
)

// Options configure Start.
type Options struct {
	// Nodes is the number of nodes; 0 means Spec.Brokers. It must equal
	// Spec.Brokers: the quorum voters and replication settings come from the
	// spec, and a different node count would test another configuration.
	Nodes int
	// Spec is the stack whose broker configuration and cluster id the nodes run.
	Spec *config.Spec
	// Dir holds the nodes' config, data and logs (see the package doc). It is
	// created if missing; data left in it by an earlier run of the same
	// cluster is kept (storage is formatted with --ignore-formatted).
	Dir string
	// KafkaLibs is the folder of Kafka jars; "" means FindLibs().
	KafkaLibs string
	// ExtraJVMOpts are appended to each node's JVM options.
	ExtraJVMOpts []string
	// HeapOpts are each node's heap options; "" means DefaultHeapOpts.
	HeapOpts string
	// ClientPorts fixes node i's client port to ClientPorts[i] when non-zero;
	// other ports are picked free on the loopback interface.
	ClientPorts []int
	// Java is the java launcher; "" means java on PATH.
	Java string
	// StartTimeout bounds Start and each Restart; 0 means DefaultStartTimeout.
	StartTimeout time.Duration
	// StopTimeout is the grace period after SIGTERM; 0 means DefaultStopTimeout.
	StopTimeout time.Duration
	// Detach lets the nodes outlive this process (cmd/localkafka start). Without
	// it, a node is killed when the process that started it dies, so a crashed
	// test leaves nothing running.
	Detach bool
	// External, when set, gives every node a second client listener whose
	// advertised address differs from the loopback one (see ExternalListener).
	External *ExternalListener
	// ExtraProperties are key=value lines appended to every node's
	// server.properties, after the stack's: a key set twice takes the last
	// value. For tests of broker settings a stack does not expose, e.g.
	// delete.topic.enable=false.
	ExtraProperties []string
	// Security, when set, gives every node a SASL_SSL and an MTLS client
	// listener and turns on the StandardAuthorizer (see security.go).
	Security *Security
	// DynamicQuorum starts the nodes with a dynamic KRaft quorum (kraft.version
	// 1, controller.quorum.bootstrap.servers) instead of the stack's static
	// voters, so controllers can be added and removed live (see controllers.go).
	DynamicQuorum bool
}

// Cluster is a running local Kafka cluster. Its methods are safe for
// concurrent use.
type Cluster struct {
	opts  Options
	spec  *config.Spec
	libs  string
	net   components.Network
	nodes []*node
	admin *kgo.Client
	adm   *kadm.Client
	ca    *testpki.CA // with Options.Security or a secure stack
	pki   *stackPKI   // a secure stack's certificates (secure_stack.go)

	// specMu guards spec and dynamic, which SetControllers and
	// UseDynamicQuorum change on a running cluster (controllers.go), and
	// nodeLibs (SetNodeLibs).
	specMu  sync.Mutex
	dynamic bool
	// nodeLibs are the jars a node runs instead of libs from its next
	// start: a software roll, one node at a time.
	nodeLibs map[int]string

	stopOnce sync.Once
	stopErr  error
}

// node is one Kafka JVM.
type node struct {
	id                         int
	clientPort, controllerPort int
	externalPort               int // 0 without Options.External
	saslPort, mtlsPort         int // 0 without Options.Security
	internalPort               int // INTERNAL listener of a secure stack, else 0
	tls                        tlsFiles

	mu     sync.Mutex
	pid    int
	exited chan struct{} // closed when the current process has exited; nil if never started
	state  string        // how the last process ended
}

// Start writes every node's configuration, formats its storage with the
// spec's cluster id, starts the nodes and waits until the cluster is usable
// (see the package doc). On any failure it stops what it started and returns
// an error naming the node and its log files.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	libs, err := o.resolve()
	if err != nil {
		return nil, err
	}
	c, err := newCluster(o, libs)
	if err != nil {
		return nil, err
	}
	if err := c.prepare(ctx); err != nil {
		return nil, err
	}
	if err := c.launch(ctx); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// resolve checks the options, fills in their defaults (Dir made absolute)
// and returns the Kafka libs folder to run.
func (o *Options) resolve() (libs string, err error) {
	if err := o.check(); err != nil {
		return "", err
	}
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return "", err
	}
	o.HeapOpts = cmp.Or(o.HeapOpts, DefaultHeapOpts)
	o.Java = cmp.Or(o.Java, "java")
	o.StartTimeout = cmp.Or(o.StartTimeout, DefaultStartTimeout)
	o.StopTimeout = cmp.Or(o.StopTimeout, DefaultStopTimeout)
	libs = o.KafkaLibs
	if libs == "" {
		if libs, err = FindLibs(); err != nil {
			return "", err
		}
	} else if err := checkLibs(libs); err != nil {
		return "", err
	}
	if _, err := exec.LookPath(o.Java); err != nil {
		return "", fmt.Errorf("localkafka: the java launcher %q: %w (Kafka %s needs JDK 17 or newer)", o.Java, err, KafkaVersion)
	}
	if running, err := RunningNodes(o.Dir); err != nil {
		return "", err
	} else if len(running) > 0 {
		return "", fmt.Errorf("localkafka: a cluster already runs in %s (nodes and pids: %v): stop it first "+
			"(localkafka.StopDir, or go run ./cmd/localkafka -dir %s stop)", o.Dir, running, o.Dir)
	}
	return libs, nil
}

// check refuses options that cannot make a cluster, before anything is
// written; o.Nodes 0 takes the stack's broker count.
func (o *Options) check() error {
	if o.Spec == nil {
		return errors.New("localkafka: Options.Spec is nil: load a stack with LoadStack or build one with config.Build")
	}
	if o.Nodes == 0 {
		o.Nodes = o.Spec.Brokers
	}
	if o.Nodes != o.Spec.Brokers {
		return fmt.Errorf("localkafka: Options.Nodes = %d but stack %s has brokers = %d: the nodes run the stack's "+
			"configuration, so start %d nodes or use a stack with %d brokers", o.Nodes, o.Spec.Stack, o.Spec.Brokers,
			o.Spec.Brokers, o.Nodes)
	}
	if len(o.ClientPorts) > o.Nodes {
		return fmt.Errorf("localkafka: %d client ports given for %d nodes", len(o.ClientPorts), o.Nodes)
	}
	if o.Security != nil {
		if err := o.Security.validate(); err != nil {
			return err
		}
	}
	if err := checkSecureStack(*o); err != nil {
		return err
	}
	if o.Dir == "" {
		return errors.New("localkafka: Options.Dir is empty: give the folder for the nodes' data and logs")
	}
	return nil
}

// newCluster picks every node's ports and describes the network the
// configuration builders read; nothing is written yet.
func newCluster(o Options, libs string) (*Cluster, error) {
	// pickPorts hands out ports in (client, controller) pairs: the external
	// listener takes the client half of one pair per node, the secured
	// listeners both halves (SASL_SSL, MTLS) of another.
	// A secure stack's INTERNAL listener takes the client half of one more.
	clientPorts, controllerPorts, err := pickPorts(o.Nodes+externalPorts(o)+securityPorts(o)+internalPorts(o), o.ClientPorts)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: o, spec: o.Spec, libs: libs, dynamic: o.DynamicQuorum}
	for id := 0; id < o.Nodes; id++ {
		c.nodes = append(c.nodes, &node{id: id, clientPort: clientPorts[id], controllerPort: controllerPorts[id]})
		if o.External != nil {
			c.nodes[id].externalPort = clientPorts[o.Nodes+id]
		}
		if o.Security != nil {
			base := o.Nodes + externalPorts(o)
			c.nodes[id].saslPort, c.nodes[id].mtlsPort = clientPorts[base+id], controllerPorts[base+id]
		}
		if o.Spec.Secure() {
			c.nodes[id].internalPort = clientPorts[o.Nodes+externalPorts(o)+securityPorts(o)+id]
		}
	}
	c.net = c.loopbackNetwork(o.Dir)
	if o.Spec.Secure() {
		c.net.InternalPort = func(id int) int { return c.nodes[id].internalPort }
		c.net.TLSDir = filepath.Join(o.Dir, stackTLSDir)
	}
	return c, nil
}

// loopbackNetwork is where the nodes listen and keep their logs: every node
// on Host, on its own ports, with its data under dir.
func (c *Cluster) loopbackNetwork(dir string) components.Network {
	return components.Network{
		Host:           func(int) string { return Host },
		ClientPort:     func(id int) int { return c.nodes[id].clientPort },
		ControllerPort: func(id int) int { return c.nodes[id].controllerPort },
		BindHost:       Host,
		LogDir:         func(id int) string { return filepath.Join(nodeDir(dir, id), dataDir) },
	}
}

// prepare writes the certificates and every node's files, formats the
// storage and makes the admin client; no process runs yet.
func (c *Cluster) prepare(ctx context.Context) error {
	if c.spec.Secure() {
		if err := c.writeStackPKI(); err != nil {
			return err
		}
	}
	if c.opts.Security != nil {
		if err := c.writeTLS(); err != nil {
			return err
		}
	}
	if err := c.writeFiles(); err != nil {
		return err
	}
	if err := c.format(ctx); err != nil {
		return err
	}
	var err error
	c.admin, err = kgo.NewClient(append(c.adminTLS(), kgo.SeedBrokers(c.Bootstrap()...), kgo.DialTimeout(2*time.Second))...)
	if err != nil {
		return err
	}
	c.adm = kadm.NewClient(c.admin)
	return nil
}

// launch starts every node and waits until the cluster is usable; the
// caller stops the cluster when it fails.
func (c *Cluster) launch(ctx context.Context) error {
	for _, n := range c.nodes {
		if err := c.startProcess(n); err != nil {
			return err
		}
	}
	if err := c.waitReady(ctx, c.nodeIDs()); err != nil {
		return err
	}
	if c.opts.Security != nil {
		return c.createSuperUser(ctx)
	}
	return nil
}

// writeFiles writes each node's server.properties (from the program's own
// builder) and logging config.
func (c *Cluster) writeFiles() error {
	if err := os.MkdirAll(c.opts.Dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.opts.Dir, "tools-log4j2.properties"), []byte(toolsLog4j), 0o644); err != nil {
		return err
	}
	for _, n := range c.nodes {
		d := nodeDir(c.opts.Dir, n.id)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		props := c.withSecurity(c.withExternal(c.serverProperties(n.id), n), n)
		if len(c.opts.ExtraProperties) > 0 {
			props = strings.TrimRight(props, "\n") + "\n" + strings.Join(c.opts.ExtraProperties, "\n") + "\n"
		}
		if err := os.WriteFile(filepath.Join(d, propertiesFile), []byte(props), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, log4jFile), []byte(nodeLog4j(filepath.Join(d, kafkaLogFile))), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// format runs Kafka's StorageTool on every node at once, with the spec's
// cluster id, keeping storage that is already formatted.
func (c *Cluster) format(ctx context.Context) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			props := filepath.Join(nodeDir(c.opts.Dir, n.id), propertiesFile)
			args := append(slices.Clone(toolJVMOpts),
				"-Dlog4j2.configurationFile="+filepath.Join(c.opts.Dir, "tools-log4j2.properties"),
				"-cp", classpath(c.libs), StorageClass,
				"format", "--cluster-id", c.spec.ClusterID, "--config", props, "--ignore-formatted")
			args = append(args, c.formatArgs(n.id)...)
			cmd := exec.CommandContext(ctx, c.opts.Java, args...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("localkafka: node %d: formatting storage (kafka-storage format --cluster-id %s "+
					"--config %s): %w\n%s", n.id, c.spec.ClusterID, props, err, strings.TrimSpace(string(out)))
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Cluster) node(id int) (*node, error) {
	if id < 0 || id >= len(c.nodes) {
		return nil, fmt.Errorf("localkafka: no node %d (the cluster has nodes 0..%d)", id, len(c.nodes)-1)
	}
	return c.nodes[id], nil
}

func (c *Cluster) nodeIDs() []int {
	ids := make([]int, len(c.nodes))
	for i := range ids {
		ids[i] = i
	}
	return ids
}

// Spec is the stack spec the nodes run.
func (c *Cluster) Spec() *config.Spec {
	c.specMu.Lock()
	defer c.specMu.Unlock()
	return c.spec
}

// Network is the loopback network the nodes' server.properties were rendered
// with (components.ServerProperties(c.Spec(), c.Network(), id) is node id's file).
func (c *Cluster) Network() components.Network { return c.net }

// Dir is the cluster's folder.
func (c *Cluster) Dir() string { return c.opts.Dir }

// Libs is the folder of Kafka jars the nodes run.
func (c *Cluster) Libs() string { return c.libs }

// Nodes is the number of nodes.
func (c *Cluster) Nodes() int { return len(c.nodes) }

// Bootstrap returns every node's address for this package's admin client, by
// node id: the PLAINTEXT client listener, or on a secure stack the INTERNAL
// listener, which wants the deployer's certificate (Client adds it).
func (c *Cluster) Bootstrap() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = c.Addr(n.id)
	}
	return out
}

// Addr is node id's address for the admin client (see Bootstrap).
func (c *Cluster) Addr(id int) string {
	if c.spec.Secure() {
		return net.JoinHostPort(Host, strconv.Itoa(c.nodes[id].internalPort))
	}
	return net.JoinHostPort(Host, strconv.Itoa(c.nodes[id].clientPort))
}

// Logs names node id's log files (Kafka's log and the JVM console).
func (c *Cluster) Logs(id int) string { return logsOf(c.opts.Dir, id) }

// Running reports whether node id's process runs.
func (c *Cluster) Running(id int) bool {
	n, err := c.node(id)
	if err != nil {
		return false
	}
	_, _, ok := n.running()
	return ok
}

// Admin returns the cluster's shared admin client (seeded with every node).
func (c *Cluster) Admin() *kadm.Client { return c.adm }

// Client returns a new client seeded with every node (Bootstrap); on a secure
// stack it presents the deployer's certificate, a super user. The caller
// closes it.
func (c *Cluster) Client(opts ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append(append(c.adminTLS(), kgo.SeedBrokers(c.Bootstrap()...)), opts...)...)
}
