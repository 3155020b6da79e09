package components

import (
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// SelectorLabels select the broker pods. They never change for the life of the
// StatefulSet (its selector is immutable).
func SelectorLabels() map[string]string {
	return map[string]string{LabelName: AppName, LabelInstance: Instance}
}

// CommonLabels label every object the program creates.
func CommonLabels(s *config.Spec, component string) map[string]string {
	return map[string]string{
		LabelName:      AppName,
		LabelInstance:  Instance,
		LabelComponent: component,
		LabelPartOf:    PartOf,
		LabelManagedBy: ManagedBy,
		LabelStack:     s.Stack,
	}
}

func strMap(m map[string]string) pulumi.StringMap {
	out := pulumi.StringMap{}
	for k, v := range m {
		out[k] = pulumi.String(v)
	}
	return out
}

// emptyDir is a pod-local scratch volume capped at sizeLimit.
func emptyDir(name, sizeLimit string) *corev1.VolumeArgs {
	return &corev1.VolumeArgs{Name: pulumi.String(name), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String(sizeLimit)}}
}

func meta(s *config.Spec, name, component string) *metav1.ObjectMetaArgs {
	return &metav1.ObjectMetaArgs{
		Name:      pulumi.String(name),
		Namespace: pulumi.String(s.Namespace),
		Labels:    strMap(CommonLabels(s, component)),
	}
}

// ConfigMapData is the broker ConfigMap's content: one server.properties per node,
// the entrypoint script, the JMX exporter rules and the cluster id.
func ConfigMapData(s *config.Spec) map[string]string {
	net := KubernetesNetwork(s.Namespace)
	data := map[string]string{
		ClusterIDKey:  s.ClusterID,
		StartScript:   StartScriptText,
		ReadyScript:   ReadyScriptText,
		PreStopScript: PreStopScriptText(s),
		Log4jFile:     Log4jProperties,
		ExporterRules: ExporterRulesYAML,
	}
	for id := 0; id < s.Brokers; id++ {
		data[NodeFileName(id)] = NodeServerProperties(s, net, id)
		data[FormatFileName(id)] = FormatArgsText(s, id)
	}
	if s.Secure() {
		data[AdminPropertiesFile] = AdminPropertiesText()
	}
	return data
}

// BuildConfigMap returns the broker ConfigMap (seed configmap.yaml).
func BuildConfigMap(s *config.Spec) *corev1.ConfigMapArgs {
	return &corev1.ConfigMapArgs{
		Metadata: meta(s, ConfigMapName, "broker"),
		Data:     strMap(ConfigMapData(s)),
	}
}

// BuildHeadlessService returns kafka-headless (seed service-headless.yaml): stable
// per-pod DNS. It publishes not-ready pods because the quorum must form before any
// broker can become ready.
func BuildHeadlessService(s *config.Spec) *corev1.ServiceArgs {
	return &corev1.ServiceArgs{
		Metadata: meta(s, HeadlessServiceName, "broker"),
		Spec: &corev1.ServiceSpecArgs{
			ClusterIP:                pulumi.String("None"),
			PublishNotReadyAddresses: pulumi.Bool(true),
			Selector:                 strMap(SelectorLabels()),
			Ports: append(corev1.ServicePortArray{
				&corev1.ServicePortArgs{Name: pulumi.String(ClientPortName), Port: pulumi.Int(ClientPort), TargetPort: pulumi.String(ClientPortName), Protocol: pulumi.String("TCP")},
				&corev1.ServicePortArgs{Name: pulumi.String(ControllerPortName), Port: pulumi.Int(ControllerPort), TargetPort: pulumi.String(ControllerPortName), Protocol: pulumi.String("TCP")},
			}, headlessInternalPort(s)...),
		},
	}
}

// headlessInternalPort is the INTERNAL listener's port on the headless
// Service in secure mode: the Kafka admin provider's bootstrap address
// (InternalBootstrapAddress) resolves through it.
func headlessInternalPort(s *config.Spec) []corev1.ServicePortInput {
	if !s.Secure() {
		return nil
	}
	return []corev1.ServicePortInput{&corev1.ServicePortArgs{Name: pulumi.String(InternalPortName), Port: pulumi.Int(InternalPort),
		TargetPort: pulumi.String(InternalPortName), Protocol: pulumi.String("TCP")}}
}

