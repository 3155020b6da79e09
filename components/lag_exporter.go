package components

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// The broker-side lag exporter (issue 25). A consumer that crashed exports no
// lag of its own, so with monitoring the program runs cmd/kafka-lag-exporter
// next to the brokers: one pod that reads every group's committed offsets and
// the partitions' end offsets from the client listener and serves them to
// Prometheus (MetricConsumerGroupLag, MetricConsumerGroupMembers), which the
// alert KafkaConsumerGroupLagGrowingWithoutMembers and the dashboard's lag
// panel read. On a secure stack it logs in as LagExporterPrincipalName, whose
// only ACLs are Describe on every group and topic (config.LagExporterService:
// ServiceAccess creates the user, ACLs and credentials Secret with the other
// services'); the Secret is mounted at CredentialsMountPath and passed with
// --credentials, so the exporter speaks SASL_SSL with the CA in it.

// LagExporterType is the component type token.
const LagExporterType = "umbrella:streaming:LagExporter"

// LagExporterSelectorLabels select the lag exporter's pods.
func LagExporterSelectorLabels() map[string]string {
	return map[string]string{LabelName: LagExporterName, LabelInstance: Instance}
}

// lagExporterLabels label the exporter's pods and its Deployment.
func lagExporterLabels(s *config.Spec) map[string]string {
	labels := CommonLabels(s, "lag-exporter")
	labels[LabelName] = LagExporterName
	return labels
}

// LagExporterFlags are the exporter's command line after LagExporterBinary:
// the client Service on the client port, the listen address and the
// collection interval, and on a secure stack its mounted credentials.
func LagExporterFlags(s *config.Spec) []string {
	args := []string{
		"--bootstrap", BootstrapAddress(s.Namespace),
		"--listen", fmt.Sprintf(":%d", LagExporterPort),
		"--interval", PromDuration(LagExporterInterval),
	}
	if s.Secure() {
		args = append(args, "--credentials", CredentialsMountPath)
	}
	return args
}

// BuildLagExporter returns the exporter's Deployment, or nil when monitoring
// is off: one replica (two would double every series), non-root with a
// read-only root filesystem and no service account token (it never talks to
// the Kubernetes API), probed on LagExporterHealthPath.
func BuildLagExporter(s *config.Spec) *appsv1.DeploymentArgs {
	if !s.Monitoring.Enabled {
		return nil
	}
	// Readiness is the collections running on time (503 while Kafka does not
	// answer); liveness only that the process serves: a restart cannot make
	// an unreachable Kafka answer, it would only lose the last reading.
	readiness := &corev1.ProbeArgs{
		HttpGet:          &corev1.HTTPGetActionArgs{Path: pulumi.String(LagExporterHealthPath), Port: pulumi.String(LagExporterPortName)},
		PeriodSeconds:    pulumi.Int(10),
		TimeoutSeconds:   pulumi.Int(2),
		FailureThreshold: pulumi.Int(1),
	}
	liveness := &corev1.ProbeArgs{
		TcpSocket:        &corev1.TCPSocketActionArgs{Port: pulumi.String(LagExporterPortName)},
		PeriodSeconds:    pulumi.Int(20),
		TimeoutSeconds:   pulumi.Int(2),
		FailureThreshold: pulumi.Int(3),
	}
	args := pulumi.StringArray{}
	for _, a := range LagExporterFlags(s) {
		args = append(args, pulumi.String(a))
	}
	container := &corev1.ContainerArgs{
		Name:            pulumi.String(LagExporterContainerName),
		Image:           pulumi.String(s.Monitoring.LagExporterImage),
		ImagePullPolicy: pulumi.String(s.Image.PullPolicy),
		Command:         pulumi.StringArray{pulumi.String(LagExporterBinary)},
		Args:            args,
		Ports: corev1.ContainerPortArray{&corev1.ContainerPortArgs{
			Name: pulumi.String(LagExporterPortName), ContainerPort: pulumi.Int(LagExporterPort), Protocol: pulumi.String("TCP")}},
		LivenessProbe:  liveness,
		ReadinessProbe: readiness,
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String(LagExporterRequestsCPU), "memory": pulumi.String(LagExporterRequestsMemory),
				"ephemeral-storage": pulumi.String(LagExporterRequestsEphemeral)},
			Limits: pulumi.StringMap{"cpu": pulumi.String(LagExporterLimitsCPU), "memory": pulumi.String(LagExporterLimitsMemory),
				"ephemeral-storage": pulumi.String(LagExporterLimitsEphemeral)},
		},
		SecurityContext: &corev1.SecurityContextArgs{
			AllowPrivilegeEscalation: pulumi.Bool(false),
			ReadOnlyRootFilesystem:   pulumi.Bool(true),
			RunAsNonRoot:             pulumi.Bool(true),
			Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		},
	}
	pod := &corev1.PodSpecArgs{
		AutomountServiceAccountToken: pulumi.Bool(false),
		EnableServiceLinks:           pulumi.Bool(false),
		SecurityContext: &corev1.PodSecurityContextArgs{
			RunAsNonRoot:   pulumi.Bool(true),
			RunAsUser:      pulumi.Int(LagExporterUID),
			RunAsGroup:     pulumi.Int(LagExporterUID),
			FsGroup:        pulumi.Int(LagExporterUID),
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Containers: corev1.ContainerArray{container},
	}
	if s.Secure() {
		container.VolumeMounts = corev1.VolumeMountArray{&corev1.VolumeMountArgs{
			Name: pulumi.String(CredentialsVolumeName), MountPath: pulumi.String(CredentialsMountPath), ReadOnly: pulumi.Bool(true)}}
		// 0440 with fsGroup: readable by the exporter's group only.
		pod.Volumes = corev1.VolumeArray{&corev1.VolumeArgs{Name: pulumi.String(CredentialsVolumeName), Secret: &corev1.SecretVolumeSourceArgs{
			SecretName: pulumi.String(ServiceSecretName(LagExporterPrincipalName)), DefaultMode: pulumi.Int(0o440)}}}
	}
	labels := strMap(lagExporterLabels(s))
	return &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(LagExporterName), Namespace: pulumi.String(s.Namespace), Labels: labels},
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: strMap(LagExporterSelectorLabels())},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec:     pod,
			},
		},
	}
}

