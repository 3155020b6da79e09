//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// The tunnel tests put the deploy machine "outside the cluster": three real
// Kafka nodes whose client listener advertises the pods' in-cluster names
// (kafka-N.kafka-headless.umbrella-streaming.svc:9092, unresolvable here), fake
// broker pods in the local control plane, and kwok PortForward objects that
// forward each pod's 9092 to its node's listener. The provider can reach the
// brokers only through pods/portforward on the real API server. Every
// Kubernetes client of the stack (the Kubernetes provider and ours) goes
// through apiProxy, so a test can cut every tunnel at once.

const tunnelNS = config.DefaultNamespace

// apiProxy is a TCP proxy in front of the API server. kill closes every
// connection through it, as a load balancer or API server restart would.
type apiProxy struct {
	ln       net.Listener
	target   string
	accepted atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]bool
}

func startAPIProxy(t *testing.T, target string) *apiProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &apiProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.kill() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			go p.pipe(c)
		}
	}()
	return p
}

func (p *apiProxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// kill closes every open connection and returns how many client connections it cut.
func (p *apiProxy) kill() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	n := len(p.conns) / 2
	p.conns = map[net.Conn]bool{}
	return n
}

// proxiedKubeconfig writes a copy of the cluster's kubeconfig whose server is
// the proxy, and returns its path and the API server's host:port.
func proxiedKubeconfig(t *testing.T) (path, apiserver string, proxy *apiProxy) {
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	require.NoError(t, err)
	for _, cl := range cfg.Clusters {
		u, err := url.Parse(cl.Server)
		require.NoError(t, err)
		if proxy == nil {
			apiserver = u.Host
			proxy = startAPIProxy(t, apiserver)
		}
		require.Equal(t, apiserver, u.Host, "one API server")
		u.Host = proxy.ln.Addr().String()
		cl.Server = u.String()
	}
	path = filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path, apiserver, proxy
}

// applyManifest applies YAML with kubectl (directly, not through the proxy).
func applyManifest(t *testing.T, yaml string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "manifest.yaml")
	require.NoError(t, os.WriteFile(f, []byte(yaml), 0o644))
	_, err := kubectl("apply", "-f", f)
	require.NoError(t, err)
}