// BuildClientService returns the kafka bootstrap Service (seed service.yaml). Only
// the client port: the controller port is internal to the quorum.
func BuildClientService(s *config.Spec) *corev1.ServiceArgs {
	return &corev1.ServiceArgs{
		Metadata: meta(s, ClientServiceName, "bootstrap"),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: strMap(SelectorLabels()),
			Ports: corev1.ServicePortArray{
				&corev1.ServicePortArgs{Name: pulumi.String(ClientPortName), Port: pulumi.Int(ClientPort), TargetPort: pulumi.String(ClientPortName), Protocol: pulumi.String("TCP")},
			},
		},
	}
}

// BuildPodDisruptionBudget returns a PDB allowing one broker down at a time, or nil
// when there is a single broker (a PDB would then block every node drain) or the
// stack turns it off.
func BuildPodDisruptionBudget(s *config.Spec) *policyv1.PodDisruptionBudgetArgs {
	if s.Brokers <= 1 || !s.Availability.PodDisruptionBudget {
		return nil
	}
	return &policyv1.PodDisruptionBudgetArgs{
		Metadata: meta(s, PDBName, "broker"),
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: strMap(SelectorLabels())},
		},
	}
}

// ContainerSecurityContext satisfies Pod Security "restricted" and more: no root,
// no privilege escalation, no capabilities, read-only root filesystem.
func ContainerSecurityContext() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		RunAsNonRoot:             pulumi.Bool(true),
		RunAsUser:                pulumi.Int(KafkaUID),
		RunAsGroup:               pulumi.Int(KafkaGID),
		AllowPrivilegeEscalation: pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// PodSecurityContext sets the numeric image user (the image names its user, which
