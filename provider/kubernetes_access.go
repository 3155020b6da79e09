package provider

// Reaching the brokers through the Kubernetes API: the kubernetes option.
//
// With the option set, the provider's client dials through a
// kubetunnel.Dialer instead of the network: every broker address the cluster
// advertises becomes a port-forward stream to its pod (see package
// internal/kubetunnel). Nothing is dialed before the first Kafka request:
// Configure only validates, so previews need neither a cluster nor a broker.

import (
	"fmt"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/umbrella-platform/umbrella-streaming/internal/kubetunnel"
	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
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

// validate checks the option's names without contacting anything.
func (k *KubernetesAccess) validate() error {
	check := func(field, value, example string) error {
		if !rules.DNSLabel(value) {
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

// target is the option as the tunnel takes it.
func (k *KubernetesAccess) target() kubetunnel.Target {
	return kubetunnel.Target{Kubeconfig: deref(k.Kubeconfig), Context: deref(k.Context), Namespace: k.Namespace,
		StatefulSet: k.StatefulSet, HeadlessService: k.HeadlessService, BootstrapService: deref(k.BootstrapService)}
}

// inClusterHost reports whether host is a Kubernetes in-cluster DNS name
// (a Service or pod under .svc), which resolves only inside the cluster.
func inClusterHost(host string) bool { return rules.InClusterHost(host, "") }
