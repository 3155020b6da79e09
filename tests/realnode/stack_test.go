//go:build realnode

package realnode

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
)

// kafkaStack is the stack under test as a test reaches it. Each test makes its
// own and passes it on (issue 24 item 10: this was a package global the prod
// test set, so a test running after, or beside, it saw the prod stack's access).
type kafkaStack struct {
	// secure is security.mode sasl-scram (Pulumi.prod.yaml): Kafka's tools run
	// in a broker pod reach the INTERNAL listener with the broker's own
	// certificate (admin.properties), and clients are platform services with
	// the credentials Secret the program wrote into their namespace.
	secure bool
}

// plainToolBootstrap is how tool command lines are written here: for the
// plaintext stack as they are, rewritten by script for the secure one.
const plainToolBootstrap = "--bootstrap-server localhost:9092"

// toolBootstrap is the tools' bootstrap flags for this stack.
func (k kafkaStack) toolBootstrap() string {
	if !k.secure {
		return plainToolBootstrap
	}
	return fmt.Sprintf("--bootstrap-server localhost:%d --command-config %s/%s",
		components.InternalPort, components.ConfigMountPath, components.AdminPropertiesFile)
}

// script rewrites a tool command line written for the plaintext stack.
func (k kafkaStack) script(s string) string {
	return strings.ReplaceAll(s, plainToolBootstrap, k.toolBootstrap())
}

// execErr runs a command in a broker container. Kafka's CLI tools get a small
// heap: they share the container's memory limit with the broker.
func (k kafkaStack) execErr(pod, script string) (string, error) {
	return kubectl("-n", components.Instance, "exec", pod, "-c", components.ContainerName, "--",
		"env", "KAFKA_HEAP_OPTS=-Xmx192m", "KAFKA_JVM_PERFORMANCE_OPTS="+components.ToolJVMOpts, "/bin/bash", "-c", k.script(script))
}

// exec is execErr that must succeed.
func (k kafkaStack) exec(t *testing.T, pod, script string) string {
	t.Helper()
	out, err := k.execErr(pod, script)
	require.NoError(t, err)
	return out
}

// client is who a platform service's loadgen pod is: with security on, the
// service in its own namespace with its Secret; otherwise the plaintext client.
func (k kafkaStack) client(name string) loadgenClient {
	if !k.secure {
		return plainClient
	}
	for _, s := range config.Services {
		if s.Name == name {
			return loadgenClient{namespace: s.Namespace, service: name}
		}
	}
	panic("no service " + name)
}

// grant adds ALLOW ACLs for a topic the program does not manage (the tests'
// own topics); a no-op on the plaintext stack.
func (k kafkaStack) grant(t *testing.T, principal, topic string, ops ...string) {
	t.Helper()
	if !k.secure {
		return
	}
	cmd := "/opt/kafka/bin/kafka-acls.sh " + plainToolBootstrap + " --add --allow-principal User:" + principal + " --topic " + topic
	for _, op := range ops {
		cmd += " --operation " + op
	}
	k.exec(t, "kafka-0", cmd)
}

// ownNamespaces makes a test independent of the tests before it (issue 24
// item 10): it requires that none of names exists when it starts (a leftover
// would hold another stack's pods or a volume formatted by another cluster),
// and when it ends, pass or fail, it deletes them with everything in them and
// the dashboard ConfigMap the stack puts in umbrella-infra.
func ownNamespaces(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		_, err := kubectl("get", "namespace", n)
		require.Error(t, err, "namespace %s is left by another test: this test must start without it", n)
	}
	t.Cleanup(func() {
		if err := removeNamespaces(names...); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// removeNamespaces deletes namespaces and waits until they are gone. Broker
// pods are removed at once (no controlled shutdown: the cluster goes), so a
// three-broker stack does not take its 120 s grace period to go.
func removeNamespaces(names ...string) error {
	args := append([]string{"delete", "namespace", "--ignore-not-found", "--wait=false"}, names...)
	if _, err := kubectl(args...); err != nil {
		return err
	}
	for _, n := range names {
		_, _ = kubectl("-n", n, "delete", "pods", "--all", "--grace-period=0", "--force", "--ignore-not-found", "--wait=false")
	}
	_, _ = kubectl("-n", config.DefaultDashboardNamespace, "delete", "configmap", components.DashboardName, "--ignore-not-found")
	deadline := time.Now().Add(3 * time.Minute)
	for _, n := range names {
		for {
			if _, err := kubectl("get", "namespace", n); err != nil && strings.Contains(err.Error(), "NotFound") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("namespace %s still there 3 min after its delete", n)
			}
			time.Sleep(time.Second)
		}
	}
	return nil
}

// scrapeMetrics reads gauges from a broker's JMX agent: name -> value for
// each name it answered with. An error means the agent did not answer.
func scrapeMetrics(ip string, timeout time.Duration, names ...string) (map[string]float64, error) {
	url := fmt.Sprintf("http://%s:%d/metrics", ip, components.MetricsPort)
	for i, n := range names {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		url += sep + "name[]=" + n
	}
	c := http.Client{Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	got := map[string]float64{}
	for _, l := range strings.Split(string(body), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 || strings.HasPrefix(l, "#") {
			continue
		}
		for _, n := range names {
			if f[0] == n {
				v, err := strconv.ParseFloat(f[1], 64)
				if err != nil {
					return nil, fmt.Errorf("%s: %q: %w", url, l, err)
				}
				got[n] = v
			}
		}
	}
	return got, nil
}

// metricValue reads one gauge from a broker's JMX agent. An agent that does
// not answer, or answers without the gauge, is an error, never a 0.
func metricValue(ip, name string) (int, error) {
	got, err := scrapeMetrics(ip, time.Second, name)
	if err != nil {
		return 0, err
	}
	v, ok := got[name]
	if !ok {
		return 0, fmt.Errorf("%s: the agent at %s does not report it", name, ip)
	}
	return int(v), nil
}

// sampler runs fn every period on its own goroutine until stop or the end of
// ctx, and is stopped in t.Cleanup, so a test that fails early does not leave it
// running (issue 24 item 5). fn must not call t's Fatal or require: it records
// what it sees, and the test goroutine asserts after stop.
type sampler struct {
	cancel   context.CancelFunc
	finished chan struct{}
}

func startSampler(t *testing.T, ctx context.Context, period time.Duration, fn func(now time.Time)) *sampler {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	s := &sampler{cancel: cancel, finished: make(chan struct{})}
	go func() {
		defer close(s.finished)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			fn(time.Now())
		}
	}()
	t.Cleanup(s.stop)
	return s
}

// stop ends the sampler and waits for its last round; it may be called again.
func (s *sampler) stop() {
	s.cancel()
	<-s.finished
}
