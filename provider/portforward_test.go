package provider

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
)

func access() KubernetesAccess {
	return KubernetesAccess{Namespace: "umbrella-streaming", StatefulSet: "kafka", HeadlessService: "kafka-headless",
		BootstrapService: ptr("kafka")}
}

func ptr[T any](v T) *T { return &v }

func TestRouteMapsAdvertisedNamesToPods(t *testing.T) {
	a := access()
	for addr, want := range map[string]podRoute{
		"kafka-0.kafka-headless.umbrella-streaming.svc:9092":                {Pod: "kafka-0", Port: 9092},
		"kafka-12.kafka-headless.umbrella-streaming.svc.cluster.local:9093": {Pod: "kafka-12", Port: 9093},
		"KAFKA-1.kafka-headless.umbrella-streaming.svc.:9092":               {Pod: "kafka-1", Port: 9092},
		"kafka-2.kafka-headless:9092":                                       {Pod: "kafka-2", Port: 9092},
		"kafka.umbrella-streaming.svc.cluster.local:9092":                   {Port: 9092},
		"kafka.umbrella-streaming.svc:9092":                                 {Port: 9092},
		"kafka-headless.umbrella-streaming.svc:9092":                        {Port: 9092},
		"kafka:9092": {Port: 9092},
	} {
		got, err := a.route(addr)
		require.NoError(t, err, addr)
		assert.Equal(t, want, got, addr)
	}
}

func TestRouteRefusesAddressesThatMapToNoPod(t *testing.T) {
	a := access()
	forms := `kafka-N.kafka-headless.umbrella-streaming.svc (one broker) or kafka-headless.umbrella-streaming.svc (any broker) ` +
		`or kafka.umbrella-streaming.svc (any broker)`
	for addr, want := range map[string]string{
		"127.0.0.1:9092": `umbrellakafka: broker address "127.0.0.1:9092" maps to no pod: with the kubernetes option, every ` +
			`address the provider dials must be ` + forms + `; fix bootstrapServers, or the brokers' advertised.listeners, ` +
			`or kubernetes.statefulSet/headlessService/bootstrapService`,
		"zookeeper-0.kafka-headless.umbrella-streaming.svc:9092": `umbrellakafka: broker address "zookeeper-0.kafka-headless.umbrella-streaming.svc:9092" maps to no pod: with the kubernetes option, every ` +
			`address the provider dials must be ` + forms + `; fix bootstrapServers, or the brokers' advertised.listeners, ` +
			`or kubernetes.statefulSet/headlessService/bootstrapService`,
		"kafka-01.kafka-headless.umbrella-streaming.svc:9092": `umbrellakafka: broker address "kafka-01.kafka-headless.umbrella-streaming.svc:9092" maps to no pod: with the kubernetes option, every ` +
			`address the provider dials must be ` + forms + `; fix bootstrapServers, or the brokers' advertised.listeners, ` +
			`or kubernetes.statefulSet/headlessService/bootstrapService`,
		"kafka-0.kafka-headless.other.svc:9092": `umbrellakafka: broker address "kafka-0.kafka-headless.other.svc:9092" is in ` +
			`namespace "other", but kubernetes.namespace is "umbrella-streaming": set kubernetes.namespace to the brokers' namespace`,
		"kafka.other.svc.cluster.local:9092": `umbrellakafka: broker address "kafka.other.svc.cluster.local:9092" is in ` +
			`namespace "other", but kubernetes.namespace is "umbrella-streaming": set kubernetes.namespace to the brokers' namespace`,
		"kafka-0.kafka-headless.umbrella-streaming.svc": `umbrellakafka: broker address "kafka-0.kafka-headless.umbrella-streaming.svc" ` +
			`is not host:port: address kafka-0.kafka-headless.umbrella-streaming.svc: missing port in address`,
	} {
		_, err := a.route(addr)
		require.Error(t, err, addr)
		assert.Equal(t, want, err.Error(), addr)
	}
}

