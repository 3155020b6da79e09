package kubetunnel

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Target says where the brokers run and how to reach the cluster's API server.
// Its names are expected to be valid (the provider validates its kubernetes
// option before building one).
type Target struct {
	// Kubeconfig is a kubeconfig file path or the kubeconfig itself; "" means
	// $KUBECONFIG, else ~/.kube/config.
	Kubeconfig string
	// Context is the kubeconfig context; "" means its current context.
	Context string
	// Namespace is the brokers' namespace.
	Namespace string
	// StatefulSet names the broker StatefulSet: its pods are <StatefulSet>-N.
	StatefulSet string
	// HeadlessService is the governing Service the pods advertise under:
	// <StatefulSet>-N.<HeadlessService>.<Namespace>.svc.
	HeadlessService string
	// BootstrapService is a client Service whose address leads to any running
	// broker pod (the headless Service's does too); "" means none.
	BootstrapService string
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
func (k Target) route(addr string) (podRoute, error) {
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
	if k.BootstrapService != "" {
		services = append(services, k.BootstrapService)
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
func (k Target) isPod(name string) bool {
	_, ok := k.ordinal(name)
	return ok
}

// ordinal returns N of a pod named <statefulSet>-N.
func (k Target) ordinal(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, k.StatefulSet+"-")
	if !ok || rest == "" || strings.TrimLeft(rest, "0123456789") != "" || (len(rest) > 1 && rest[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}
