package provider

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"

	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel/kubetunneltest"
)

// inClusterListener is a loopback listener that reports an in-cluster
// address, so kfake advertises kafka-N.kafka-headless.umbrella-streaming.svc:9092
// like a broker pod does (and nothing on this machine resolves it).
type inClusterListener struct {
	net.Listener
	advertised fakeAddr
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

func (l inClusterListener) Addr() net.Addr { return l.advertised }

// inClusterKfake starts a 3-broker kfake cluster advertising in-cluster names
// and returns the real loopback address behind each pod name.
func inClusterKfake(t *testing.T) (real map[string]string, admin *testCluster) {
	var mu sync.Mutex
	real = map[string]string{}
	n := 0
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.ListenFn(func(network, addr string) (net.Listener, error) {
		l, err := net.Listen(network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		pod := fmt.Sprintf("kafka-%d", n)
		n++
		real[pod] = l.Addr().String()
		return inClusterListener{l, fakeAddr(pod + ".kafka-headless.umbrella-streaming.svc:9092")}, nil
	}))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	// The test's own client maps the advertised names back to loopback.
	raw, err := kgo.NewClient(kgo.SeedBrokers(real["kafka-0"]), kgo.Dialer(func(ctx context.Context, network, host string) (net.Conn, error) {
		if pod, _, ok := strings.Cut(host, "."); ok && real[pod] != "" {
			host = real[pod]
		}
		return (&net.Dialer{}).DialContext(ctx, network, host)
	}))
	require.NoError(t, err)
	t.Cleanup(raw.Close)
	return real, &testCluster{raw: raw, adm: kadm.NewClient(raw)}
}

func TestProviderManagesTopicsThroughTheTunnel(t *testing.T) {
	real, c := inClusterKfake(t)
	f := kubetunneltest.NewFakeAPI(t, "")
	f.SetTargets(real)
	for pod := range real {
		f.SetPod(pod, corev1.PodRunning, "uid-"+pod)
	}
	k8s := property.New(map[string]property.Value{
		"kubeconfig":       property.New(f.Kubeconfig()),
		"namespace":        property.New("umbrella-streaming"),
		"statefulSet":      property.New("kafka"),
		"headlessService":  property.New("kafka-headless"),
		"bootstrapService": property.New("kafka"),
	})
	s := server(t, []string{"kafka.umbrella-streaming.svc.cluster.local:9092"}, map[string]property.Value{"kubernetes": k8s})

	state := mustCreate(t, s, topicProps("tunnelled", 2, 3, map[string]string{"retention.ms": "1000"}))
	parts, rf, cfg := c.describe(t, "tunnelled")
	assert.Equal(t, []any{2, 3, map[string]string{"retention.ms": "1000"}}, []any{parts, rf, cfg})
	want := topicProps("tunnelled", 4, 3, map[string]string{"retention.ms": "2000"})
	resp, err := update(s, "tunnelled", state, want, false)
	require.NoError(t, err)
	parts, _, cfg = c.describe(t, "tunnelled")
	assert.Equal(t, []any{4, map[string]string{"retention.ms": "2000"}}, []any{parts, cfg})
	require.NoError(t, del(s, "tunnelled", resp.Properties))
	assert.False(t, c.exists(t, "tunnelled"))
	assert.EqualValues(t, 3, f.Upgrades(), "one SPDY connection per broker pod, reused by every request")
}

func TestProviderWithoutTheOptionSaysHowToReachInClusterBrokers(t *testing.T) {
	real, _ := inClusterKfake(t)
	// A timeout far above the bound: a retried dial would take 60 s, a final
	// one well under 30 s even on a busy machine.
	s := server(t, []string{real["kafka-0"]}, map[string]property.Value{"timeout": property.New(60.0)})
	start := time.Now()
	_, err := create(t, s, topicProps("unreachable", 1, 1, nil), false)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 30*time.Second, "fails fast, not after the 60 s request timeout")
	assert.Regexp(t, `lookup kafka-\d\.kafka-headless\.umbrella-streaming\.svc`, err.Error())
	assert.Contains(t, err.Error(), `is a Kubernetes in-cluster name, which resolves only inside the cluster; to manage `+
		`topics from outside it, set the provider's kubernetes option so that every broker is reached through the `+
		`Kubernetes API (umbrella-streaming stacks: set topics.access: kubernetes)`)
}

func TestPreviewWithTheOptionNeedsNoCluster(t *testing.T) {
	k8s := property.New(map[string]property.Value{
		"kubeconfig":      property.New("/nonexistent/kubeconfig"),
		"namespace":       property.New("umbrella-streaming"),
		"statefulSet":     property.New("kafka"),
		"headlessService": property.New("kafka-headless"),
	})
	s := server(t, []string{"kafka.umbrella-streaming.svc:9092"}, map[string]property.Value{"kubernetes": k8s})
	resp, err := create(t, s, topicProps("new", 3, 1, nil), true)
	require.NoError(t, err, "a preview of a new topic dials nothing")
	assert.Equal(t, "new", resp.ID)
}

func TestRBACRefusalFailsAtOnce(t *testing.T) {
	f := kubetunneltest.NewFakeAPI(t, "")
	f.Forbid(true, false)
	k8s := property.New(map[string]property.Value{
		"kubeconfig":       property.New(f.Kubeconfig()),
		"namespace":        property.New("umbrella-streaming"),
		"statefulSet":      property.New("kafka"),
		"headlessService":  property.New("kafka-headless"),
		"bootstrapService": property.New("kafka"),
	})
	s := server(t, []string{"kafka.umbrella-streaming.svc:9092"}, map[string]property.Value{"kubernetes": k8s,
		"timeout": property.New(60.0)}) // far above the bound below
	start := time.Now()
	_, err := create(t, s, topicProps("denied", 1, 1, nil), false)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 30*time.Second, "an RBAC refusal is not retried until the 60 s request timeout")
	assert.Contains(t, err.Error(), "umbrellakafka: the Kubernetes API refused to list pods in namespace umbrella-streaming")
	assert.Contains(t, err.Error(), "granting get and list on pods and create on pods/portforward")
}

// TestReconfigureDropsRemovedOptions guards against infer decoding each new
// configuration into the same struct, which kept an option that the new
// configuration no longer has (seen: switching topics.access back to direct
// kept the tunnel).
func TestReconfigureDropsRemovedOptions(t *testing.T) {
	c := newCluster(t)
	k8s := property.New(map[string]property.Value{
		"kubeconfig":      property.New("/nonexistent/kubeconfig"),
		"namespace":       property.New("umbrella-streaming"),
		"statefulSet":     property.New("kafka"),
		"headlessService": property.New("kafka-headless"),
	})
	s := server(t, c.addrs, map[string]property.Value{"kubernetes": k8s, "protectTopics": property.New(true)})
	servers := make([]property.Value, len(c.addrs))
	for i, a := range c.addrs {
		servers[i] = property.New(a)
	}
	require.NoError(t, s.Configure(property.NewMap(map[string]property.Value{
		"bootstrapServers": property.New(servers),
		"timeout":          property.New(5.0),
		"tlsEnabled":       property.New(false),
	})))
	state := mustCreate(t, s, topicProps("direct-again", 1, 1, nil))
	require.NoError(t, del(s, "direct-again", state), "protectTopics is gone too")
}
