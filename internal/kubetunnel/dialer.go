// Package kubetunnel reaches Kafka brokers that run in Kubernetes through the
// cluster's API server, for a client outside the cluster.
//
// A Kafka client bootstraps from one address, then dials every broker at the
// address the broker advertises, here kafka-N.kafka-headless.<ns>.svc:9092,
// which resolves only inside the cluster. A Dialer takes those dials instead
// of the network: each advertised address is mapped to its broker pod (the
// client Service's address to any running broker pod), and each dial becomes
// one port-forward stream pair (error + data) on an SPDY connection to the API
// server's pods/<pod>/portforward subresource, the way `kubectl port-forward`
// works, but without a local listening port. One SPDY connection per pod is
// shared by all of that pod's dials; it is re-opened when it breaks (the API
// server or the kubelet closed it) or when the pod was replaced (a new UID).
//
// Nothing is read or dialed before the first dial, so a program can build a
// Dialer during a preview that must contact neither a cluster nor a broker.
//
// Failures that may heal by themselves (a pod missing, restarting or not yet
// running, a dropped stream) report Temporary, which franz-go retries within
// its request timeout; a refusal by RBAC, rejected credentials, a bad
// kubeconfig or an address that maps to no pod do not, and fail at once. The
// messages are written for the umbrellakafka provider's kubernetes option
// (they name its fields), the package's one user besides tests and tools.
//
// The package has three parts: Target and its address mapping (target.go),
// the Dialer with its per-pod SPDY connections (dialer.go), and the net.Conn
// over one port-forward stream (stream.go).
package kubetunnel

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/transport/spdy"
)

// portForwardProtocol is the SPDY subprotocol of pods/portforward
// (client-go's tools/portforward.portForwardProtocolV1Name).
const portForwardProtocol = "portforward.k8s.io"

// tunnelError is a failure of the way to a broker that may heal by itself:
// the pod is missing, restarting or not running yet, the API server or the
// kubelet dropped the stream. It reports Temporary, which franz-go retries
// (with backoff, bounded by the request timeout); errors that retrying cannot
// fix (an address that maps to no pod, an RBAC refusal, a bad kubeconfig) are
// plain errors, which franz-go returns at once.
type tunnelError struct {
	addr string
	msg  string
	err  error
	// noAnswer: the stream ended before the broker sent a byte.
	noAnswer bool
}

// ClosedBeforeAnswer reports whether err is a stream that ended before the
// broker sent anything. During a TLS handshake that is what a listener
// without TLS does with the ClientHello.
func ClosedBeforeAnswer(err error) bool {
	var te *tunnelError
	return errors.As(err, &te) && te.noAnswer
}

func (e *tunnelError) Error() string {
	s := fmt.Sprintf("dialing %s through the Kubernetes API: %s", e.addr, e.msg)
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *tunnelError) Unwrap() error { return e.err }

// Temporary marks the error as retryable for franz-go.
func (e *tunnelError) Temporary() bool { return true }

// Timeout is false: the failure is not a deadline (net.Error).
func (e *tunnelError) Timeout() bool { return false }

// Dialer dials broker addresses as port-forward streams through the
// Kubernetes API server (see the package doc). It is safe for concurrent use.
type Dialer struct {
	target  Target
	timeout time.Duration
	tls     *tls.Config

	initOnce sync.Once
	initErr  error
	source   string // where the kubeconfig came from, for messages
	rest     *rest.Config
	kube     kubernetes.Interface

	mu      sync.Mutex
	tunnels map[string]*podTunnel
	next    int // round robin over running pods for "any pod" addresses
}

// podTunnel is the shared SPDY connection to one pod's portforward subresource.
type podTunnel struct {
	mu     sync.Mutex
	uid    types.UID
	conn   httpstream.Connection
	nextID int
}

// NewDialer returns a dialer for the brokers of target. Each dial, including
// the TLS handshake when tc is not nil, is bounded by timeout. It reads no
// kubeconfig and contacts nothing until the first dial.
func NewDialer(target Target, timeout time.Duration, tc *tls.Config) *Dialer {
	return &Dialer{target: target, timeout: timeout, tls: tc, tunnels: map[string]*podTunnel{}}
}