func TestKubernetesOptionValidation(t *testing.T) {
	bad := access()
	bad.Namespace = "Umbrella_Streaming"
	cfg := &Config{BootstrapServers: []string{"kafka:9092"}, Kubernetes: &bad}
	require.EqualError(t, cfg.Configure(context.Background()),
		`umbrellakafka:kubernetes.namespace = "Umbrella_Streaming" is not a Kubernetes name (a DNS label: lower-case `+
			"letters, digits and '-', at most 63 characters): set it to the name as `kubectl get` shows it, e.g. umbrella-streaming")
	bad = access()
	bad.StatefulSet = ""
	cfg.Kubernetes = &bad
	require.EqualError(t, cfg.Configure(context.Background()),
		`umbrellakafka:kubernetes.statefulSet = "" is not a Kubernetes name (a DNS label: lower-case `+
			"letters, digits and '-', at most 63 characters): set it to the name as `kubectl get` shows it, e.g. kafka")

	// Configure contacts nothing: a kubeconfig that does not exist is only read at the first dial.
	good := access()
	good.Kubeconfig = ptr("/nonexistent/kubeconfig")
	cfg.Kubernetes = &good
	require.NoError(t, cfg.Configure(context.Background()))
	assert.Nil(t, cfg.conn.cl)
	_, err := newKubeDialer(good, time.Second, nil).DialContext(context.Background(), "tcp", "kafka:9092")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "umbrellakafka: kubernetes option: loading the kubeconfig from /nonexistent/kubeconfig: ")
	assert.False(t, isTemporary(err), "a missing kubeconfig is not retried")
}

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

// fakeAPI is an API server with just what the dialer uses: GET and LIST of
// pods, and pods/{name}/portforward upgraded to SPDY, whose data streams it
// connects to target (a local TCP server), like a kubelet would.
type fakeAPI struct {
	srv     *httptest.Server
	target  string            // where every pod's port leads, unless targets names the pod
	targets map[string]string // pod name -> address

	mu        sync.Mutex
	pods      map[string]corev1.Pod
	forbidPF  bool
	forbidGet bool
	noForward string // when set, every forward fails with this message
	upgrades  atomic.Int32
	conns     []httpstream.Connection
}

func newFakeAPI(t *testing.T, target string) *fakeAPI {
	f := &fakeAPI{target: target, pods: map[string]corev1.Pod{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

func (f *fakeAPI) setPod(name string, phase corev1.PodPhase, uid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pods[name] = corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "umbrella-streaming", UID: types.UID(uid)},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

// breakConns closes every SPDY connection, as an API server restart would.
func (f *fakeAPI) breakConns() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Code: int32(code), Reason: reason, Message: msg})
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	const prefix = "/api/v1/namespaces/umbrella-streaming/pods"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "not found")
		return
	}
	f.mu.Lock()
	forbidGet, forbidPF := f.forbidGet, f.forbidPF
	f.mu.Unlock()
	switch {
	case rest == "" && r.Method == http.MethodGet:
		if forbidGet {
			writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden, `pods is forbidden: User "ci" cannot list resource "pods"`)
			return
		}
		list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
		f.mu.Lock()
		for _, p := range f.pods {
			list.Items = append(list.Items, p)
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	case strings.HasSuffix(rest, "/portforward") && r.Method == http.MethodPost:
		if forbidPF {
			writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden,
				`pods "kafka-0" is forbidden: User "ci" cannot create resource "pods/portforward" in API group "" in the namespace "umbrella-streaming"`)
			return
		}
		f.portForward(w, r)
	case r.Method == http.MethodGet:
		name := strings.TrimPrefix(rest, "/")
		f.mu.Lock()
		p, ok := f.pods[name]
		f.mu.Unlock()
		if forbidGet {
			writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden, `pods "`+name+`" is forbidden: User "ci" cannot get resource "pods"`)
			return
		}
		if !ok {
			writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, `pods "`+name+`" not found`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p)
	default:
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "no")
	}
}

// portForward serves the portforward protocol: streams come in pairs with one
// requestID; each data stream is connected to the target.
func (f *fakeAPI) portForward(w http.ResponseWriter, r *http.Request) {
	if _, err := httpstream.Handshake(r, w, []string{portForwardProtocol}); err != nil {
		return
	}
	streams := make(chan httpstream.Stream, 16)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, _ <-chan struct{}) error {
		streams <- s
		return nil
	})
	if conn == nil {
		return
	}
	f.upgrades.Add(1)
	f.mu.Lock()
	f.conns = append(f.conns, conn)
	f.mu.Unlock()
	pod := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/namespaces/umbrella-streaming/pods/"), "/portforward")
	go func() {
		errStreams := map[string]httpstream.Stream{}
		for {
			var s httpstream.Stream
			select {
			case s = <-streams:
			case <-conn.CloseChan():
				return
			}
			id := s.Headers().Get(corev1.PortForwardRequestIDHeader)
			if s.Headers().Get(corev1.StreamType) == corev1.StreamTypeError {
				errStreams[id] = s
				continue
			}
			go f.forward(pod, s, errStreams[id])
		}
	}()
}

