package components

import (
	"fmt"
	"testing"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

func TestStatefulSetShape(t *testing.T) {
	for _, n := range []int{1, 3} {
		s := spec(t, n, n)
		st := sts(t, s)
		assert.Equal(t, pulumi.Int(n), st.Replicas)
		assert.Equal(t, pulumi.String("Parallel"), st.PodManagementPolicy)
		assert.Equal(t, pulumi.String("kafka-headless"), st.ServiceName)
		assert.Equal(t, &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{WhenDeleted: pulumi.String("Retain"), WhenScaled: pulumi.String("Retain")}, st.PersistentVolumeClaimRetentionPolicy)
		assert.Equal(t, &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("kafka"), "app.kubernetes.io/instance": pulumi.String("umbrella-streaming")}}, st.Selector)
		pvc := st.VolumeClaimTemplates.(corev1.PersistentVolumeClaimTypeArray)[0].(*corev1.PersistentVolumeClaimTypeArgs)
		pvcSpec := pvc.Spec.(*corev1.PersistentVolumeClaimSpecArgs)
		assert.Equal(t, pulumi.StringArray{pulumi.String("ReadWriteOnce")}, pvcSpec.AccessModes)
		assert.Equal(t, pulumi.StringMap{"storage": pulumi.String("10Gi")}, pvcSpec.Resources.(*corev1.VolumeResourceRequirementsArgs).Requests)
		assert.Nil(t, pvcSpec.StorageClassName)
	}
	withClass := sts(t, spec(t, 1, 1, func(r *config.Raw) { r.Storage = &config.RawStorage{StorageClass: ptr("fast")} }))
	pvc := withClass.VolumeClaimTemplates.(corev1.PersistentVolumeClaimTypeArray)[0].(*corev1.PersistentVolumeClaimTypeArgs)
	assert.Equal(t, pulumi.String("fast"), pvc.Spec.(*corev1.PersistentVolumeClaimSpecArgs).StorageClassName)
}

func TestContainerEnvPortsProbesAndSecurity(t *testing.T) {
	s := spec(t, 1, 1)
	c := container(t, s)
	assert.Equal(t, pulumi.StringArray{pulumi.String("/bin/bash"), pulumi.String("/opt/umbrella/config/start.sh")}, c.Command)
	var envNames []string
	for _, e := range c.Env.(corev1.EnvVarArray) {
		envNames = append(envNames, string(e.(*corev1.EnvVarArgs).Name.(pulumi.String)))
	}
	assert.Equal(t, []string{"CLUSTER_ID", "JMX_AGENT_JAR", "KAFKA_HEAP_OPTS", "LOG_DIR", "METRICS_PORT"}, envNames)
	var ports []string
	for _, p := range c.Ports.(corev1.ContainerPortArray) {
		pa := p.(*corev1.ContainerPortArgs)
		ports = append(ports, fmt.Sprintf("%s:%d", pa.Name.(pulumi.String), pa.ContainerPort.(pulumi.Int)))
	}
	assert.Equal(t, []string{"client:9092", "controller:9093", "metrics:9404"}, ports)

	startup := c.StartupProbe.(*corev1.ProbeArgs)
	assert.Nil(t, startup.InitialDelaySeconds, "no fixed start delay: ready as soon as the port serves")
	assert.Equal(t, pulumi.String("client"), startup.TcpSocket.(*corev1.TCPSocketActionArgs).Port)
	assert.Equal(t, pulumi.Int(300), startup.FailureThreshold)
	assert.Nil(t, c.ReadinessProbe.(*corev1.ProbeArgs).InitialDelaySeconds)

	assert.Equal(t, ContainerSecurityContext(), c.SecurityContext)
	sc := c.SecurityContext.(*corev1.SecurityContextArgs)
	assert.Equal(t, pulumi.Bool(true), sc.ReadOnlyRootFilesystem)
	assert.Equal(t, pulumi.Bool(false), sc.AllowPrivilegeEscalation)
	assert.Equal(t, pulumi.Int(10001), sc.RunAsUser)
	assert.Equal(t, &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}}, sc.Capabilities)
	assert.Equal(t, &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")}, sc.SeccompProfile)

	ps := podSpec(t, s)
	assert.Equal(t, pulumi.Bool(false), ps.EnableServiceLinks)
	assert.Equal(t, pulumi.Int(10001), ps.SecurityContext.(*corev1.PodSecurityContextArgs).FsGroup)
	live := c.LivenessProbe.(*corev1.ProbeArgs)
	assert.Nil(t, live.TcpSocket)
	assert.Equal(t, &corev1.HTTPGetActionArgs{Path: pulumi.String("/-/healthy"), Port: pulumi.String("metrics")}, live.HttpGet, "liveness asks the JVM, not the client port")
	assert.Equal(t, pulumi.String("Always"), c.ImagePullPolicy)
	assert.Equal(t, pulumi.String("2Gi"), c.Resources.(*corev1.ResourceRequirementsArgs).Limits.(pulumi.StringMap)["ephemeral-storage"])
	var mounts []string
	for _, m := range c.VolumeMounts.(corev1.VolumeMountArray) {
		ma := m.(*corev1.VolumeMountArgs)
		mounts = append(mounts, fmt.Sprintf("%s=%s", ma.Name.(pulumi.String), ma.MountPath.(pulumi.String)))
	}
	assert.Equal(t, []string{"data=/var/kafka-logs", "config=/opt/umbrella/config", "run=/opt/umbrella/run", "kafka-logs=/opt/kafka/logs", "tmp=/tmp", "jmx-agent=/opt/umbrella/jmx"}, mounts)
	require.Len(t, ps.InitContainers.(corev1.ContainerArray), 1)
}