// init loads the kubeconfig once.
func (d *Dialer) init() error {
	d.initOnce.Do(func() {
		d.rest, d.source, d.initErr = loadRESTConfig(d.target)
		if d.initErr != nil {
			return
		}
		// A dial makes one or two API calls; client-go's default of 5 per second
		// would make a burst of dials (a client reconnecting to every broker) queue.
		d.rest.QPS, d.rest.Burst = 50, 100
		d.kube, d.initErr = kubernetes.NewForConfig(d.rest)
	})
	return d.initErr
}

// loadRESTConfig reads the kubeconfig the option names: a path, the content
// itself, or (unset) $KUBECONFIG / ~/.kube/config.
func loadRESTConfig(t Target) (*rest.Config, string, error) {
	overrides := &clientcmd.ConfigOverrides{CurrentContext: t.Context}
	kc := t.Kubeconfig
	var cc clientcmd.ClientConfig
	var source string
	switch {
	case kc == "":
		source = "$KUBECONFIG or ~/.kube/config"
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), overrides)
	case strings.Contains(kc, "\n") || strings.HasPrefix(strings.TrimSpace(kc), "{"):
		source = "kubernetes.kubeconfig (content)"
		raw, err := clientcmd.Load([]byte(kc))
		if err != nil {
			return nil, source, fmt.Errorf("umbrellakafka: kubernetes.kubeconfig holds no readable kubeconfig: %w", err)
		}
		cc = clientcmd.NewNonInteractiveClientConfig(*raw, t.Context, overrides, nil)
	default:
		source = kc
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&clientcmd.ClientConfigLoadingRules{ExplicitPath: kc}, overrides)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, source, fmt.Errorf("umbrellakafka: kubernetes option: loading the kubeconfig from %s: %w "+
			"(set kubernetes.kubeconfig, kubernetes.context or $KUBECONFIG to reach the brokers' cluster)", source, err)
	}
	return cfg, source, nil
}

// DialContext is a kgo.Dialer: it maps addr to its broker pod and returns a
// connection that is a port-forward stream to that pod's port.
func (d *Dialer) DialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	if err := d.init(); err != nil {
		return nil, err
	}
	route, err := d.target.route(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var last error
	// A second attempt covers a shared connection that broke since its last
	// use: the first attempt drops it, the second opens a new one.
	for attempt := 0; attempt < 2; attempt++ {
		pod, err := d.pod(ctx, route, addr)
		if err != nil {
			return nil, err
		}
		conn, err := d.open(ctx, pod, route.Port, addr)
		if err == nil {
			return d.wrapTLS(ctx, conn, addr)
		}
		if !isTemporary(err) || ctx.Err() != nil {
			return nil, err
		}
		last = err
	}
	return nil, last
}

// wrapTLS runs the TLS handshake over the stream when the provider uses TLS;
// the server name is the advertised host, as with a direct connection.
func (d *Dialer) wrapTLS(ctx context.Context, conn net.Conn, addr string) (net.Conn, error) {
	if d.tls == nil {
		return conn, nil
	}
	cfg := d.tls.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, &HandshakeError{Addr: addr, Err: err}
	}
	return tc, nil
}

// HandshakeError is a TLS handshake that failed over an established
// port-forward stream: the tunnel worked, the broker's listener refused or
// ended the handshake. Callers tell a listener without TLS (Err is io.EOF)
// from a certificate problem with errors.As.
type HandshakeError struct {
	Addr string
	Err  error
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("dialing %s through the Kubernetes API: TLS handshake: %v", e.Addr, e.Err)
}

func (e *HandshakeError) Unwrap() error { return e.Err }

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// rbacError is the message for an API refusal of verb on resource.
func (d *Dialer) rbacError(verb, resource string, err error) error {
	return fmt.Errorf("umbrellakafka: the Kubernetes API refused to %s %s in namespace %s (kubeconfig: %s): the "+
		"identity Pulumi runs as needs a Role in %s granting get and list on pods and create on pods/portforward, "+
		"bound to it with a RoleBinding (see the README, \"Deploying from outside the cluster\"): %w",
		verb, resource, d.target.Namespace, d.source, d.target.Namespace, err)
}