// BuildLagExporterPodMonitor returns the exporter's PodMonitor (every
// LagExporterInterval, labelled like the brokers' so the same Prometheus
// selects it), or nil when monitoring is off.
func BuildLagExporterPodMonitor(s *config.Spec) *apiextensions.CustomResourceArgs {
	if !s.Monitoring.Enabled {
		return nil
	}
	return customResource(s, PodMonitorKind, LagExporterName, "monitoring",
		PodMonitorSpec(LagExporterSelectorLabels(), LagExporterPortName, PromDuration(LagExporterInterval)))
}

// BuildLagExporterPolicy returns the exporter's NetworkPolicy: ingress only
// from the monitoring namespace, only on its metrics port. Nil unless both
// monitoring and the network policy are on. Its own way to the brokers is
// the broker policy's lag exporter rule (NetworkPolicyRules).
func BuildLagExporterPolicy(s *config.Spec) *networkingv1.NetworkPolicyArgs {
	if !s.Monitoring.Enabled || !s.NetworkPolicy.Enabled {
		return nil
	}
	return &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(LagExporterName), Namespace: pulumi.String(s.Namespace), Labels: strMap(lagExporterLabels(s))},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: strMap(LagExporterSelectorLabels())},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{&networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{&networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
					MatchLabels: pulumi.StringMap{NamespaceNameLabel: pulumi.String(s.NetworkPolicy.MonitoringNamespace)}}}},
				Ports: policyPorts(LagExporterPort),
			}},
		},
	}
}

// LagExporterArgs are the inputs of a LagExporter.
type LagExporterArgs struct {
	Spec *config.Spec
	// After are resources the Deployment waits for: the brokers, and on a
	// secure stack the ServiceAccess that writes its credentials Secret and
	// grants its ACLs.
	After []pulumi.Resource
}

// LagExporter is the lag exporter's Deployment, PodMonitor and NetworkPolicy.
type LagExporter struct {
	pulumi.ResourceState
	// Deployment is the exporter's Deployment name (empty with monitoring off).
	Deployment pulumi.StringOutput `pulumi:"deployment"`
}

// NewLagExporter registers the exporter's objects, or nothing when
// monitoring is off.
func NewLagExporter(ctx *pulumi.Context, name string, args *LagExporterArgs, opts ...pulumi.ResourceOption) (*LagExporter, error) {
	s := args.Spec
	c := &LagExporter{}
	if err := ctx.RegisterComponentResource(LagExporterType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	deployment := ""
	if d := BuildLagExporter(s); d != nil {
		if _, err := appsv1.NewDeployment(ctx, name, d, parent, pulumi.DependsOn(args.After)); err != nil {
			return nil, fmt.Errorf("lag exporter %s: deployment: %w", name, err)
		}
		deployment = LagExporterName
	}
	if pm := BuildLagExporterPodMonitor(s); pm != nil {
		if _, err := apiextensions.NewCustomResource(ctx, name+"-podmonitor", pm, parent); err != nil {
			return nil, fmt.Errorf("lag exporter %s: podmonitor: %w", name, err)
		}
	}
	if np := BuildLagExporterPolicy(s); np != nil {
		if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-policy", np, parent); err != nil {
			return nil, fmt.Errorf("lag exporter %s: network policy: %w", name, err)
		}
	}
	c.Deployment = pulumi.String(deployment).ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"deployment": c.Deployment})
}
