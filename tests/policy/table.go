package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/umbrella-platform/umbrella-streaming/components"
)

// This file is the one expected truth table of the broker NetworkPolicy: the
// matcher test (policy_test.go) evaluates the rendered policy against it, and
// the real node tier (tests/realnode) sends packets from probe pods and compares
// what got through with the same table, cell by cell.

// AccessLabel is the namespace and pod label the policy grants the client port to.
var AccessLabel = map[string]string{"umbrella-kafka-access": "true"}

// Peer is one traffic source of the table.
type Peer struct {
	Name            string
	Namespace       string            // "" for a source outside the cluster
	NamespaceLabels map[string]string // besides kubernetes.io/metadata.name
	PodLabels       map[string]string
	// Broker marks the broker pods themselves (labels: the StatefulSet's).
	Broker bool
	// IP is set for a source outside the cluster only.
	IP string
	// Allows are the broker ports the peer may open (the expected row). A
	// port the brokers do not listen on in a mode (INTERNAL in plaintext) is
	// not in Ports and so not in the table.
	Allows []int
}

// Want is the expected verdict: may the peer open port?
func (p Peer) Want(port int) bool {
	for _, a := range p.Allows {
		if a == port {
			return true
		}
	}
	return false
}

// Pod reports whether a probe pod can stand for the peer (a source outside the
// cluster cannot; the brokers are probed from a real broker pod).
func (p Peer) Pod() bool { return p.Namespace != "" && !p.Broker }

// Peers returns the table's sources for brokers in namespace brokerNS, in order,
// with their expected rows: labelled namespaces and labelled pods of the broker
// namespace reach the client port, and in secure mode the INTERNAL one (a deploy
// machine in the cluster); namespaces allowed by name only the client port;
// brokers reach each other on client, controller (the KRaft quorum: the seed's
// policy forgot this) and INTERNAL (replication); monitoring only the metrics
// port; the lag exporter's pods only the client port; nothing else gets
// anywhere.
func Peers(brokerNS string) []Peer {
	client, ctrl, internal, metrics := components.ClientPort, components.ControllerPort, components.InternalPort, components.MetricsPort
	return []Peer{
		{Name: "ns team-a labelled umbrella-kafka-access=true", Namespace: "team-a", NamespaceLabels: AccessLabel,
			PodLabels: map[string]string{"app": "client"}, Allows: []int{client, internal}},
		{Name: "ns team-b unlabelled", Namespace: "team-b", PodLabels: map[string]string{"app": "client"}},
		{Name: "ns umbrella-ingestion (allowed by name)", Namespace: "umbrella-ingestion",
			PodLabels: map[string]string{"app": "client"}, Allows: []int{client}},
		{Name: "broker pod in " + brokerNS, Namespace: brokerNS, Broker: true, Allows: []int{client, ctrl, internal}},
		{Name: "ns monitoring (prometheus)", Namespace: "monitoring",
			PodLabels: map[string]string{"app.kubernetes.io/name": "prometheus"}, Allows: []int{metrics}},
		{Name: "outside the cluster (203.0.113.7)", IP: "203.0.113.7"},
		{Name: "pod in " + brokerNS + ", no access label", Namespace: brokerNS, PodLabels: map[string]string{"app": "debug"}},
		{Name: "pod in " + brokerNS + " with access label", Namespace: brokerNS,
			PodLabels: map[string]string{"app": "topic-job", "umbrella-kafka-access": "true"}, Allows: []int{client, internal}},
		// The lag exporter (monitoring on) reads offsets on the client port:
		// SCRAM on a secure stack, so never the INTERNAL (mTLS) one.
		{Name: "lag exporter pod in " + brokerNS, Namespace: brokerNS,
			PodLabels: components.LagExporterSelectorLabels(), Allows: []int{client}},
	}
}

// Port is one broker port of the table.
type Port struct {
	Number int
	Name   string
}

// Ports are the ports the brokers listen on: the INTERNAL (mTLS, SASL) listener
// only in secure mode.
func Ports(secure bool) []Port {
	ports := []Port{
		{components.ClientPort, components.ClientPortName},
		{components.ControllerPort, components.ControllerPortName},
	}
	if secure {
		ports = append(ports, Port{components.InternalPort, components.InternalPortName})
	}
	return append(ports, Port{components.MetricsPort, components.MetricsPortName})
}

// Subject is the broker pod traffic goes to, as the matcher sees it.
type Subject struct {
	Namespace       string
	NamespaceLabels map[string]string // as the API server has them, incl. kubernetes.io/metadata.name
	PodLabels       map[string]string
}

// TrafficPeer is p as the matcher sees it. nsLabels(p.Namespace) gives the
// labels the namespace has (the real ones on a cluster; the peer's own plus the
// name label otherwise).
func (p Peer) TrafficPeer(broker Subject, nsLabels func(ns string) map[string]string) *matcher.TrafficPeer {
	switch {
	case p.Namespace == "":
		return &matcher.TrafficPeer{IP: p.IP}
	case p.Broker:
		return &matcher.TrafficPeer{IP: "10.0.0.2", Internal: &matcher.InternalPeer{
			Namespace: broker.Namespace, NamespaceLabels: broker.NamespaceLabels, PodLabels: broker.PodLabels}}
	default:
		return &matcher.TrafficPeer{IP: "10.0.0.10", Internal: &matcher.InternalPeer{
			Namespace: p.Namespace, NamespaceLabels: nsLabels(p.Namespace), PodLabels: p.PodLabels}}
	}
}

// DeclaredLabels are the labels a peer's namespace has where nothing else labels
// it: the peer's own plus the name label the API server adds to every namespace.
func (p Peer) DeclaredLabels(ns string) map[string]string {
	out := map[string]string{components.NamespaceNameLabel: ns}
	for k, v := range p.NamespaceLabels {
		out[k] = v
	}
	return out
}

// Allowed evaluates np (the broker NetworkPolicy) for traffic from src to the
// broker on port, as the Kubernetes conformance tests' matcher does.
func Allowed(np *networkingv1.NetworkPolicy, src *matcher.TrafficPeer, broker Subject, port Port) bool {
	dst := &matcher.TrafficPeer{IP: "10.0.0.2", Internal: &matcher.InternalPeer{
		Namespace: broker.Namespace, NamespaceLabels: broker.NamespaceLabels, PodLabels: broker.PodLabels}}
	policy := matcher.BuildNetworkPolicies(true, []*networkingv1.NetworkPolicy{np})
	return policy.IsTrafficAllowed(&matcher.Traffic{
		Source: src, Destination: dst, ResolvedPort: port.Number, ResolvedPortName: port.Name, Protocol: corev1.ProtocolTCP,
	}).IsAllowed()
}

// Table renders verdicts (row by peer name, one column per port) for a log.
func Table(title string, peers []Peer, ports []Port, verdict func(peer, port int) (string, bool)) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%-48s", title, "source")
	for _, p := range ports {
		fmt.Fprintf(&b, " %-8d", p.Number)
	}
	b.WriteString("\n")
	for i, peer := range peers {
		row := strings.Builder{}
		any := false
		for j := range ports {
			v, ok := verdict(i, j)
			if ok {
				any = true
			}
			fmt.Fprintf(&row, " %-8s", v)
		}
		if any {
			fmt.Fprintf(&b, "%-48s%s\n", peer.Name, row.String())
		}
	}
	return b.String()
}

// Verdict is "allow" or "deny".
func Verdict(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}

// SortedLabels renders labels as k=v,k=v in key order.
func SortedLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k+"="+m[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}
