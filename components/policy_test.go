package components

import (
	"testing"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

func TestNetworkPolicyRules(t *testing.T) {
	s := spec(t, 3, 3)
	np := BuildNetworkPolicy(s)
	require.NotNil(t, np)
	rules := NetworkPolicyRules(s)
	require.Len(t, rules, 6)
	portsOf := func(i int) []int {
		var out []int
		for _, p := range rules[i].(*networkingv1.NetworkPolicyIngressRuleArgs).Ports.(networkingv1.NetworkPolicyPortArray) {
			out = append(out, int(p.(*networkingv1.NetworkPolicyPortArgs).Port.(pulumi.Int)))
		}
		return out
	}
	assert.Equal(t, []int{9092}, portsOf(0))
	assert.Equal(t, []int{9092}, portsOf(1))
	assert.Equal(t, []int{9092}, portsOf(2))
	assert.Equal(t, []int{9092, 9093}, portsOf(3), "brokers reach each other on both ports")
	assert.Equal(t, []int{9404}, portsOf(4))
	assert.Equal(t, []int{9092}, portsOf(5), "the lag exporter reads offsets on the client port only")
	peer := func(i int) *networkingv1.NetworkPolicyPeerArgs {
		return rules[i].(*networkingv1.NetworkPolicyIngressRuleArgs).From.(networkingv1.NetworkPolicyPeerArray)[0].(*networkingv1.NetworkPolicyPeerArgs)
	}
	assert.Equal(t, &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"umbrella-kafka-access": pulumi.String("true")}}, peer(0).NamespaceSelector)
	names := peer(1).NamespaceSelector.(*metav1.LabelSelectorArgs).MatchExpressions.(metav1.LabelSelectorRequirementArray)[0].(*metav1.LabelSelectorRequirementArgs)
	assert.Equal(t, pulumi.String("kubernetes.io/metadata.name"), names.Key)
	assert.Len(t, names.Values, 5)
	assert.Equal(t, &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("monitoring")}}, peer(4).NamespaceSelector)
	assert.Nil(t, peer(5).NamespaceSelector, "this namespace only")
	assert.Equal(t, &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
		"app.kubernetes.io/name": pulumi.String("kafka-lag-exporter"), "app.kubernetes.io/instance": pulumi.String("umbrella-streaming")}}, peer(5).PodSelector)

	off := spec(t, 1, 1, func(r *config.Raw) { r.NetworkPolicy = &config.RawNetworkPolicy{Enabled: ptr(false)} })
	assert.Nil(t, BuildNetworkPolicy(off))
}

func TestTopicJobPolicyDeniesIngressToTheJob(t *testing.T) {
	job := spec(t, 1, 1, func(r *config.Raw) { r.Topics = &config.RawTopics{Manager: ptr("job")} })
	jp := BuildTopicJobPolicy(job)
	require.NotNil(t, jp)
	sp := jp.Spec.(*networkingv1.NetworkPolicySpecArgs)
	assert.Nil(t, sp.Ingress, "no rule: all ingress denied")
	assert.Equal(t, pulumi.StringArray{pulumi.String("Ingress")}, sp.PolicyTypes)
	jobLabels := BuildTopicJob(job, pulumi.String("x")).Spec.(*batchv1.JobSpecArgs).Template.(*corev1.PodTemplateSpecArgs).Metadata.(*metav1.ObjectMetaArgs).Labels.(pulumi.StringMap)
	for k, v := range TopicJobSelector() {
		assert.Equal(t, pulumi.String(v), jobLabels[k], "the policy selects the Job's pods (%s)", k)
	}
	assert.Nil(t, BuildTopicJobPolicy(spec(t, 1, 1)), "provider manager: no Job, no policy")
}
