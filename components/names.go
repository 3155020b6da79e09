// Package components holds the message bus: pure builders that turn a validated
// config.Spec into Kubernetes arguments and Kafka configuration text, and thin
// Pulumi ComponentResources that only register those builders' output as children.
//
// Where each seed manifest lives:
//
//	namespace.yaml         BuildNamespace        (kafka.go)
//	configmap.yaml         BuildConfigMap        (kafka.go), text from ServerProperties (properties.go)
//	                       and StartScriptText, ReadyScriptText, Log4jProperties (entrypoint.go)
//	statefulset.yaml       BuildStatefulSet      (kafka.go)
//	pvc.yaml               BuildStatefulSet      (kafka.go), as its volumeClaimTemplates
//	service-headless.yaml  BuildHeadlessService  (kafka.go)
//	service.yaml           BuildClientService    (kafka.go)
//	networkpolicy.yaml     BuildNetworkPolicy    (policy.go)
//	podmonitor.yaml        BuildPodMonitor       (monitoring.go)
//	job-create-topics.yaml BuildTopicJob         (topics.go)
//
// Beyond the seed, with monitoring: the lag exporter's Deployment, PodMonitor
// and NetworkPolicy (lag_exporter.go).
package components

import (
	"fmt"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// Names of Kubernetes objects. They are fixed (no Pulumi auto-naming suffix) because
// the broker DNS names, the bootstrap address and the PVC names are part of the
// platform's contract with every client.
const (
	StatefulSetName     = "kafka"
	HeadlessServiceName = "kafka-headless"
	ClientServiceName   = "kafka"
	ConfigMapName       = "kafka-config"
	NetworkPolicyName   = "kafka"
	TopicJobPolicyName  = "kafka-topic-init"
	PDBName             = "kafka"
	PodMonitorName      = "kafka"
	PrometheusRuleName  = "kafka-alerts"
	DashboardName       = "umbrella-streaming-kafka-dashboard"
	TopicScriptsName    = "kafka-topic-scripts"
	TopicJobName        = "kafka-create-topics"
	// DataVolumeName is the volumeClaimTemplate name; PVCs are data-kafka-N.
	DataVolumeName = "data"
	// ContainerName is the broker container's name.
	ContainerName = "kafka"
	// ClusterIDKey is the broker ConfigMap key holding the KRaft cluster id.
	ClusterIDKey = "cluster.id"
	// LagExporterName names the lag exporter's Deployment, PodMonitor and
	// NetworkPolicy, and is its pods' app.kubernetes.io/name (not AppName:
	// the broker selectors must never match it).
	LagExporterName = "kafka-lag-exporter"
	// LagExporterContainerName is its container's name.
	LagExporterContainerName = "lag-exporter"
)

// The lag exporter (cmd/kafka-lag-exporter, in the kafka-loadgen image).
const (
	// LagExporterBinary is the exporter's path in monitoring.lagExporterImage.
	LagExporterBinary = "/kafka-lag-exporter"
	// LagExporterPort serves /metrics and /healthz (the exporter's default
	// --listen :9308); the NetworkPolicy opens it to the monitoring namespace.
	LagExporterPort     = 9308
	LagExporterPortName = "lag-metrics"
	// LagExporterInterval is how often it reads the lag from the brokers, and
	// how often its PodMonitor scrapes it: a scrape between two collections
	// only repeats the last reading.
	LagExporterInterval = 15 * time.Second
	// LagExporterHealthPath answers 200 while collections run on time, 503
	// when they are stuck: liveness restarts a stuck exporter, readiness
	// takes it out while it is.
	LagExporterHealthPath = "/healthz"
	// LagExporterUID is the kafka-loadgen image's user (nobody:nogroup).
	LagExporterUID = 65534
	// LagExporterPrincipalName is its Kafka principal in secure mode.
	LagExporterPrincipalName = config.LagExporterServiceName
	// CredentialsVolumeName is the pod volume of a service's credentials
	// Secret, mounted read-only at CredentialsMountPath (where
	// ClientProperties points ssl.truststore.location).
	CredentialsVolumeName = "kafka-credentials"
	CredentialsMountPath  = "/etc/kafka-credentials"
)

// The lag exporter's requests and limits: one Go process holding a few
// thousand series at most, writing nothing (read-only root; ephemeral
// storage is the container's log only).
const (
	LagExporterRequestsCPU       = "10m"
	LagExporterRequestsMemory    = "32Mi"
	LagExporterRequestsEphemeral = "1Mi"
	LagExporterLimitsCPU         = "200m"
	LagExporterLimitsMemory      = "128Mi"
	LagExporterLimitsEphemeral   = "32Mi"
)

// Pod volume names (besides DataVolumeName).
const (
	ConfigVolumeName    = "config"     // the broker ConfigMap
	RunVolumeName       = "run"        // emptyDir: this node's server.properties
	KafkaLogsVolumeName = "kafka-logs" // emptyDir: LOG_DIR (stays empty: Kafka logs to stdout)
	TmpVolumeName       = "tmp"        // emptyDir: the JVM's temp files
	AgentVolumeName     = "jmx-agent"  // emptyDir: the JMX exporter agent jar
)

// Size limits of the emptyDirs: Kafka writes nothing there by design (logs go to
// stdout); the limits make a regression an eviction of one pod, not a full node.
const (
	KafkaLogsSizeLimit = "64Mi"
	TmpSizeLimit       = "256Mi"
	RunSizeLimit       = "1Mi"
	AgentSizeLimit     = "16Mi"
)

// BrokerStateRunning is Kafka's BrokerState value for RUNNING (the readiness probe
// waits for it).
const BrokerStateRunning = 3

// Ports. Port names are at most 15 characters (a Kubernetes limit).
const (
	// ClientPort serves producers and consumers: PLAINTEXT, which also carries
	// inter-broker replication, on a plaintext stack; SASL_SSL with
	// SCRAM-SHA-512 (CLIENT listener) on a secure one.
	ClientPort     = 9092
	ClientPortName = "client"
	// ControllerPort serves the KRaft quorum (CONTROLLER listener; TLS with
	// client certificates on a secure stack).
	ControllerPort     = 9093
	ControllerPortName = "controller"
	// InternalPort serves inter-broker replication and the deploy-time
	// provider on a secure stack (INTERNAL listener, TLS with client
	// certificates): brokers and the deployer prove who they are with a
	// certificate, services with a password on ClientPort.
	InternalPort     = 9094
	InternalPortName = "internal"
	// MetricsPort is where the JMX exporter agent serves Prometheus metrics.
	MetricsPort     = 9404
	MetricsPortName = "metrics"
)

// Listener names in server.properties. A plaintext stack runs ClientListener
// and ControllerListener; a secure one SecureClientListener,
// InternalListener and ControllerListener.
const (
	ClientListener       = "PLAINTEXT"
	ControllerListener   = "CONTROLLER"
	SecureClientListener = "CLIENT"
	InternalListener     = "INTERNAL"
)

// Security of a secure stack (config.SecurityScram).
const (
	// ScramMechanism is the only SASL mechanism the CLIENT listener enables.
	ScramMechanism = "SCRAM-SHA-512"
	// BrokerPrincipalName is the CN of the broker certificate, shared by every
	// broker: User:kafka-broker, a super user (replication, the quorum).
	BrokerPrincipalName = "kafka-broker"
	// DeployerPrincipalName is the CN of the Kafka admin provider's client
	// certificate: User:umbrella-deployer, a super user (topics, users, ACLs).
	DeployerPrincipalName = "umbrella-deployer"
	// PrincipalMappingRules turn a certificate subject whose first RDN is
	// CN=<name> into User:<name>; any other subject keeps its full DN, which
	// no ACL names.
	PrincipalMappingRules = "RULE:^CN=([^,]+).*$/$1/,DEFAULT"
	// StandardAuthorizer is KRaft's ACL authorizer.
	StandardAuthorizer = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
	// ScramLoginModule is the JAAS config of the SCRAM server side: the
	// credentials live in the cluster metadata, so the module needs no option.
	ScramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
	// TLSSecretName is the Kubernetes Secret holding the broker's PEM files.
	TLSSecretName = "kafka-tls"
	// TLSMountPath is where that Secret is mounted in the broker container.
	TLSMountPath = "/opt/umbrella/tls"
	// TLSKeystoreFile holds the broker's PKCS#8 key, then its certificate
	// chain (ssl.keystore.type=PEM).
	TLSKeystoreFile = "broker.pem"
	// TLSTruststoreFile holds the CA certificate (ssl.truststore.type=PEM).
	TLSTruststoreFile = "ca.pem"
	// AdminPropertiesFile is the ConfigMap key of AdminPropertiesText.
	AdminPropertiesFile = "admin.properties"
)

// Paths inside the broker container. The image's root filesystem is read-only; each
// of these writable paths is a volume.
const (
	DataMountPath   = "/var/kafka-logs"
	LogDirPath      = "/var/kafka-logs/data" // below the mount so lost+found is not a log dir
	ConfigMountPath = "/opt/umbrella/config" // ConfigMap: node-N.properties, start.sh, exporter rules
	RunMountPath    = "/opt/umbrella/run"    // emptyDir: the node's server.properties copy
	AgentMountPath  = "/opt/umbrella/jmx"    // emptyDir: JMX exporter agent jar from the init container
	KafkaLogsPath   = "/opt/kafka/logs"      // emptyDir: Kafka's log4j output
	TmpPath         = "/tmp"
	AgentJarName    = "jmx_prometheus_javaagent.jar"
	ExporterRules   = "jmx-exporter.yaml"
	StartScript     = "start.sh"
	ReadyScript     = "ready.sh"
	PreStopScript   = "pre-stop.sh"
	Log4jFile       = "log4j2.properties"
)

// Pod identity. Numeric, because runAsNonRoot cannot verify the image's named user
// (appuser); above 10000 so it never collides with a host user. The image's Kafka
// files are world-readable and every writable path is a volume (fsGroup), so the
// image's own uid is not needed.
const (
	KafkaUID = 10001
	KafkaGID = 10001
)

// Ephemeral storage of the broker container: Kafka's own log4j output and the JVM's
// temp files live in emptyDirs (the data is on the PVC).
const (
	EphemeralRequest = "256Mi"
	EphemeralLimit   = "2Gi"
)

// Label keys and values.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelStack     = "umbrella.io/stack"
	AppName        = "kafka"
	PartOf         = "umbrella"
	Instance       = "umbrella-streaming"
	ManagedBy      = "pulumi"
	// PodSecurityEnforce is the Pod Security admission label key.
	PodSecurityEnforce        = "pod-security.kubernetes.io/enforce"
	PodSecurityEnforceVersion = "pod-security.kubernetes.io/enforce-version"
	PodSecurityLevel          = "restricted"
	// NamespaceNameLabel is set by Kubernetes on every namespace (immutable).
	NamespaceNameLabel = "kubernetes.io/metadata.name"
	// GrafanaDashboardLabel makes the Grafana sidecar load a ConfigMap as a dashboard.
	GrafanaDashboardLabel = "grafana_dashboard"
	// ConfigChecksumAnnotation rolls the brokers when shared broker settings change.
	ConfigChecksumAnnotation = "umbrella.io/config-checksum"
)