// apiError turns a failed API call into a clear error: RBAC and credential
// refusals are final, everything else may heal and is a tunnelError.
func (d *Dialer) apiError(addr, verb, resource string, err error) error {
	switch {
	case apierrors.IsForbidden(err):
		return d.rbacError(verb, resource, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("umbrellakafka: the Kubernetes API rejected the credentials of the kubeconfig (%s) on "+
			"%s %s: renew them (e.g. log in to the cluster again): %w", d.source, verb, resource, err)
	}
	return &tunnelError{addr: addr, msg: fmt.Sprintf("%s %s in namespace %s", verb, resource, d.target.Namespace), err: err}
}

// pod returns the running pod the route leads to.
func (d *Dialer) pod(ctx context.Context, route podRoute, addr string) (*corev1.Pod, error) {
	ns := d.target.Namespace
	if route.Pod != "" {
		pod, err := d.kube.CoreV1().Pods(ns).Get(ctx, route.Pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, &tunnelError{addr: addr, msg: fmt.Sprintf("broker pod %s/%s does not exist (is StatefulSet %s "+
				"scaled below it, or its pod being replaced?)", ns, route.Pod, d.target.StatefulSet)}
		}
		if err != nil {
			return nil, d.apiError(addr, "get", "pods", err)
		}
		if !running(pod) {
			return nil, &tunnelError{addr: addr, msg: fmt.Sprintf("broker pod %s/%s is %s, not Running", ns, pod.Name, podPhase(pod))}
		}
		return pod, nil
	}
	list, err := d.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, d.apiError(addr, "list", "pods", err)
	}
	var up []*corev1.Pod
	var seen []string
	for i := range list.Items {
		p := &list.Items[i]
		if !d.target.isPod(p.Name) {
			continue
		}
		seen = append(seen, fmt.Sprintf("%s: %s", p.Name, podPhase(p)))
		if running(p) {
			up = append(up, p)
		}
	}
	if len(up) == 0 {
		found := "none exists"
		if len(seen) > 0 {
			found = strings.Join(seen, ", ")
		}
		return nil, &tunnelError{addr: addr, msg: fmt.Sprintf("no broker pod %s-N in namespace %s is Running (%s)",
			d.target.StatefulSet, ns, found)}
	}
	slices.SortFunc(up, func(a, b *corev1.Pod) int {
		x, _ := d.target.ordinal(a.Name)
		y, _ := d.target.ordinal(b.Name)
		return cmp.Compare(x, y)
	})
	d.mu.Lock()
	pick := up[d.next%len(up)]
	d.next++
	d.mu.Unlock()
	return pick, nil
}

func running(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning
}

func podPhase(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	if p.Status.Phase == "" {
		return "without a phase yet"
	}
	return string(p.Status.Phase)
}

// tunnel returns the pod's tunnel entry.
func (d *Dialer) tunnel(pod string) *podTunnel {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.tunnels[pod]
	if !ok {
		t = &podTunnel{}
		d.tunnels[pod] = t
	}
	return t
}

// open creates a stream pair to the pod's port on the pod's shared SPDY
// connection, opening (or re-opening) that connection when needed.
func (d *Dialer) open(ctx context.Context, pod *corev1.Pod, port int, addr string) (net.Conn, error) {
	t := d.tunnel(pod.Name)
	t.mu.Lock()
	if t.conn != nil && (t.uid != pod.UID || closed(t.conn)) {
		// The pod was replaced (its forwarded connections lead nowhere now) or
		// the connection broke: start over.
		t.conn.Close()
		t.conn = nil
	}
	if t.conn == nil {
		conn, err := d.connect(ctx, pod, addr)
		if err != nil {
			t.mu.Unlock()
			return nil, err
		}
		t.conn, t.uid, t.nextID = conn, pod.UID, 0
	}
	conn := t.conn
	id := t.nextID
	t.nextID++
	t.mu.Unlock()

	errStream, dataStream, err := createStreams(ctx, conn, port, id)
	if err != nil {
		t.mu.Lock()
		if t.conn == conn {
			conn.Close()
			t.conn = nil
		}
		t.mu.Unlock()
		return nil, &tunnelError{addr: addr, msg: fmt.Sprintf("opening a port-forward stream to pod %s/%s port %d",
			pod.Namespace, pod.Name, port), err: err}
	}
	return newStreamConn(conn, errStream, dataStream, addr, fmt.Sprintf("%s/%s:%d", pod.Namespace, pod.Name, port)), nil
}

