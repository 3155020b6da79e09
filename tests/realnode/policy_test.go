//go:build realnode

package realnode

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
	"github.com/umbrella-platform/umbrella-streaming/tests/policy"
)

// The broker NetworkPolicy measured with packets: a probe pod per source of
// the expected table (tests/policy/table.go) opens TCP connections to a broker
// pod on every port the brokers listen on, through the real bridge, kubelet
// and kube-router's policy controller (scripts/node.sh). The measured table
// must equal the expected one cell by cell, and so must the conformance
// matcher evaluated on the policy object as the API server holds it.

// probeTimeout bounds one connection attempt: kube-router REJECTs, so a
// blocked port fails at once; a port that hangs this long counts as blocked.
const probeTimeout = 3 * time.Second

// allowWait is how long a cell the table allows may take to open: a new
// probe pod's address joins kube-router's sets on its next sync (the
// controller reacts to the pod's event).
const allowWait = 30 * time.Second

// policyProbe is one source of the table standing as a pod on the cluster.
type policyProbe struct {
	peer      policy.Peer
	namespace string
	pod       string // "" when a broker pod is the source
}

// policyProbes starts a probe pod for every peer a pod can stand for, in
// namespaces labelled as the table declares (created, and removed when the
// test ends, unless they exist already), plus the brokers' own row when there
// are two brokers to probe between. It returns the probes in table order.
func policyProbes(t *testing.T, brokers int) []policyProbe {
	t.Helper()
	var probes []policyProbe
	for i, p := range policy.Peers(ns) {
		switch {
		case p.Broker && brokers > 1:
			probes = append(probes, policyProbe{peer: p, namespace: ns})
		case p.Pod():
			ensurePeerNamespace(t, p)
			name := "policy-probe-" + strconv.Itoa(i)
			startProbePod(t, p.Namespace, name, p.PodLabels)
			probes = append(probes, policyProbe{peer: p, namespace: p.Namespace, pod: name})
		}
	}
	for _, pr := range probes {
		if pr.pod != "" {
			waitFor(t, 3*time.Minute, "probe pod "+pr.namespace+"/"+pr.pod+" Ready", func() bool { return podReady(pr.namespace, pr.pod) })
		}
	}
	return probes
}

// ensurePeerNamespace creates the peer's namespace with its labels, and
// deletes it when the test ends; one that exists (monitoring, the broker
// namespace, a service namespace of the prod stack) is left as it is.
func ensurePeerNamespace(t *testing.T, p policy.Peer) {
	t.Helper()
	if _, err := kubectl("get", "namespace", p.Namespace); err == nil {
		return
	}
	_, err := kubectl("create", "namespace", p.Namespace)
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := removeNamespaces(p.Namespace); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	for k, v := range p.NamespaceLabels {
		_, err := kubectl("label", "namespace", p.Namespace, k+"="+v)
		require.NoError(t, err)
	}
}

// startProbePod runs an idle pod of the broker image (bash's /dev/tcp dials)
// with labels, meeting the restricted Pod Security Standard the broker
// namespace enforces. It is deleted when the test ends.
func startProbePod(t *testing.T, namespace, name string, labels map[string]string) {
	t.Helper()
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": namespace, "labels": labels},
		"spec": map[string]any{
			"restartPolicy":                 "Never",
			"enableServiceLinks":            false,
			"terminationGracePeriodSeconds": 0,
			"securityContext": map[string]any{"runAsUser": 10001, "runAsGroup": 10001, "runAsNonRoot": true,
				"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"containers": []any{map[string]any{
				"name": "probe", "image": devImage(),
				"command": []any{"/bin/bash", "-c", "exec sleep 3600"},
				"securityContext": map[string]any{"allowPrivilegeEscalation": false,
					"capabilities": map[string]any{"drop": []any{"ALL"}}},
				"resources": map[string]any{"requests": map[string]any{"cpu": "10m", "memory": "16Mi"},
					"limits": map[string]any{"cpu": "200m", "memory": "64Mi"}},
			}},
		},
	}
	body, _ := json.Marshal(pod)
	_, err := kubectlIn(string(body), "apply", "-f", "-")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = kubectl("-n", namespace, "delete", "pod", name, "--ignore-not-found", "--grace-period=0", "--force", "--wait=false")
	})
}

// dialPorts opens a TCP connection from the probe (or from broker pod
// kafka-1 for the brokers' row) to ip on every port and reports which opened.
func (pr policyProbe) dialPorts(ip string, ports []int) (map[int]bool, error) {
	var script strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&script, "if timeout %d bash -c '</dev/tcp/%s/%d' 2>/dev/null; then echo %d open; else echo %d closed; fi\n",
			int(probeTimeout.Seconds()), ip, p, p, p)
	}
	var out string
	var err error
	if pr.pod == "" {
		out, err = kubectl("-n", ns, "exec", "kafka-1", "-c", components.ContainerName, "--", "/bin/bash", "-c", script.String())
	} else {
		out, err = kubectl("-n", pr.namespace, "exec", pr.pod, "--", "/bin/bash", "-c", script.String())
	}
	if err != nil {
		return nil, err
	}
	got := map[int]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		port, perr := strconv.Atoi(f[0])
		if perr == nil {
			got[port] = f[1] == "open"
		}
	}
	if len(got) != len(ports) {
		return nil, fmt.Errorf("probe answered for %d of %d ports:\n%s", len(got), len(ports), out)
	}
	return got, nil
}