// forwardPod makes kwok forward pod kafka-id's 9092 to the node's external listener.
func forwardPod(t *testing.T, kafka *localkafka.Cluster, id int) {
	t.Helper()
	_, port, _ := net.SplitHostPort(kafka.ExternalAddr(id))
	applyManifest(t, fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: %s, namespace: %s}
spec:
  forwards:
  - ports: [%d]
    target: {port: %s, address: 127.0.0.1}
`, components.PodName(id), tunnelNS, components.ClientPort, port))
}

// progressWatch is the engine's progress log that also signals the first
// line matching pattern, and follows which Topic updates are in flight (the
// engine printed "updating" for them and not yet "updated"): the provider's
// Update call for them has not returned.
type progressWatch struct {
	t       *testing.T
	pattern *regexp.Regexp
	once    sync.Once
	hit     chan struct{}

	mu       sync.Mutex
	partial  string
	updating map[string]bool
	updated  map[string]bool
}

var topicProgress = regexp.MustCompile(`umbrellakafka:index:Topic (\S+) (updating|updated)\b`)

func (w *progressWatch) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	if w.pattern != nil && w.pattern.Match(p) {
		w.once.Do(func() { close(w.hit) })
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.updating == nil {
		w.updating, w.updated = map[string]bool{}, map[string]bool{}
	}
	text := w.partial + string(p)
	lines := strings.Split(text, "\n")
	w.partial = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		if m := topicProgress.FindStringSubmatch(l); m != nil {
			if m[2] == "updated" {
				w.updated[m[1]] = true
			} else {
				w.updating[m[1]] = true
			}
		}
	}
	return len(p), nil
}

// inFlight returns the topics whose update started and has not finished.
func (w *progressWatch) inFlight() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for name := range w.updating {
		if !w.updated[name] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// finished reports whether the engine printed "updated" for the topic.
func (w *progressWatch) finished(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.updated[name]
}

type tunnelEnv struct {
	t          *testing.T
	kafka      *localkafka.Cluster
	kubeconfig string
	proxy      *apiProxy
	state      string
}

func (e *tunnelEnv) open(ctx context.Context, cfg map[string]string, progress io.Writer) *deploy.Stack {
	e.t.Helper()
	if progress == nil {
		progress = testWriter{T: e.t}
	}
	st, err := deploy.Open(ctx, deploy.Options{
		Stack:      "prod",
		ProjectDir: repoRoot,
		StateDir:   e.state,
		Env:        harness.EngineEnv(e.kubeconfig),
		Config:     plaintextProd("prod", cfg),
		Progress:   progress,
	})
	require.NoError(e.t, err)
	return st
}

// tunnelTopics is the topics object with the kubernetes access.
const tunnelTopics = `{"manager":"provider","access":"kubernetes","protect":false,"allowReplace":true}`

func TestTunnelTopicsFromOutsideTheCluster(t *testing.T) {
	ownNamespace(t)
	ctx := harness.Context(t, 25*time.Minute)
	spec, err := localkafka.LoadStack(repoRoot, "prod")
	require.NoError(t, err)
	spec = localkafka.Plaintext(spec) // see plaintextProd
	require.Equal(t, tunnelNS, spec.Namespace)
	kafka, err := localkafka.Start(ctx, localkafka.Options{Spec: spec, Dir: t.TempDir(),
		External: &localkafka.ExternalListener{Advertise: func(id int) string {
			return net.JoinHostPort(components.PodFQDN(spec.Namespace, id), fmt.Sprint(components.ClientPort))
		}}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, kafka.Stop()) })
	adm := kafka.Admin() // the test's own view, on the loopback listener

	kc, apiserver, proxy := proxiedKubeconfig(t)
	t.Logf("API server %s, proxied at %s", apiserver, proxy.ln.Addr())
	env := &tunnelEnv{t: t, kafka: kafka, kubeconfig: kc, proxy: proxy, state: t.TempDir()}
	if !exists("namespace", tunnelNS) {
		_, err := kubectl("create", "namespace", tunnelNS)
		require.NoError(t, err)
	}
	for id := 0; id < kafka.Nodes(); id++ {
		forwardPod(t, kafka, id)
	}
	t.Cleanup(func() {
		for id := 0; id < kafka.Nodes(); id++ {
			_, _ = kubectl("-n", tunnelNS, "delete", "portforward", components.PodName(id), "--ignore-not-found")
		}
	})

	t.Run("without the option the provider fails fast and names it", func(t *testing.T) {
		b, _ := json.Marshal(kafka.ExternalBootstrap())
		st := env.open(ctx, map[string]string{"topics": fmt.Sprintf(`{"manager":"provider","bootstrapServers":%s,"protect":false}`, b)}, nil)
		start := time.Now()
		_, err := st.Up(ctx)
		took := time.Since(start)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is a Kubernetes in-cluster name, which resolves only inside the cluster")
		assert.Contains(t, err.Error(), "set topics.access: kubernetes")
		// That the dial fails at once, without a lookup and without franz-go's
		// retries, is shown where it can be counted (provider/dial_test.go: no DNS
		// query, a permanent error); the time here is a figure, not a bound.
		assert.Contains(t, err.Error(), "not looked up: this process does not run in a Kubernetes pod")
		t.Logf("FIGURE direct access from outside: up failed after %s (Kubernetes objects included)", took.Round(100*time.Millisecond))
	})

	// The failed up stopped at the ReplicaPlacement drain, which runs before
	// the StatefulSet: the next up creates the StatefulSet, and the tunnel
	// waits for its fake pods to run.
	assert.False(t, exists("-n", tunnelNS, "statefulset", components.StatefulSetName), "the drain failed before the StatefulSet was touched")

	t.Run("create through the tunnel only", func(t *testing.T) {
		st := env.open(ctx, map[string]string{"topics": tunnelTopics, "topicOverrides": `{"dead-letter":{"replicationFactor":2}}`}, nil)
		_, err := st.Up(ctx)
		require.NoError(t, err)
		for _, inv := range config.Inventory {
			ts, err := kafka.Describe(ctx, inv.Name)
			require.NoError(t, err, inv.Name)
			require.Len(t, ts.Partitions, 3, inv.Name)
			want := 3
			if inv.Name == "dead-letter" {
				want = 2
			}
			assert.Len(t, ts.Partitions[0].Replicas, want, inv.Name)
		}
		again, err := st.Up(ctx)
		require.NoError(t, err)
		noChanges(t, *again.Summary.ResourceChanges, "second up through the tunnel")
	})

	t.Run("alter partitions, configs and RF while every tunnel is cut and a broker pod is replaced", func(t *testing.T) {
		watch := &progressWatch{t: t, pattern: regexp.MustCompile(`umbrellakafka:index:Topic .*updating`), hit: make(chan struct{})}
		st := env.open(ctx, map[string]string{"topics": tunnelTopics,
			"topicOverrides": `{"raw-messages":{"partitions":6},"alerts":{"retentionHours":24},"dead-letter":{"replicationFactor":3}}`}, watch)
		var cuts []int
		var replaced error
		var inFlight []string
		var acceptedAtCut int64
		chaos := make(chan struct{})
		go func() {
			defer close(chaos)
			select {
			case <-watch.hit:
			case <-ctx.Done():
				return
			}
			time.Sleep(200 * time.Millisecond)
			inFlight = watch.inFlight()
			acceptedAtCut = proxy.accepted.Load()
			cuts = append(cuts, proxy.kill())
			_, replaced = kubectl("-n", tunnelNS, "delete", "pod", components.PodName(1), "--grace-period=0", "--force", "--wait=false")
			time.Sleep(1500 * time.Millisecond)
			cuts = append(cuts, proxy.kill())
		}()
		_, err := st.Up(ctx)
		<-chaos
		require.NoError(t, err, "the operations retry through re-opened tunnels")
		require.NoError(t, replaced)
		reconnects := proxy.accepted.Load() - acceptedAtCut
		t.Logf("connections cut through the API proxy: %v; topic updates in flight at the first cut: %v; connections opened since: %d",
			cuts, inFlight, reconnects)
		require.Len(t, cuts, 2)
		assert.Positive(t, cuts[0], "tunnels were open when they were cut")
		require.NotEmpty(t, inFlight, "an update was in flight when the tunnels were cut (else the cut proved nothing)")
		for _, name := range inFlight {
			assert.True(t, watch.finished(name), "%s, cut mid-update, finished", name)
		}
		assert.Positive(t, reconnects, "the clients reconnected through the API server after the cut")

		ts, err := kafka.Describe(ctx, "raw-messages")
		require.NoError(t, err)
		assert.Len(t, ts.Partitions, 6)
		require.NoError(t, kafka.WaitInSync(ctx, "dead-letter", 3))
		ts, err = kafka.Describe(ctx, "dead-letter")
		require.NoError(t, err)
		for _, p := range ts.Partitions {
			assert.Len(t, p.Replicas, 3)
		}
		assert.Equal(t, map[string]string{"retention.ms": "86400000"}, dynamicConfigs(t, ctx, adm, "alerts"))
	})

	t.Run("a tunnel that stays down fails the update with a clear error, and the next up converges", func(t *testing.T) {
		_, err := kubectl("-n", tunnelNS, "delete", "portforward", components.PodName(2))
		require.NoError(t, err)
		proxy.kill()
		overrides := `{"raw-messages":{"partitions":6},"alerts":{"retentionHours":48},"dead-letter":{"replicationFactor":3}}`
		st := env.open(ctx, map[string]string{"topics": tunnelTopics, "topicOverrides": overrides}, nil)
		start := time.Now()
		_, err = st.Up(ctx)
		require.Error(t, err)
		t.Logf("failed after %s", time.Since(start).Round(100*time.Millisecond))
		assert.Contains(t, err.Error(), `topic "alerts"`)
		assert.Contains(t, err.Error(), "kafka-2.kafka-headless.umbrella-streaming.svc:9092 through the Kubernetes API")
		assert.Contains(t, err.Error(), "no forward found for port 9092")

		forwardPod(t, kafka, 2)
		st = env.open(ctx, map[string]string{"topics": tunnelTopics, "topicOverrides": overrides}, nil)
		_, err = st.Up(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"retention.ms": "172800000"}, dynamicConfigs(t, ctx, adm, "alerts"))
	})

	t.Run("benchmark: N = 50 topic creates, tunnel vs direct", func(t *testing.T) {
		const n = 50
		perTopic := func(name string, cl *kgo.Client) []time.Duration {
			var lat []time.Duration
			a := kadm.NewClient(cl)
			for i := 0; i < n; i++ {
				topic := fmt.Sprintf("bench-%s-%02d", name, i)
				start := time.Now()
				resp, err := a.CreateTopics(ctx, 3, 3, nil, topic)
				require.NoError(t, err)
				require.NoError(t, resp[topic].Err)
				waitLedOnEveryBroker(t, ctx, cl, topic, 3)
				lat = append(lat, time.Since(start))
			}
			var topics []string
			for i := 0; i < n; i++ {
				topics = append(topics, fmt.Sprintf("bench-%s-%02d", name, i))
			}
			_, err := a.DeleteTopics(ctx, topics...)
			require.NoError(t, err)
			return lat
		}
		dialer := kubetunnel.NewDialer(kubetunnel.Target{Kubeconfig: env.kubeconfig,
			Namespace: tunnelNS, StatefulSet: components.StatefulSetName, HeadlessService: components.HeadlessServiceName,
			BootstrapService: components.ClientServiceName}, 10*time.Second, nil)
		defer dialer.Close()
		tunnel, err := kgo.NewClient(kgo.SeedBrokers(components.BootstrapAddress(tunnelNS)), kgo.Dialer(dialer.DialContext))
		require.NoError(t, err)
		defer tunnel.Close()
		direct, err := kafka.Client()
		require.NoError(t, err)
		defer direct.Close()
		tl := perTopic("tunnel", tunnel)
		dl := perTopic("direct", direct)
		t.Logf("client, sequential create + led on every broker, N=%d: tunnel %s; direct %s", n, summary(tl), summary(dl))

		// Through the engine: one up that creates N extra topics, then one that deletes them.
		extra := map[string]any{}
		for i := 0; i < n; i++ {
			extra[fmt.Sprintf("bench-%02d", i)] = map[string]any{}
		}
		eb, _ := json.Marshal(extra)
		overrides := `{"raw-messages":{"partitions":6},"alerts":{"retentionHours":48},"dead-letter":{"replicationFactor":3}}`
		bootstrap, _ := json.Marshal(kafka.Bootstrap())
		for _, mode := range []struct{ name, topics string }{
			{"tunnel", tunnelTopics},
			{"direct", fmt.Sprintf(`{"manager":"provider","bootstrapServers":%s,"protect":false,"allowReplace":true}`, bootstrap)},
		} {
			base := strings.TrimSuffix(mode.topics, "}")
			up := env.open(ctx, map[string]string{"topics": base + `,"extra":` + string(eb) + "}", "topicOverrides": overrides}, io.Discard)
			start := time.Now()
			res, err := up.Up(ctx)
			require.NoError(t, err)
			created := time.Since(start)
			assert.Equal(t, n, (*res.Summary.ResourceChanges)["create"], mode.name)
			down := env.open(ctx, map[string]string{"topics": mode.topics, "topicOverrides": overrides}, io.Discard)
			start = time.Now()
			_, err = down.Up(ctx)
			require.NoError(t, err)
			t.Logf("engine, %s: up creating %d topics %s, up deleting them %s", mode.name, n,
				created.Round(10*time.Millisecond), time.Since(start).Round(10*time.Millisecond))
		}
	})

	t.Run("destroy deletes the topics through the tunnel", func(t *testing.T) {
		overrides := `{"raw-messages":{"partitions":6},"alerts":{"retentionHours":48},"dead-letter":{"replicationFactor":3}}`
		st := env.open(ctx, map[string]string{"topics": tunnelTopics, "topicOverrides": overrides}, nil)
		_, err := st.Destroy(ctx)
		require.NoError(t, err)
		for _, inv := range config.Inventory {
			_, err := kafka.Describe(ctx, inv.Name)
			assert.Error(t, err, "%s is gone", inv.Name)
		}
	})
}

// waitLedOnEveryBroker polls each broker alone (as the provider does) until it
// shows the topic with all partitions led.
func waitLedOnEveryBroker(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, partitions int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		require.NoError(t, err)
		ok := len(meta.Brokers) > 0
		for _, b := range meta.Brokers {
			req := kmsg.NewPtrMetadataRequest()
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(topic)
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl.Broker(int(b.NodeID)))
			if err != nil || len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || len(resp.Topics[0].Partitions) != partitions {
				ok = false
				break
			}
			for _, p := range resp.Topics[0].Partitions {
				ok = ok && p.Leader >= 0
			}
		}
		if ok {
			return
		}
		require.True(t, time.Now().Before(deadline), "topic %s not led on every broker after 30 s", topic)
		time.Sleep(20 * time.Millisecond)
	}
}

func summary(d []time.Duration) string {
	s := slices.Clone(d)
	slices.Sort(s)
	var total time.Duration
	for _, x := range s {
		total += x
	}
	q := func(p float64) time.Duration { return s[int(p*float64(len(s)-1))].Round(time.Millisecond) }
	return fmt.Sprintf("mean %s, p50 %s, p95 %s, max %s", (total / time.Duration(len(s))).Round(time.Millisecond), q(0.5), q(0.95), q(1))
}