// runAsNonRoot cannot verify) and fsGroup so the data volume is writable.
// OnRootMismatch: the kubelet re-owns the volume only when its top directory is not
// already the broker's group, instead of walking every segment file of a large log
// on every start.
func PodSecurityContext() *corev1.PodSecurityContextArgs {
	return &corev1.PodSecurityContextArgs{
		RunAsNonRoot:        pulumi.Bool(true),
		RunAsUser:           pulumi.Int(KafkaUID),
		RunAsGroup:          pulumi.Int(KafkaGID),
		FsGroup:             pulumi.Int(KafkaGID),
		FsGroupChangePolicy: pulumi.String("OnRootMismatch"),
		SeccompProfile:      &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// Probes: the startup probe lets a broker recover its logs for up to 10 minutes
// without being killed, and hands over as soon as the client port accepts
// connections (no fixed 30 s delay). Readiness runs ReadyScriptText: ready means the
// broker serves (state RUNNING), not that its port is bound. Liveness asks the JVM
// itself (the JMX exporter agent's /-/healthy, served from inside the broker's JVM)
// when monitoring is on, so a broker that is alive but briefly not serving clients
// is not killed; without the agent it falls back to the client port.
func Probes(s *config.Spec) (startup, readiness, liveness *corev1.ProbeArgs) {
	tcp := func() *corev1.TCPSocketActionArgs {
		return &corev1.TCPSocketActionArgs{Port: pulumi.String(ClientPortName)}
	}
	startup = &corev1.ProbeArgs{TcpSocket: tcp(), PeriodSeconds: pulumi.Int(2), FailureThreshold: pulumi.Int(300), TimeoutSeconds: pulumi.Int(2)}
	readiness = &corev1.ProbeArgs{
		Exec: &corev1.ExecActionArgs{Command: pulumi.StringArray{
			pulumi.String("/bin/bash"), pulumi.String(ConfigMountPath + "/" + ReadyScript)}},
		PeriodSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(3), TimeoutSeconds: pulumi.Int(4),
	}
	liveness = &corev1.ProbeArgs{TcpSocket: tcp(), PeriodSeconds: pulumi.Int(15), FailureThreshold: pulumi.Int(4), TimeoutSeconds: pulumi.Int(5)}
	if s.Monitoring.Enabled {
		liveness.TcpSocket = nil
		liveness.HttpGet = &corev1.HTTPGetActionArgs{Path: pulumi.String("/-/healthy"), Port: pulumi.String(MetricsPortName)}
	}
	return startup, readiness, liveness
}

// BrokerEnv is the broker container's environment, sorted by name. No KAFKA_*
// variable becomes a property here: the entrypoint starts Kafka from the generated
// file, so nothing (not even a Service link) can inject a setting.
func BrokerEnv(s *config.Spec) corev1.EnvVarArray {
	env := corev1.EnvVarArray{
		&corev1.EnvVarArgs{Name: pulumi.String("CLUSTER_ID"), ValueFrom: &corev1.EnvVarSourceArgs{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelectorArgs{Name: pulumi.String(ConfigMapName), Key: pulumi.String(ClusterIDKey)}}},
	}
	if s.Monitoring.Enabled {
		env = append(env, &corev1.EnvVarArgs{Name: pulumi.String("JMX_AGENT_JAR"), Value: pulumi.String(AgentMountPath + "/" + AgentJarName)})
	}
	env = append(env,
		&corev1.EnvVarArgs{Name: pulumi.String("KAFKA_HEAP_OPTS"), Value: pulumi.String(s.Broker.HeapOpts)},
		&corev1.EnvVarArgs{Name: pulumi.String("LOG_DIR"), Value: pulumi.String(KafkaLogsPath)},
	)
	if s.Monitoring.Enabled {
		env = append(env, &corev1.EnvVarArgs{Name: pulumi.String("METRICS_PORT"), Value: pulumi.String(strconv.Itoa(MetricsPort))})
	}
	return env
}

// BrokerPorts are the container ports; metrics only when monitoring is on.
func BrokerPorts(s *config.Spec) corev1.ContainerPortArray {
	ports := corev1.ContainerPortArray{
		&corev1.ContainerPortArgs{Name: pulumi.String(ClientPortName), ContainerPort: pulumi.Int(ClientPort), Protocol: pulumi.String("TCP")},
		&corev1.ContainerPortArgs{Name: pulumi.String(ControllerPortName), ContainerPort: pulumi.Int(ControllerPort), Protocol: pulumi.String("TCP")},
	}
	if s.Secure() {
		ports = append(ports, &corev1.ContainerPortArgs{Name: pulumi.String(InternalPortName), ContainerPort: pulumi.Int(InternalPort), Protocol: pulumi.String("TCP")})
	}
	if s.Monitoring.Enabled {
		ports = append(ports, &corev1.ContainerPortArgs{Name: pulumi.String(MetricsPortName), ContainerPort: pulumi.Int(MetricsPort), Protocol: pulumi.String("TCP")})
	}
	return ports
}

// TopologySpread spreads brokers across nodes: required (DoNotSchedule) or
// preferred (ScheduleAnyway); nothing for one broker or spread none.
func TopologySpread(s *config.Spec) corev1.TopologySpreadConstraintArray {
	if s.Brokers <= 1 || s.Availability.Spread == config.SpreadNone {
		return nil
	}
	when := "ScheduleAnyway"
	if s.Availability.Spread == config.SpreadRequired {
		when = "DoNotSchedule"
	}
	return corev1.TopologySpreadConstraintArray{
		&corev1.TopologySpreadConstraintArgs{
			MaxSkew:           pulumi.Int(1),
			TopologyKey:       pulumi.String("kubernetes.io/hostname"),
			WhenUnsatisfiable: pulumi.String(when),
			LabelSelector:     &metav1.LabelSelectorArgs{MatchLabels: strMap(SelectorLabels())},
		},
	}
}

// BuildStatefulSet returns the broker StatefulSet (seed statefulset.yaml + pvc.yaml).
// image is the reference the pods run (the built wrapper image, or Spec.Image.Name);
// tlsChecksum (secure mode only, else nil) is TLSChecksum of the brokers'
// certificate, so that re-issuing it rolls the brokers one at a time.
func BuildStatefulSet(s *config.Spec, image, tlsChecksum pulumi.StringInput) *appsv1.StatefulSetArgs {
	return &appsv1.StatefulSetArgs{
		Metadata: meta(s, StatefulSetName, "broker"),
		Spec: &appsv1.StatefulSetSpecArgs{
			Replicas:            pulumi.Int(s.Brokers),
			ServiceName:         pulumi.String(HeadlessServiceName),
			PodManagementPolicy: pulumi.String("Parallel"),
			Selector:            &metav1.LabelSelectorArgs{MatchLabels: strMap(SelectorLabels())},
			UpdateStrategy:      &appsv1.StatefulSetUpdateStrategyArgs{Type: pulumi.String("RollingUpdate")},
			// Keep every broker's data when the StatefulSet is scaled down or deleted:
			// a PVC is the only copy of an RF-1 topic.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
				WhenDeleted: pulumi.String("Retain"),
				WhenScaled:  pulumi.String("Retain"),
			},
			Template:             buildPodTemplate(s, image, tlsChecksum),
			VolumeClaimTemplates: volumeClaimTemplates(s),
		},
	}
}

// buildPodTemplate returns the broker pod template. It is split out of
// BuildStatefulSet so that the StatefulSet-level policy (replicas, retention,
// update strategy) reads apart from what runs inside each pod.
func buildPodTemplate(s *config.Spec, image, tlsChecksum pulumi.StringInput) *corev1.PodTemplateSpecArgs {
	mounts, volumes := brokerVolumes(s)
	return &corev1.PodTemplateSpecArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Labels:      strMap(CommonLabels(s, "broker")),
			Annotations: podAnnotations(s, tlsChecksum),
		},
		Spec: &corev1.PodSpecArgs{
			// A Service named kafka would otherwise inject KAFKA_PORT=tcp://… into
			// the environment of every pod in the namespace.
			EnableServiceLinks:            pulumi.Bool(false),
			AutomountServiceAccountToken:  pulumi.Bool(false),
			TerminationGracePeriodSeconds: pulumi.Int(TerminationGraceSeconds),
			SecurityContext:               PodSecurityContext(),
			TopologySpreadConstraints:     TopologySpread(s),
			InitContainers:                agentInitContainers(s),
			Containers:                    corev1.ContainerArray{brokerContainer(s, image, mounts)},
			Volumes:                       volumes,
		},
	}
}

