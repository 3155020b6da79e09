// Package kubetunneltest is a fake Kubernetes API server for tests of
// kubetunnel and of its users: no cluster, no kubelet, real SPDY.
package kubetunneltest

import (
	"encoding/json"
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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
)

// Namespace is the only namespace the fake serves.
const Namespace = "umbrella-streaming"

// portForwardProtocol is the SPDY subprotocol of pods/portforward, as a
// kubelet speaks it (client-go's tools/portforward.PortForwardProtocolV1Name).
const portForwardProtocol = "portforward.k8s.io"

// FakeAPI is an API server with just what a kubetunnel.Dialer uses: GET and
// LIST of pods in Namespace, and pods/{name}/portforward upgraded to SPDY,
// whose data streams it connects to a local TCP server, like a kubelet would.
// Its methods are safe for concurrent use.
type FakeAPI struct {
	srv    *httptest.Server
	target string // where every pod's port leads, unless targets names the pod

	mu        sync.Mutex
	targets   map[string]string // pod name -> address
	pods      map[string]corev1.Pod
	forbidPF  bool
	forbidGet bool
	noForward string // when set, every forward fails with this message
	upgrades  atomic.Int32
	conns     []httpstream.Connection
}

// NewFakeAPI starts a fake API server whose pods' ports all lead to target
// (host:port), and stops it when the test ends.
func NewFakeAPI(t testing.TB, target string) *FakeAPI {
	f := &FakeAPI{target: target, pods: map[string]corev1.Pod{}}
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

// URL is the server's base URL.
func (f *FakeAPI) URL() string { return f.srv.URL }

// Kubeconfig is a kubeconfig (the content) that leads to the server.
func (f *FakeAPI) Kubeconfig() string { return KubeconfigFor(f.srv.URL) }

// KubeconfigFor is a kubeconfig (the content) with a token user whose current
// context leads to the API server at server.
func KubeconfigFor(server string) string {
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

// SetPod creates or replaces pod name with the phase and UID.
func (f *FakeAPI) SetPod(name string, phase corev1.PodPhase, uid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pods[name] = corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace, UID: types.UID(uid)},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

// SetTargets makes the ports of the pods it names lead to their own address
// (pod name -> host:port) instead of the common target.
func (f *FakeAPI) SetTargets(targets map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.targets = targets
}

// Forbid makes the server refuse (403, as RBAC does) getting and listing
// pods, creating pods/portforward, or neither.
func (f *FakeAPI) Forbid(getPods, portForward bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forbidGet, f.forbidPF = getPods, portForward
}

// FailForwards makes every new forward fail with msg on its error stream, as
// a kubelet does when nothing listens on the port; "" forwards again.
func (f *FakeAPI) FailForwards(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noForward = msg
}

// Upgrades is the number of SPDY connections the server has accepted.
func (f *FakeAPI) Upgrades() int { return int(f.upgrades.Load()) }

// BreakConns closes every SPDY connection, as an API server restart would.
func (f *FakeAPI) BreakConns() {
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

func (f *FakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	const prefix = "/api/v1/namespaces/" + Namespace + "/pods"
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
func (f *FakeAPI) portForward(w http.ResponseWriter, r *http.Request) {
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
	pod := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/namespaces/"+Namespace+"/pods/"), "/portforward")
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

func (f *FakeAPI) forward(pod string, data, errStream httpstream.Stream) {
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