// measure dials every port from the probe; a port the table allows may take
// allowWait to open (the probe's address reaching the controller's sets).
func (pr policyProbe) measure(t *testing.T, ip string, ports []policy.Port) map[int]bool {
	t.Helper()
	numbers := make([]int, len(ports))
	for i, p := range ports {
		numbers[i] = p.Number
	}
	var got map[int]bool
	deadline := time.Now().Add(allowWait)
	for {
		var err error
		got, err = pr.dialPorts(ip, numbers)
		require.NoError(t, err, "probe %s", pr.peer.Name)
		pending := false
		for _, p := range numbers {
			pending = pending || (pr.peer.Want(p) && !got[p])
		}
		if !pending || time.Now().After(deadline) {
			return got
		}
		time.Sleep(time.Second)
	}
}

// livePolicy is the broker NetworkPolicy as the API server holds it, and the
// broker pod it protects as the matcher sees it (live labels).
func livePolicy(t *testing.T) (*networkingv1.NetworkPolicy, policy.Subject) {
	t.Helper()
	out, err := kubectl("-n", ns, "get", "networkpolicy", components.NetworkPolicyName, "-o", "json")
	require.NoError(t, err)
	np := &networkingv1.NetworkPolicy{}
	require.NoError(t, json.Unmarshal([]byte(out), np))
	return np, policy.Subject{Namespace: ns, NamespaceLabels: namespaceLabels(t, ns), PodLabels: podLabels(t, ns, broker)}
}

func namespaceLabels(t *testing.T, name string) map[string]string {
	t.Helper()
	return stringMap(t, path(getJSON(t, "namespace", name), "metadata", "labels"))
}

func podLabels(t *testing.T, namespace, pod string) map[string]string {
	t.Helper()
	return stringMap(t, path(getJSON(t, "-n", namespace, "pod", pod), "metadata", "labels"))
}

func stringMap(t *testing.T, v any) map[string]string {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "labels %v", v)
	out := map[string]string{}
	for k, val := range m {
		out[k] = fmt.Sprint(val)
	}
	return out
}

// assertPolicyTable measures the whole table against broker pod kafka-0 and
// asserts every cell against the expected table and the matcher on the live
// policy; it returns the measured table for the log.
func assertPolicyTable(t *testing.T, k kafkaStack, brokers int) string {
	t.Helper()
	np, target := livePolicy(t)
	ports := policy.Ports(k.secure)
	probes := policyProbes(t, brokers)
	// Every source a pod can stand for is probed: a table measured from no
	// probe would assert nothing.
	want := 0
	for _, p := range policy.Peers(ns) {
		if p.Pod() || (p.Broker && brokers > 1) {
			want++
		}
	}
	require.NotZero(t, want)
	require.Len(t, probes, want, "one probe per source of the table")
	ip := brokerIP(t, broker)
	measured := map[string]map[int]bool{}
	for _, pr := range probes {
		measured[pr.peer.Name] = pr.measure(t, ip, ports)
	}
	peers := policy.Peers(ns)
	title := fmt.Sprintf("measured with packets: ingress to %s/%s (%s) from probe pods, kube-router enforcing", ns, broker, ip)
	return policy.Table(title, peers, ports, func(i, j int) (string, bool) {
		p, port := peers[i], ports[j]
		row, ok := measured[p.Name]
		if !ok {
			return "-", false
		}
		got := row[port.Number]
		matcher := policy.Allowed(np, p.TrafficPeer(target, func(n string) map[string]string { return namespaceLabels(t, n) }), target, port)
		assert.Equal(t, p.Want(port.Number), got, "packets: %s -> %d", p.Name, port.Number)
		assert.Equal(t, matcher, got, "packets vs the matcher on the live policy: %s -> %d", p.Name, port.Number)
		return policy.Verdict(got), true
	})
}

// brokerIP is a broker pod's address on the pod network.
func brokerIP(t *testing.T, pod string) string {
	t.Helper()
	ip, err := kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.podIP}")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ip, "198.18."), "pod IP %q outside 198.18.0.0/15", ip)
	return ip
}

// setPolicyEnforcement turns kube-router on or off on the real nodes.
func setPolicyEnforcement(t *testing.T, on bool) {
	t.Helper()
	arg := "off"
	if on {
		arg = "on"
	}
	_, err := harness.Script(repoRoot, "node.sh", "policy", arg)
	require.NoError(t, err)
}

// assertEnforcementMatters shows the table is the enforcer's doing: with
// kube-router stopped the unlabelled namespace's probe opens every port, and
// once it runs again none.
func assertEnforcementMatters(t *testing.T, k kafkaStack) {
	t.Helper()
	unlabelled := policy.Peers(ns)[1]
	require.Empty(t, unlabelled.Allows, "the table's second row is the unlabelled namespace")
	ensurePeerNamespace(t, unlabelled)
	startProbePod(t, unlabelled.Namespace, "policy-probe-off", unlabelled.PodLabels)
	waitFor(t, 3*time.Minute, "probe pod Ready", func() bool { return podReady(unlabelled.Namespace, "policy-probe-off") })
	probe := policyProbe{peer: unlabelled, namespace: unlabelled.Namespace, pod: "policy-probe-off"}
	ports := []int{}
	for _, p := range policy.Ports(k.secure) {
		ports = append(ports, p.Number)
	}
	ip := brokerIP(t, broker)

	setPolicyEnforcement(t, false)
	t.Cleanup(func() { _, _ = harness.Script(repoRoot, "node.sh", "policy", "on") })
	off, err := probe.dialPorts(ip, ports)
	require.NoError(t, err)
	setPolicyEnforcement(t, true)
	on, err := probe.dialPorts(ip, ports)
	require.NoError(t, err)
	for _, p := range ports {
		assert.True(t, off[p], "without enforcement the unlabelled namespace opens %d", p)
		assert.False(t, on[p], "with enforcement the unlabelled namespace is refused on %d", p)
	}
	t.Logf("FIGURE unlabelled namespace -> %s ports %v: enforcement off %v, on %v", broker, ports, off, on)
}
