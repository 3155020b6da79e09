package provider

// Reaching the brokers through the Kubernetes API.
//
// A Kafka client bootstraps from one address, then dials every broker at the
// address the broker advertises, here kafka-N.kafka-headless.<ns>.svc:9092,
// which resolves only inside the cluster. With the kubernetes option set, the
// provider's client dials through kubeDialer instead of the network: each
// advertised address is mapped to its broker pod (the client Service's
// address to any running broker pod), and each dial becomes one port-forward
// stream pair (error + data) on an SPDY connection to the API server's
// pods/<pod>/portforward subresource, the way `kubectl port-forward` works,
// but without a local listening port. One SPDY connection per pod is shared
// by all of that pod's dials; it is re-opened when it breaks (the API server
// or the kubelet closed it) or when the pod was replaced (a new UID).
//
// Nothing is dialed before the first Kafka request: Configure only validates,
// so previews need neither a cluster nor a broker.

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-go-provider/infer"
)

var _ infer.Annotated = (*KubernetesAccess)(nil)

// KubernetesAccess is the provider's kubernetes option: where the brokers run
// and how to reach the cluster's API server.
type KubernetesAccess struct {
	// Kubeconfig is a kubeconfig file path or the kubeconfig itself; unset means
	// $KUBECONFIG, else ~/.kube/config.
	Kubeconfig *string `pulumi:"kubeconfig,optional" provider:"secret"`
	// Context is the kubeconfig context; unset means its current context.
	Context *string `pulumi:"context,optional"`
	// Namespace is the brokers' namespace.
	Namespace string `pulumi:"namespace"`
	// StatefulSet names the broker StatefulSet: its pods are <statefulSet>-N.
	StatefulSet string `pulumi:"statefulSet"`
	// HeadlessService is the governing Service the pods advertise under:
	// <statefulSet>-N.<headlessService>.<namespace>.svc.
	HeadlessService string `pulumi:"headlessService"`
	// BootstrapService is a client Service whose address leads to any running
	// broker pod (the headless Service's does too).
	BootstrapService *string `pulumi:"bootstrapService,optional"`
}

// Annotate documents the kubernetes option for the schema.
func (k *KubernetesAccess) Annotate(a infer.Annotator) {
	a.SetToken("index", "KubernetesAccess")
	a.Describe(k, "Reach the brokers through the Kubernetes API (pods/portforward) instead of the network, "+
		"for a deploy machine outside the cluster. Each broker address the cluster advertises "+
		"(<statefulSet>-N.<headlessService>.<namespace>.svc:port) is dialed as a port-forward stream to pod "+
		"<statefulSet>-N; the bootstrapService's address to any running broker pod. No local port is opened. "+
		"The credentials need get and list on pods and create on pods/portforward in the namespace.")
	a.Describe(&k.Kubeconfig, "Path to a kubeconfig file, or the kubeconfig itself. Unset: $KUBECONFIG, else "+
		"~/.kube/config (the same lookup as the Kubernetes provider and kubectl).")
	a.Describe(&k.Context, "Kubeconfig context to use. Unset: the kubeconfig's current context.")
	a.Describe(&k.Namespace, "Namespace of the broker pods, e.g. umbrella-streaming.")
	a.Describe(&k.StatefulSet, "Name of the broker StatefulSet; its pods are <statefulSet>-N, e.g. kafka.")
	a.Describe(&k.HeadlessService, "Name of the headless Service the brokers advertise under, e.g. kafka-headless.")
	a.Describe(&k.BootstrapService, "Name of a client Service (e.g. kafka) whose address in bootstrapServers "+
		"leads to any running broker pod.")
}

// dnsLabelRE is a Kubernetes DNS label (namespace and Service names; pod name prefixes).
var dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validate checks the option's names without contacting anything.
func (k *KubernetesAccess) validate() error {
	check := func(field, value, example string) error {
		if len(value) > 63 || !dnsLabelRE.MatchString(value) {
			return fmt.Errorf("umbrellakafka:kubernetes.%s = %q is not a Kubernetes name (a DNS label: lower-case "+
				"letters, digits and '-', at most 63 characters): set it to the name as `kubectl get` shows it, e.g. %s",
				field, value, example)
		}
		return nil
	}
	if err := check("namespace", k.Namespace, "umbrella-streaming"); err != nil {
		return err
	}
	if err := check("statefulSet", k.StatefulSet, "kafka"); err != nil {
		return err
	}
	if err := check("headlessService", k.HeadlessService, "kafka-headless"); err != nil {
		return err
	}
	if k.BootstrapService != nil {
		if err := check("bootstrapService", *k.BootstrapService, "kafka"); err != nil {
			return err
		}
	}
	return nil
}

