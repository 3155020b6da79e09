package components

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

func policyPorts(ports ...int) networkingv1.NetworkPolicyPortArray {
	out := networkingv1.NetworkPolicyPortArray{}
	for _, p := range ports {
		out = append(out, &networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(p), Protocol: pulumi.String("TCP")})
	}
	return out
}

// NetworkPolicyRules returns the broker ingress rules, in a fixed order:
//
//  1. client port from namespaces carrying the access label (the seed's rule);
//  2. client port from the allowed namespaces, by their immutable name label;
//  3. client port from pods in this namespace carrying the access label (the topic Job);
//  4. client and controller ports from the brokers themselves (replication and the
//     KRaft quorum: the seed forgot this, and 3 brokers cannot form a quorum without it);
//  5. metrics port from the monitoring namespace, when monitoring is on;
//  6. client port from the lag exporter's pods in this namespace, when
//     monitoring is on (it reads offsets there; on a secure stack it logs in
//     with SCRAM like a service, so it needs no other port).
//
// In secure mode the INTERNAL port (replication, and the Kafka admin provider's
// mTLS listener) joins rule 4 and the rules of labelled namespaces and pods
// (1 and 3: a deploy machine inside the cluster, topics.access direct), not
// rule 2: the services in the allowed namespaces only need the client port.
func NetworkPolicyRules(s *config.Spec) networkingv1.NetworkPolicyIngressRuleArray {
	labelled, brokers := []int{ClientPort}, []int{ClientPort, ControllerPort}
	if s.Secure() {
		labelled, brokers = append(labelled, InternalPort), append(brokers, InternalPort)
	}
	access := pulumi.StringMap{s.NetworkPolicy.AccessLabelKey: pulumi.String(s.NetworkPolicy.AccessLabelValue)}
	names := pulumi.StringArray{}
	for _, ns := range s.NetworkPolicy.AllowedNamespaces {
		names = append(names, pulumi.String(ns))
	}
	rules := networkingv1.NetworkPolicyIngressRuleArray{
		&networkingv1.NetworkPolicyIngressRuleArgs{
			From:  networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{MatchLabels: access}}},
			Ports: policyPorts(labelled...),
		},
		&networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
				MatchExpressions: metav1.LabelSelectorRequirementArray{&metav1.LabelSelectorRequirementArgs{
					Key: pulumi.String(NamespaceNameLabel), Operator: pulumi.String("In"), Values: names}}}}},
			Ports: policyPorts(ClientPort),
		},
		&networkingv1.NetworkPolicyIngressRuleArgs{
			From:  networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: access}}},
			Ports: policyPorts(labelled...),
		},
		&networkingv1.NetworkPolicyIngressRuleArgs{
			From:  networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: strMap(SelectorLabels())}}},
			Ports: policyPorts(brokers...),
		},
	}
	if s.Monitoring.Enabled {
		rules = append(rules, &networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
				MatchLabels: pulumi.StringMap{NamespaceNameLabel: pulumi.String(s.NetworkPolicy.MonitoringNamespace)}}}},
			Ports: policyPorts(MetricsPort),
		}, &networkingv1.NetworkPolicyIngressRuleArgs{
			From:  networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: strMap(LagExporterSelectorLabels())}}},
			Ports: policyPorts(ClientPort),
		})
	}
	return rules
}

// BuildNetworkPolicy returns the broker NetworkPolicy (seed networkpolicy.yaml), or
// nil when the stack turns it off.
func BuildNetworkPolicy(s *config.Spec) *networkingv1.NetworkPolicyArgs {
	if !s.NetworkPolicy.Enabled {
		return nil
	}
	return &networkingv1.NetworkPolicyArgs{
		Metadata: meta(s, NetworkPolicyName, "broker"),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: strMap(SelectorLabels())},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress:     NetworkPolicyRules(s),
		},
	}
}

// TopicJobSelector selects the topic Job's pods.
func TopicJobSelector() map[string]string {
	return map[string]string{LabelComponent: "topic-init", LabelPartOf: PartOf}
}

// BuildTopicJobPolicy returns a deny-all-ingress NetworkPolicy for the topic Job's
// pods (they only dial out to the brokers), or nil unless both the policy and the
// job topic manager are on.
func BuildTopicJobPolicy(s *config.Spec) *networkingv1.NetworkPolicyArgs {
	if !s.NetworkPolicy.Enabled || s.TopicManager != config.TopicManagerJob {
		return nil
	}
	return &networkingv1.NetworkPolicyArgs{
		Metadata: meta(s, TopicJobPolicyName, "topic-init"),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: strMap(TopicJobSelector())},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		},
	}
}