func (f *fakeAPI) forward(pod string, data, errStream httpstream.Stream) {
	defer data.Close()
	defer errStream.Close()
	f.mu.Lock()
	fail := f.noForward
	target, ok := f.targets[pod]
	if !ok {
		target = f.target
	}
	f.mu.Unlock()
	if fail != "" {
		data.Close()
		time.Sleep(50 * time.Millisecond) // the error comes after the data stream closed, as from a kubelet
		fmt.Fprint(errStream, fail)
		return
	}
	c, err := net.Dial("tcp", target)
	if err != nil {
		fmt.Fprint(errStream, err.Error())
		return
	}
	defer c.Close()
	go func() { _, _ = io.Copy(c, data) }()
	_, _ = io.Copy(data, c)
}

// echoServer answers every line with "<prefix><line>".
func echoServer(t *testing.T, prefix string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					fmt.Fprintf(c, "%s%s\n", prefix, sc.Text())
				}
			}()
		}
	}()
	return l.Addr().String()
}

func kubeconfigFor(server string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: %q}
users:
- name: ci
  user: {token: test}
contexts:
- name: fake
  context: {cluster: fake, user: ci, namespace: default}
current-context: fake
`, server)
}

func fakeDialer(t *testing.T, f *fakeAPI) *kubeDialer {
	a := access()
	a.Kubeconfig = ptr(kubeconfigFor(f.srv.URL))
	d := newKubeDialer(a, 5*time.Second, nil)
	t.Cleanup(d.close)
	return d
}

func roundTrip(t *testing.T, c net.Conn, line string) string {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err := fmt.Fprintln(c, line)
	require.NoError(t, err)
	got, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSpace(got)
}

func TestTunnelStreamsShareOneConnectionPerPod(t *testing.T) {
	f := newFakeAPI(t, echoServer(t, "broker:"))
	f.setPod("kafka-0", corev1.PodRunning, "uid-0")
	f.setPod("kafka-1", corev1.PodRunning, "uid-1")
	d := fakeDialer(t, f)
	ctx := context.Background()

	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := d.DialContext(ctx, "tcp", "kafka-0.kafka-headless.umbrella-streaming.svc:9092")
		require.NoError(t, err)
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		assert.Equal(t, fmt.Sprintf("broker:hello %d", i), roundTrip(t, c, fmt.Sprintf("hello %d", i)))
	}
	assert.Equal(t, "kafka-0.kafka-headless.umbrella-streaming.svc:9092", conns[0].RemoteAddr().String())
	assert.EqualValues(t, 1, f.upgrades.Load(), "three dials to one pod share one SPDY connection")

	c, err := d.DialContext(ctx, "tcp", "kafka-1.kafka-headless.umbrella-streaming.svc:9092")
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "broker:x", roundTrip(t, c, "x"))
	assert.EqualValues(t, 2, f.upgrades.Load(), "another pod, another connection")

	// The bootstrap Service's address goes to any running broker pod.
	b, err := d.DialContext(ctx, "tcp", "kafka.umbrella-streaming.svc.cluster.local:9092")
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "broker:boot", roundTrip(t, b, "boot"))
	assert.EqualValues(t, 2, f.upgrades.Load())
}

func TestTunnelReopensWhenTheConnectionBreaksOrThePodIsReplaced(t *testing.T) {
	f := newFakeAPI(t, echoServer(t, ""))
	f.setPod("kafka-0", corev1.PodRunning, "uid-a")
	d := fakeDialer(t, f)
	ctx := context.Background()
	const addr = "kafka-0.kafka-headless.umbrella-streaming.svc:9092"

	c, err := d.DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	assert.Equal(t, "one", roundTrip(t, c, "one"))

	f.breakConns()
	// The open stream ends with an error franz-go retries on a new connection: an EOF
	// after the broker has answered, or a temporary tunnel error.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second)) // fails once the stream has ended
	_, err = c.Read(make([]byte, 1))
	require.Error(t, err)
	assert.True(t, err == io.EOF || isTemporary(err), "%v", err)
	c.Close()
	c, err = d.DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	assert.Equal(t, "two", roundTrip(t, c, "two"))
	c.Close()
	assert.EqualValues(t, 2, f.upgrades.Load(), "a broken connection is re-opened")

	f.setPod("kafka-0", corev1.PodRunning, "uid-b")
	c, err = d.DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	assert.Equal(t, "three", roundTrip(t, c, "three"))
	c.Close()
	assert.EqualValues(t, 3, f.upgrades.Load(), "a replaced pod (new UID) gets a new connection")
}

func TestTunnelErrorsNameThePodAndTheFix(t *testing.T) {
	f := newFakeAPI(t, echoServer(t, ""))
	d := fakeDialer(t, f)
	ctx := context.Background()
	const addr = "kafka-1.kafka-headless.umbrella-streaming.svc:9092"

	_, err := d.DialContext(ctx, "tcp", addr)
	require.EqualError(t, err, "dialing kafka-1.kafka-headless.umbrella-streaming.svc:9092 through the Kubernetes API: "+
		"broker pod umbrella-streaming/kafka-1 does not exist (is StatefulSet kafka scaled below it, or its pod being replaced?)")
	assert.True(t, isTemporary(err), "a missing pod may come back: retried")

	f.setPod("kafka-1", corev1.PodPending, "uid-1")
	_, err = d.DialContext(ctx, "tcp", addr)
	require.EqualError(t, err, "dialing kafka-1.kafka-headless.umbrella-streaming.svc:9092 through the Kubernetes API: "+
		"broker pod umbrella-streaming/kafka-1 is Pending, not Running")
	assert.True(t, isTemporary(err))

	_, err = d.DialContext(ctx, "tcp", "kafka.umbrella-streaming.svc:9092")
	require.EqualError(t, err, "dialing kafka.umbrella-streaming.svc:9092 through the Kubernetes API: "+
		"no broker pod kafka-N in namespace umbrella-streaming is Running (kafka-1: Pending)")

	f.setPod("kafka-1", corev1.PodRunning, "uid-1")
	f.mu.Lock()
	f.forbidPF = true
	f.mu.Unlock()
	_, err = d.DialContext(ctx, "tcp", addr)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "umbrellakafka: the Kubernetes API refused to create pods/portforward in "+
		"namespace umbrella-streaming (kubeconfig: kubernetes.kubeconfig (content)): the identity Pulumi runs as needs a "+
		"Role in umbrella-streaming granting get and list on pods and create on pods/portforward, bound to it with a "+
		"RoleBinding (see the README, \"Deploying from outside the cluster\"): "), err.Error())
	assert.Contains(t, err.Error(), `cannot create resource "pods/portforward"`)
	assert.False(t, isTemporary(err), "an RBAC refusal is final")

	f.mu.Lock()
	f.forbidPF, f.forbidGet = false, true
	f.mu.Unlock()
	_, err = d.DialContext(ctx, "tcp", addr)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "umbrellakafka: the Kubernetes API refused to get pods in namespace umbrella-streaming"), err.Error())
	assert.False(t, isTemporary(err))

	// A forward that the kubelet cannot make: the error stream's message, retryable.
	f.mu.Lock()
	f.forbidGet, f.noForward = false, "no forward found for port 9092 in pod umbrella-streaming/kafka-1"
	f.mu.Unlock()
	c, err := d.DialContext(ctx, "tcp", addr)
	require.NoError(t, err, "the stream opens; the failure comes back on it")
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, _ = c.Write([]byte("x\n"))
	_, err = c.Read(make([]byte, 1))
	require.EqualError(t, err, "dialing kafka-1.kafka-headless.umbrella-streaming.svc:9092 through the Kubernetes API: pod "+
		"umbrella-streaming/kafka-1:9092: no forward found for port 9092 in pod umbrella-streaming/kafka-1")
	assert.True(t, isTemporary(err))
	assert.False(t, errors.Is(err, io.EOF), "franz-go must not take it for a first-read EOF (TLS/SASL mismatch), which it never retries")
}

func TestTunnelDialHonoursTheContext(t *testing.T) {
	// An API server that never answers the upgrade.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/portforward") {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(corev1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "kafka-0", Namespace: "umbrella-streaming", UID: "u"},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning}})
	}))
	defer hang.Close()
	defer hang.CloseClientConnections()
	a := access()
	a.Kubeconfig = ptr(kubeconfigFor(hang.URL))
	d := newKubeDialer(a, 300*time.Millisecond, nil)
	start := time.Now()
	_, err := d.DialContext(context.Background(), "tcp", "kafka-0.kafka-headless.umbrella-streaming.svc:9092")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second, "the dial timeout bounds the upgrade")
}