func closed(c httpstream.Connection) bool {
	select {
	case <-c.CloseChan():
		return true
	default:
		return false
	}
}

// connect opens the SPDY connection to the pod's portforward subresource.
func (d *Dialer) connect(ctx context.Context, pod *corev1.Pod, addr string) (httpstream.Connection, error) {
	transport, upgrader, err := spdy.RoundTripperFor(d.rest)
	if err != nil {
		return nil, fmt.Errorf("umbrellakafka: kubernetes option: building the SPDY transport from %s: %w", d.source, err)
	}
	u := d.kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).
		SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
	conn, err := withContext(ctx, func() (httpstream.Connection, error) {
		c, _, err := dialer.Dial(portForwardProtocol)
		return c, err
	}, func(c httpstream.Connection) { c.Close() })
	if err != nil {
		if ctx.Err() == nil && (apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)) {
			return nil, d.apiError(addr, "create", "pods/portforward", err)
		}
		return nil, &tunnelError{addr: addr, msg: fmt.Sprintf("opening pods/portforward of %s/%s", pod.Namespace, pod.Name), err: err}
	}
	return conn, nil
}

// createStreams creates one port-forward stream pair (error, then data) with
// request ID id, as the portforward protocol wants.
func createStreams(ctx context.Context, conn httpstream.Connection, port, id int) (errStream, dataStream httpstream.Stream, err error) {
	headers := http.Header{}
	headers.Set(corev1.StreamType, corev1.StreamTypeError)
	headers.Set(corev1.PortHeader, strconv.Itoa(port))
	headers.Set(corev1.PortForwardRequestIDHeader, strconv.Itoa(id))
	reset := func(s httpstream.Stream) { s.Reset() }
	errStream, err = withContext(ctx, func() (httpstream.Stream, error) { return conn.CreateStream(headers) }, reset)
	if err != nil {
		return nil, nil, fmt.Errorf("error stream: %w", err)
	}
	// Nothing is ever sent on the error stream; the other side only writes.
	errStream.Close()
	headers.Set(corev1.StreamType, corev1.StreamTypeData)
	dataStream, err = withContext(ctx, func() (httpstream.Stream, error) { return conn.CreateStream(headers) }, reset)
	if err != nil {
		errStream.Reset()
		conn.RemoveStreams(errStream)
		return nil, nil, fmt.Errorf("data stream: %w", err)
	}
	return errStream, dataStream, nil
}

// withContext runs fn, which cannot be cancelled, and gives up when ctx ends;
// a result that arrives after that is handed to discard.
func withContext[T any](ctx context.Context, fn func() (T, error), discard func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	var abandoned sync.Mutex
	gaveUp := false
	go func() {
		v, err := fn()
		abandoned.Lock()
		defer abandoned.Unlock()
		if gaveUp {
			if err == nil {
				discard(v)
			}
			return
		}
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		abandoned.Lock()
		defer abandoned.Unlock()
		select {
		case r := <-done: // finished just in time
			return r.v, r.err
		default:
		}
		gaveUp = true
		var zero T
		return zero, ctx.Err()
	}
}

// Close closes every pod's SPDY connection, which ends the streams on them.
// The dialer stays usable: a later dial opens a new connection. (The provider
// never calls it; its process just exits.)
func (d *Dialer) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range d.tunnels {
		t.mu.Lock()
		if t.conn != nil {
			t.conn.Close()
			t.conn = nil
		}
		t.mu.Unlock()
	}
}