// podAnnotations returns the pod-template checksums. They live on the pod
// template, not the StatefulSet, because a change there is what rolls the
// brokers: the configuration always, the TLS certificate in secure mode when
// its checksum is known.
func podAnnotations(s *config.Spec, tlsChecksum pulumi.StringInput) pulumi.StringMap {
	annotations := pulumi.StringMap{ConfigChecksumAnnotation: pulumi.String(ConfigChecksum(s))}
	if s.Secure() && tlsChecksum != nil {
		annotations[TLSChecksumAnnotation] = tlsChecksum
	}
	return annotations
}

// brokerVolumes returns the broker container's mounts and the pod's volumes
// together, since each optional feature (TLS, the monitoring agent) adds one
// of each and the two lists must stay in step. The data volume has no entry in
// volumes: it comes from volumeClaimTemplates.
func brokerVolumes(s *config.Spec) (corev1.VolumeMountArray, corev1.VolumeArray) {
	mounts := corev1.VolumeMountArray{
		&corev1.VolumeMountArgs{Name: pulumi.String(DataVolumeName), MountPath: pulumi.String(DataMountPath)},
		&corev1.VolumeMountArgs{Name: pulumi.String(ConfigVolumeName), MountPath: pulumi.String(ConfigMountPath), ReadOnly: pulumi.Bool(true)},
		&corev1.VolumeMountArgs{Name: pulumi.String(RunVolumeName), MountPath: pulumi.String(RunMountPath)},
		&corev1.VolumeMountArgs{Name: pulumi.String(KafkaLogsVolumeName), MountPath: pulumi.String(KafkaLogsPath)},
		&corev1.VolumeMountArgs{Name: pulumi.String(TmpVolumeName), MountPath: pulumi.String(TmpPath)},
	}
	volumes := corev1.VolumeArray{
		&corev1.VolumeArgs{Name: pulumi.String(ConfigVolumeName), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{
			Name: pulumi.String(ConfigMapName), DefaultMode: pulumi.Int(0o444)}},
		emptyDir(RunVolumeName, RunSizeLimit),
		emptyDir(KafkaLogsVolumeName, KafkaLogsSizeLimit),
		emptyDir(TmpVolumeName, TmpSizeLimit),
	}
	if s.Secure() {
		mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String(TLSVolumeName), MountPath: pulumi.String(TLSMountPath), ReadOnly: pulumi.Bool(true)})
		// 0440 and the pod's fsGroup: the broker's group reads the key, nobody else.
		volumes = append(volumes, &corev1.VolumeArgs{Name: pulumi.String(TLSVolumeName), Secret: &corev1.SecretVolumeSourceArgs{
			SecretName: pulumi.String(TLSSecretName), DefaultMode: pulumi.Int(0o440)}})
	}
	if s.Monitoring.Enabled {
		mounts = append(mounts, &corev1.VolumeMountArgs{Name: pulumi.String(AgentVolumeName), MountPath: pulumi.String(AgentMountPath), ReadOnly: pulumi.Bool(true)})
		volumes = append(volumes, emptyDir(AgentVolumeName, AgentSizeLimit))
	}
	return mounts, volumes
}