func TestPDBAndSpread(t *testing.T) {
	assert.Nil(t, BuildPodDisruptionBudget(spec(t, 1, 1)), "one broker: a PDB would block every drain")
	pdb := BuildPodDisruptionBudget(spec(t, 3, 3))
	require.NotNil(t, pdb)
	assert.Equal(t, pulumi.Int(1), pdb.Spec.(*policyv1.PodDisruptionBudgetSpecArgs).MaxUnavailable)
	assert.Nil(t, BuildPodDisruptionBudget(spec(t, 3, 3, func(r *config.Raw) {
		r.Availability = &config.RawAvailability{PodDisruptionBudget: ptr(false)}
	})))

	assert.Nil(t, TopologySpread(spec(t, 1, 1)))
	assert.Nil(t, TopologySpread(spec(t, 3, 3, func(r *config.Raw) { r.Availability = &config.RawAvailability{Spread: ptr("none")} })))
	req := TopologySpread(spec(t, 3, 3, func(r *config.Raw) { r.Availability = &config.RawAvailability{Spread: ptr("required")} }))
	require.Len(t, req, 1)
	tsc := req[0].(*corev1.TopologySpreadConstraintArgs)
	assert.Equal(t, pulumi.String("DoNotSchedule"), tsc.WhenUnsatisfiable)
	assert.Equal(t, pulumi.String("kubernetes.io/hostname"), tsc.TopologyKey)
	pref := TopologySpread(spec(t, 3, 3))
	assert.Equal(t, pulumi.String("ScheduleAnyway"), pref[0].(*corev1.TopologySpreadConstraintArgs).WhenUnsatisfiable)
}

func TestServices(t *testing.T) {
	s := spec(t, 1, 1)
	h := BuildHeadlessService(s).Spec.(*corev1.ServiceSpecArgs)
	assert.Equal(t, pulumi.String("None"), h.ClusterIP)
	assert.Equal(t, pulumi.Bool(true), h.PublishNotReadyAddresses)
	assert.Len(t, h.Ports.(corev1.ServicePortArray), 2)
	c := BuildClientService(s).Spec.(*corev1.ServiceSpecArgs)
	assert.Nil(t, c.ClusterIP)
	require.Len(t, c.Ports.(corev1.ServicePortArray), 1)
	assert.Equal(t, pulumi.Int(9092), c.Ports.(corev1.ServicePortArray)[0].(*corev1.ServicePortArgs).Port)
	assert.Equal(t, "kafka.umbrella-streaming.svc.cluster.local:9092", BootstrapAddress(s.Namespace))
}

func TestNamespaceEnforcesRestricted(t *testing.T) {
	ns := BuildNamespace(spec(t, 1, 1))
	m := ns.Metadata.(*metav1.ObjectMetaArgs)
	assert.Equal(t, pulumi.String("umbrella-streaming"), m.Name)
	assert.Equal(t, pulumi.String("restricted"), m.Labels.(pulumi.StringMap)["pod-security.kubernetes.io/enforce"])
}
