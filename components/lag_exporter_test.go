package components

import (
	"testing"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

func lagPod(t *testing.T, s *config.Spec) (*appsv1.DeploymentSpecArgs, *corev1.PodSpecArgs, *corev1.ContainerArgs) {
	t.Helper()
	d := BuildLagExporter(s)
	require.NotNil(t, d)
	spec := d.Spec.(*appsv1.DeploymentSpecArgs)
	pod := spec.Template.(*corev1.PodTemplateSpecArgs).Spec.(*corev1.PodSpecArgs)
	containers := pod.Containers.(corev1.ContainerArray)
	require.Len(t, containers, 1)
	return spec, pod, containers[0].(*corev1.ContainerArgs)
}

func TestLagExporterOffWithoutMonitoring(t *testing.T) {
	s := spec(t, 1, 1, func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{Enabled: ptr(false)} })
	assert.Nil(t, BuildLagExporter(s))
	assert.Nil(t, BuildLagExporterPodMonitor(s))
	assert.Nil(t, BuildLagExporterPolicy(s))
	noPolicy := spec(t, 1, 1, func(r *config.Raw) { r.NetworkPolicy = &config.RawNetworkPolicy{Enabled: ptr(false)} })
	assert.NotNil(t, BuildLagExporter(noPolicy))
	assert.Nil(t, BuildLagExporterPolicy(noPolicy), "no policies at all: none for the exporter either")
}

// The plaintext exporter: one non-root replica dialling the client Service on
// the client port, probed on /healthz, on the pinned default image.
func TestLagExporterDeployment(t *testing.T) {
	s := spec(t, 1, 1)
	d := BuildLagExporter(s)
	require.NotNil(t, d)
	md := d.Metadata.(*metav1.ObjectMetaArgs)
	assert.Equal(t, pulumi.String("kafka-lag-exporter"), md.Name)
	assert.Equal(t, pulumi.String("umbrella-streaming"), md.Namespace)

	dep, pod, c := lagPod(t, s)
	assert.Equal(t, pulumi.Int(1), dep.Replicas)
	selector := pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("kafka-lag-exporter"), "app.kubernetes.io/instance": pulumi.String("umbrella-streaming")}
	assert.Equal(t, selector, dep.Selector.(*metav1.LabelSelectorArgs).MatchLabels)
	labels := dep.Template.(*corev1.PodTemplateSpecArgs).Metadata.(*metav1.ObjectMetaArgs).Labels.(pulumi.StringMap)
	for k, v := range selector {
		assert.Equal(t, v, labels[k], "the Deployment's selector matches its pods (%s)", k)
	}
	assert.Equal(t, pulumi.String("lag-exporter"), labels["app.kubernetes.io/component"])
	// The broker StatefulSet, PDB, PodMonitor and policy select name=kafka:
	// the exporter's pods must never be one of them.
	assert.NotEqual(t, pulumi.String(SelectorLabels()[LabelName]), labels[LabelName])

	assert.Equal(t, pulumi.String("registry.umbrella.internal/umbrella/kafka-loadgen:1.6.0"), c.Image)
	assert.Equal(t, pulumi.String("Always"), c.ImagePullPolicy)
	assert.Equal(t, pulumi.StringArray{pulumi.String("/kafka-lag-exporter")}, c.Command)
	assert.Equal(t, pulumi.StringArray{
		pulumi.String("--bootstrap"), pulumi.String("kafka.umbrella-streaming.svc.cluster.local:9092"),
		pulumi.String("--listen"), pulumi.String(":9308"),
		pulumi.String("--interval"), pulumi.String("15s"),
	}, c.Args)
	assert.Nil(t, c.Env)
	assert.Equal(t, corev1.ContainerPortArray{&corev1.ContainerPortArgs{Name: pulumi.String("lag-metrics"), ContainerPort: pulumi.Int(9308), Protocol: pulumi.String("TCP")}}, c.Ports)
	// Ready while collections run on time; alive while it serves (a restart
	// cannot make an unreachable Kafka answer).
	get := c.ReadinessProbe.(*corev1.ProbeArgs).HttpGet.(*corev1.HTTPGetActionArgs)
	assert.Equal(t, pulumi.String("/healthz"), get.Path)
	assert.Equal(t, pulumi.String("lag-metrics"), get.Port)
	live := c.LivenessProbe.(*corev1.ProbeArgs)
	assert.Nil(t, live.HttpGet, "liveness must not follow Kafka's health")
	assert.Equal(t, pulumi.String("lag-metrics"), live.TcpSocket.(*corev1.TCPSocketActionArgs).Port)
	res := c.Resources.(*corev1.ResourceRequirementsArgs)
	assert.Equal(t, pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("32Mi"), "ephemeral-storage": pulumi.String("1Mi")}, res.Requests)
	assert.Equal(t, pulumi.StringMap{"cpu": pulumi.String("200m"), "memory": pulumi.String("128Mi"), "ephemeral-storage": pulumi.String("32Mi")}, res.Limits)
	sc := c.SecurityContext.(*corev1.SecurityContextArgs)
	assert.Equal(t, pulumi.Bool(true), sc.ReadOnlyRootFilesystem)
	assert.Equal(t, pulumi.Bool(false), sc.AllowPrivilegeEscalation)
	assert.Equal(t, pulumi.Bool(true), sc.RunAsNonRoot)
	assert.Equal(t, pulumi.StringArray{pulumi.String("ALL")}, sc.Capabilities.(*corev1.CapabilitiesArgs).Drop)
	psc := pod.SecurityContext.(*corev1.PodSecurityContextArgs)
	assert.Equal(t, pulumi.Int(65534), psc.RunAsUser)
	assert.Equal(t, pulumi.String("RuntimeDefault"), psc.SeccompProfile.(*corev1.SeccompProfileArgs).Type)
	assert.Equal(t, pulumi.Bool(false), pod.AutomountServiceAccountToken)
	assert.Nil(t, pod.Volumes, "plaintext: no credentials")
	assert.Nil(t, c.VolumeMounts)

	other := spec(t, 1, 1, func(r *config.Raw) {
		r.Monitoring = &config.RawMonitoring{LagExporterImage: ptr("registry.example/umbrella/kafka-loadgen:1.6.0")}
	})
	_, _, c = lagPod(t, other)
	assert.Equal(t, pulumi.String("registry.example/umbrella/kafka-loadgen:1.6.0"), c.Image)
}