// agentInitContainers returns the init container that copies the monitoring
// agent's jar into its emptyDir, or nil when monitoring is off, so that the
// broker image itself never has to carry the agent.
func agentInitContainers(s *config.Spec) corev1.ContainerArray {
	if !s.Monitoring.Enabled {
		return nil
	}
	return corev1.ContainerArray{&corev1.ContainerArgs{
		Name:            pulumi.String(AgentVolumeName),
		Image:           pulumi.String(s.Monitoring.AgentImage),
		ImagePullPolicy: pulumi.String(s.Image.PullPolicy),
		// -f: when the pod sandbox is recreated the init container runs again over
		// the emptyDir that still holds the earlier, read-only copy.
		Command:         pulumi.StringArray{pulumi.String("cp"), pulumi.String("-f"), pulumi.String(s.Monitoring.AgentJarPath), pulumi.String(AgentMountPath + "/" + AgentJarName)},
		SecurityContext: ContainerSecurityContext(),
		VolumeMounts: corev1.VolumeMountArray{
			&corev1.VolumeMountArgs{Name: pulumi.String(AgentVolumeName), MountPath: pulumi.String(AgentMountPath)},
		},
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("16Mi"), "ephemeral-storage": pulumi.String("16Mi")},
			Limits:   pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("64Mi"), "ephemeral-storage": pulumi.String("64Mi")},
		},
	}}
}

// brokerContainer returns the Kafka broker container. Ports, environment and
// probes come from their own builders; mounts from brokerVolumes, so that the
// container and the pod's volumes are built from one list.
func brokerContainer(s *config.Spec, image pulumi.StringInput, mounts corev1.VolumeMountArray) *corev1.ContainerArgs {
	startup, readiness, liveness := Probes(s)
	return &corev1.ContainerArgs{
		Name:            pulumi.String(ContainerName),
		Image:           image,
		ImagePullPolicy: pulumi.String(s.Image.PullPolicy),
		Command:         pulumi.StringArray{pulumi.String("/bin/bash"), pulumi.String(ConfigMountPath + "/" + StartScript)},
		Ports:           BrokerPorts(s),
		Env:             BrokerEnv(s),
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String(s.Resources.RequestsCPU), "memory": pulumi.String(s.Resources.RequestsMemory), "ephemeral-storage": pulumi.String(EphemeralRequest)},
			Limits:   pulumi.StringMap{"cpu": pulumi.String(s.Resources.LimitsCPU), "memory": pulumi.String(s.Resources.LimitsMemory), "ephemeral-storage": pulumi.String(EphemeralLimit)},
		},
		StartupProbe:   startup,
		ReadinessProbe: readiness,
		LivenessProbe:  liveness,
		// A roll takes the next broker away only once every partition is in sync.
		Lifecycle: &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{Exec: &corev1.ExecActionArgs{
			Command: pulumi.StringArray{pulumi.String("/bin/bash"), pulumi.String(ConfigMountPath + "/" + PreStopScript)}}}},
		SecurityContext: ContainerSecurityContext(),
		VolumeMounts:    mounts,
	}
}

// volumeClaimTemplates returns the brokers' data PVC template (seed pvc.yaml),
// one claim per pod. StorageClassName stays unset when the spec names none, so
// that the cluster's default class applies.
func volumeClaimTemplates(s *config.Spec) corev1.PersistentVolumeClaimTypeArray {
	var storageClass pulumi.StringPtrInput
	if s.Storage.StorageClass != "" {
		storageClass = pulumi.String(s.Storage.StorageClass)
	}
	return corev1.PersistentVolumeClaimTypeArray{
		&corev1.PersistentVolumeClaimTypeArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(DataVolumeName), Labels: strMap(SelectorLabels())},
			Spec: &corev1.PersistentVolumeClaimSpecArgs{
				AccessModes:      pulumi.StringArray{pulumi.String("ReadWriteOnce")},
				StorageClassName: storageClass,
				Resources: &corev1.VolumeResourceRequirementsArgs{
					Requests: pulumi.StringMap{"storage": pulumi.String(s.Storage.Size)},
				},
			},
		},
	}
}

// BuildNamespace returns the umbrella-streaming Namespace with Pod Security
// "restricted" enforced, so a non-compliant pod is refused at admission.
func BuildNamespace(s *config.Spec) *corev1.NamespaceArgs {
	labels := CommonLabels(s, "namespace")
	delete(labels, LabelName)
	delete(labels, LabelInstance)
	labels[PodSecurityEnforce] = PodSecurityLevel
	labels[PodSecurityEnforceVersion] = "latest"
	return &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:   pulumi.String(s.Namespace),
			Labels: strMap(labels),
			// The namespace is retained on destroy (it holds the PVCs). Force lets the
			// next stack that deploys here take the retained object over instead of
			// failing on a server-side-apply field conflict with the old owner.
			Annotations: pulumi.StringMap{"pulumi.com/patchForce": pulumi.String("true")},
		},
	}
}
