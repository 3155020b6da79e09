package kubetunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel/kubetunneltest"
)

func target() Target {
	return Target{Namespace: "umbrella-streaming", StatefulSet: "kafka", HeadlessService: "kafka-headless",
		BootstrapService: "kafka"}
}

func TestRouteMapsAdvertisedNamesToPods(t *testing.T) {
	a := target()
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
	a := target()
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

// TestKubeconfigIsReadAtTheFirstDial guards previews: building a dialer reads
// nothing, and a kubeconfig that does not exist fails the first dial for good.
func TestKubeconfigIsReadAtTheFirstDial(t *testing.T) {
	a := target()
	a.Kubeconfig = "/nonexistent/kubeconfig"
	d := NewDialer(a, time.Second, nil)
	assert.Nil(t, d.rest, "NewDialer reads no kubeconfig")
	_, err := d.DialContext(context.Background(), "tcp", "kafka:9092")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "umbrellakafka: kubernetes option: loading the kubeconfig from /nonexistent/kubeconfig: ")
	assert.False(t, isTemporary(err), "a missing kubeconfig is not retried")
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

func fakeDialer(t *testing.T, f *kubetunneltest.FakeAPI) *Dialer {
	a := target()
	a.Kubeconfig = f.Kubeconfig()
	d := NewDialer(a, 5*time.Second, nil)
	t.Cleanup(d.Close)
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
	f := kubetunneltest.NewFakeAPI(t, echoServer(t, "broker:"))
	f.SetPod("kafka-0", corev1.PodRunning, "uid-0")
	f.SetPod("kafka-1", corev1.PodRunning, "uid-1")
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
	assert.EqualValues(t, 1, f.Upgrades(), "three dials to one pod share one SPDY connection")

	c, err := d.DialContext(ctx, "tcp", "kafka-1.kafka-headless.umbrella-streaming.svc:9092")
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "broker:x", roundTrip(t, c, "x"))
	assert.EqualValues(t, 2, f.Upgrades(), "another pod, another connection")

	// The bootstrap Service's address goes to any running broker pod.
	b, err := d.DialContext(ctx, "tcp", "kafka.umbrella-streaming.svc.cluster.local:9092")
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "broker:boot", roundTrip(t, b, "boot"))
	assert.EqualValues(t, 2, f.Upgrades())
}

func TestTunnelReopensWhenTheConnectionBreaksOrThePodIsReplaced(t *testing.T) {
	f := kubetunneltest.NewFakeAPI(t, echoServer(t, ""))
	f.SetPod("kafka-0", corev1.PodRunning, "uid-a")
	d := fakeDialer(t, f)
	ctx := context.Background()
	const addr = "kafka-0.kafka-headless.umbrella-streaming.svc:9092"

	c, err := d.DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	assert.Equal(t, "one", roundTrip(t, c, "one"))

	f.BreakConns()
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
	assert.EqualValues(t, 2, f.Upgrades(), "a broken connection is re-opened")

	f.SetPod("kafka-0", corev1.PodRunning, "uid-b")
	c, err = d.DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	assert.Equal(t, "three", roundTrip(t, c, "three"))
	c.Close()
	assert.EqualValues(t, 3, f.Upgrades(), "a replaced pod (new UID) gets a new connection")
}

func TestTunnelErrorsNameThePodAndTheFix(t *testing.T) {
	f := kubetunneltest.NewFakeAPI(t, echoServer(t, ""))
	d := fakeDialer(t, f)
	ctx := context.Background()
	const addr = "kafka-1.kafka-headless.umbrella-streaming.svc:9092"

	_, err := d.DialContext(ctx, "tcp", addr)
	require.EqualError(t, err, "dialing kafka-1.kafka-headless.umbrella-streaming.svc:9092 through the Kubernetes API: "+
		"broker pod umbrella-streaming/kafka-1 does not exist (is StatefulSet kafka scaled below it, or its pod being replaced?)")
	assert.True(t, isTemporary(err), "a missing pod may come back: retried")

	f.SetPod("kafka-1", corev1.PodPending, "uid-1")
	_, err = d.DialContext(ctx, "tcp", addr)
	require.EqualError(t, err, "dialing kafka-1.kafka-headless.umbrella-streaming.svc:9092 through the Kubernetes API: "+
		"broker pod umbrella-streaming/kafka-1 is Pending, not Running")
	assert.True(t, isTemporary(err))

	_, err = d.DialContext(ctx, "tcp", "kafka.umbrella-streaming.svc:9092")
	require.EqualError(t, err, "dialing kafka.umbrella-streaming.svc:9092 through the Kubernetes API: "+
		"no broker pod kafka-N in namespace umbrella-streaming is Running (kafka-1: Pending)")

	f.SetPod("kafka-1", corev1.PodRunning, "uid-1")
	f.Forbid(false, true)
	_, err = d.DialContext(ctx, "tcp", addr)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "umbrellakafka: the Kubernetes API refused to create pods/portforward in "+
		"namespace umbrella-streaming (kubeconfig: kubernetes.kubeconfig (content)): the identity Pulumi runs as needs a "+
		"Role in umbrella-streaming granting get and list on pods and create on pods/portforward, bound to it with a "+
		"RoleBinding (see the README, \"Deploying from outside the cluster\"): "), err.Error())
	assert.Contains(t, err.Error(), `cannot create resource "pods/portforward"`)
	assert.False(t, isTemporary(err), "an RBAC refusal is final")

	f.Forbid(true, false)
	_, err = d.DialContext(ctx, "tcp", addr)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "umbrellakafka: the Kubernetes API refused to get pods in namespace umbrella-streaming"), err.Error())
	assert.False(t, isTemporary(err))

	// A forward that the kubelet cannot make: the error stream's message, retryable.
	f.Forbid(false, false)
	f.FailForwards("no forward found for port 9092 in pod umbrella-streaming/kafka-1")
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
	a := target()
	a.Kubeconfig = kubetunneltest.KubeconfigFor(hang.URL)
	d := NewDialer(a, 300*time.Millisecond, nil)
	start := time.Now()
	_, err := d.DialContext(context.Background(), "tcp", "kafka-0.kafka-headless.umbrella-streaming.svc:9092")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second, "the dial timeout bounds the upgrade")
}

// TestHandshakeOnAListenerWithoutTLS: with TLS on, a listener that closes the
// stream on the ClientHello (as a PLAINTEXT Kafka listener does) fails the
// dial with a HandshakeError whose cause ClosedBeforeAnswer recognises, so
// the provider can say "set tlsEnabled = false".
func TestHandshakeOnAListenerWithoutTLS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 512))
			c.Close()
		}
	}()
	f := kubetunneltest.NewFakeAPI(t, l.Addr().String())
	f.SetPod("kafka-0", corev1.PodRunning, "uid-0")
	d := fakeDialer(t, f)
	d.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	_, err = d.DialContext(context.Background(), "tcp", "kafka-0.kafka-headless.umbrella-streaming.svc:9093")
	require.Error(t, err)
	var hs *HandshakeError
	require.ErrorAs(t, err, &hs)
	assert.Equal(t, "kafka-0.kafka-headless.umbrella-streaming.svc:9093", hs.Addr)
	assert.True(t, ClosedBeforeAnswer(hs.Err), "%v", hs.Err)
	assert.False(t, ClosedBeforeAnswer(errors.New("other")))
}