// On a secure stack the exporter logs in as lag-exporter with the Secret
// ServiceAccess writes for it, mounted where --credentials reads it.
func TestLagExporterSecure(t *testing.T) {
	s := secureSpec(t, 3, 3)
	_, pod, c := lagPod(t, s)
	assert.Equal(t, pulumi.StringArray{
		pulumi.String("--bootstrap"), pulumi.String("kafka.umbrella-streaming.svc.cluster.local:9092"),
		pulumi.String("--listen"), pulumi.String(":9308"),
		pulumi.String("--interval"), pulumi.String("15s"),
		pulumi.String("--credentials"), pulumi.String("/etc/kafka-credentials"),
	}, c.Args)
	assert.Equal(t, corev1.VolumeMountArray{&corev1.VolumeMountArgs{
		Name: pulumi.String("kafka-credentials"), MountPath: pulumi.String("/etc/kafka-credentials"), ReadOnly: pulumi.Bool(true)}}, c.VolumeMounts)
	assert.Equal(t, corev1.VolumeArray{&corev1.VolumeArgs{Name: pulumi.String("kafka-credentials"), Secret: &corev1.SecretVolumeSourceArgs{
		SecretName: pulumi.String("kafka-lag-exporter"), DefaultMode: pulumi.Int(0o440)}}}, pod.Volumes)
	assert.Equal(t, pulumi.Int(65534), pod.SecurityContext.(*corev1.PodSecurityContextArgs).FsGroup, "0440 files readable through the group")

	// The Secret the pod mounts is the one ServiceAccess writes for the
	// lag-exporter service, in the exporter's namespace.
	var svc config.Service
	for _, x := range s.Services {
		if x.Name == LagExporterPrincipalName {
			svc = x
		}
	}
	require.Equal(t, "lag-exporter", svc.Name, "the lag exporter is one of the stack's services")
	secret := BuildServiceSecret(s, svc, pulumi.String("pw").ToStringOutput(), pulumi.String("ca").ToStringOutput()).Metadata.(*metav1.ObjectMetaArgs)
	assert.Equal(t, pulumi.String("kafka-lag-exporter"), secret.Name)
	assert.Equal(t, pulumi.String("umbrella-streaming"), secret.Namespace)
	acls, err := config.ServiceACLs([]config.Service{svc}, s.Topics)
	require.NoError(t, err)
	var names []string
	for _, a := range acls {
		names = append(names, ACLResourceName(a))
	}
	assert.Equal(t, []string{"acl-lag-exporter-describe-group-literal-*", "acl-lag-exporter-describe-topic-literal-*"}, names)
}

func TestLagExporterPodMonitorAndPolicy(t *testing.T) {
	s := spec(t, 1, 1)
	pm := BuildLagExporterPodMonitor(s)
	require.NotNil(t, pm)
	assert.Equal(t, pulumi.String("PodMonitor"), pm.Kind)
	assert.Equal(t, pulumi.String("kafka-lag-exporter"), pm.Metadata.(*metav1.ObjectMetaArgs).Name)
	assert.Equal(t, BuildPodMonitor(s).Metadata.(*metav1.ObjectMetaArgs).Labels, pm.Metadata.(*metav1.ObjectMetaArgs).Labels,
		"labelled like the brokers' PodMonitor, so the same Prometheus selects it")
	assert.JSONEq(t, `{
		"selector": {"matchLabels": {"app.kubernetes.io/instance": "umbrella-streaming", "app.kubernetes.io/name": "kafka-lag-exporter"}},
		"podMetricsEndpoints": [{"port": "lag-metrics", "path": "/metrics", "interval": "15s"}]
	}`, specOf(t, pm.OtherFields))

	np := BuildLagExporterPolicy(s)
	require.NotNil(t, np)
	assert.Equal(t, pulumi.String("kafka-lag-exporter"), np.Metadata.(*metav1.ObjectMetaArgs).Name)
	sp := np.Spec.(*networkingv1.NetworkPolicySpecArgs)
	assert.Equal(t, strMap(LagExporterSelectorLabels()), sp.PodSelector.(*metav1.LabelSelectorArgs).MatchLabels)
	assert.Equal(t, pulumi.StringArray{pulumi.String("Ingress")}, sp.PolicyTypes)
	assert.Equal(t, networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
		From: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
			MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("monitoring")}}}},
		Ports: networkingv1.NetworkPolicyPortArray{&networkingv1.NetworkPolicyPortArgs{Port: pulumi.Int(9308), Protocol: pulumi.String("TCP")}},
	}}, sp.Ingress)
}