// podRoute is where one broker address leads.
type podRoute struct {
	// Pod is the pod's name; "" means any running broker pod.
	Pod string
	// Port is the pod's port to forward to (the address's port).
	Port int
}

// route maps a broker address (host:port) to a pod. Accepted hosts, with or
// without a trailing cluster domain after "svc" (e.g. .svc.cluster.local):
//
//	<statefulSet>-N.<headlessService>.<namespace>.svc  pod <statefulSet>-N
//	<statefulSet>-N.<headlessService>                  pod <statefulSet>-N
//	<bootstrapService|headlessService>.<namespace>.svc any running broker pod
//	<bootstrapService|headlessService>                 any running broker pod
//
// Anything else maps to no pod, which is an error that names the forms.
func (k *KubernetesAccess) route(addr string) (podRoute, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return podRoute{}, fmt.Errorf("umbrellakafka: broker address %q is not host:port: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return podRoute{}, fmt.Errorf("umbrellakafka: broker address %q has no valid port", addr)
	}
	labels := strings.Split(strings.TrimSuffix(strings.ToLower(host), "."), ".")
	if i := slices.Index(labels, "svc"); i >= 0 {
		labels = labels[:i]
	}
	services := []string{k.HeadlessService}
	if k.BootstrapService != nil {
		services = append(services, *k.BootstrapService)
	}
	wrongNamespace := func(ns string) error {
		return fmt.Errorf("umbrellakafka: broker address %q is in namespace %q, but kubernetes.namespace is %q: "+
			"set kubernetes.namespace to the brokers' namespace", addr, ns, k.Namespace)
	}
	switch {
	case len(labels) == 3 && labels[1] == k.HeadlessService && k.isPod(labels[0]):
		if labels[2] != k.Namespace {
			return podRoute{}, wrongNamespace(labels[2])
		}
		return podRoute{Pod: labels[0], Port: port}, nil
	case len(labels) == 2 && labels[1] == k.HeadlessService && k.isPod(labels[0]):
		return podRoute{Pod: labels[0], Port: port}, nil
	case len(labels) == 2 && slices.Contains(services, labels[0]):
		if labels[1] != k.Namespace {
			return podRoute{}, wrongNamespace(labels[1])
		}
		return podRoute{Port: port}, nil
	case len(labels) == 1 && slices.Contains(services, labels[0]):
		return podRoute{Port: port}, nil
	}
	forms := fmt.Sprintf("%s-N.%s.%s.svc (one broker)", k.StatefulSet, k.HeadlessService, k.Namespace)
	for _, s := range services {
		forms += fmt.Sprintf(" or %s.%s.svc (any broker)", s, k.Namespace)
	}
	return podRoute{}, fmt.Errorf("umbrellakafka: broker address %q maps to no pod: with the kubernetes option, "+
		"every address the provider dials must be %s; fix bootstrapServers, or the brokers' advertised.listeners, "+
		"or kubernetes.statefulSet/headlessService/bootstrapService", addr, forms)
}

// isPod reports whether name is <statefulSet>-N.
func (k *KubernetesAccess) isPod(name string) bool {
	_, ok := k.ordinal(name)
	return ok
}

// ordinal returns N of a pod named <statefulSet>-N.
func (k *KubernetesAccess) ordinal(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, k.StatefulSet+"-")
	if !ok || rest == "" || strings.TrimLeft(rest, "0123456789") != "" || (len(rest) > 1 && rest[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// inClusterHost reports whether host is a Kubernetes in-cluster DNS name
// (a Service or pod under .svc), which resolves only inside the cluster.
func inClusterHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return strings.HasSuffix(host, ".svc") || strings.Contains(host, ".svc.") || strings.HasSuffix(host, ".cluster.local")
}