// PodName is the name of the StatefulSet pod with this ordinal.
func PodName(ordinal int) string { return fmt.Sprintf("%s-%d", StatefulSetName, ordinal) }

// RollOrder is the order a change of the pod template restarts the broker
// pods in: a StatefulSet's rolling update goes from the highest ordinal down,
// one pod at a time.
func RollOrder(s *config.Spec) []string {
	out := make([]string, 0, s.Brokers)
	for i := s.Brokers - 1; i >= 0; i-- {
		out = append(out, PodName(i))
	}
	return out
}

// PodFQDN is a broker pod's stable DNS name through the headless Service.
func PodFQDN(namespace string, ordinal int) string {
	return fmt.Sprintf("%s.%s.%s.svc", PodName(ordinal), HeadlessServiceName, namespace)
}

// BootstrapAddress is the in-cluster address every client uses.
func BootstrapAddress(namespace string) string {
	return fmt.Sprintf("%s.%s.svc.cluster.local:%d", ClientServiceName, namespace, ClientPort)
}

// NodeFileName is the ConfigMap key holding node N's server.properties.
func NodeFileName(ordinal int) string { return fmt.Sprintf("node-%d.properties", ordinal) }

// FormatFileName is the ConfigMap key of pod ordinal's kafka-storage format
// flags (FormatArgsText); the entrypoint reads node-<ordinal>.format.
func FormatFileName(ordinal int) string { return fmt.Sprintf("node-%d.format", ordinal) }

// DataPVCName is the data volume claim of pod ordinal: the StatefulSet names it
// <volumeClaimTemplate>-<pod>, and keeps it when the pod goes.
func DataPVCName(ordinal int) string { return DataVolumeName + "-" + PodName(ordinal) }
