// Package config turns a stack's Pulumi configuration into one typed, validated
// Spec before any resource is registered.
//
// The flow is deliberately one-way: Raw (what the user wrote, every field optional)
// → Defaults applied → Validate (all problems reported at once, each naming the
// field, the value, the limit and the fix) → Spec. Builders and components only
// ever see a Spec, so they never re-check input and never see a half-valid one.
// Before any of it, Load refuses keys and fields the program does not know
// (keys.go); after it, Warnings names the legal but risky settings of a Spec,
// which the program logs (warnings.go).
package config

import "time"

// Project is the Pulumi project name; config keys live under this namespace
// (umbrella-streaming:brokers, …).
const Project = "umbrella-streaming"

// Topic managers. Only one owns the platform topics at a time.
const (
	// TopicManagerProvider declares each topic as an umbrellakafka:index:Topic resource.
	TopicManagerProvider = "provider"
	// TopicManagerJob runs create-topics.sh in a Kubernetes Job inside the cluster, for
	// deploy machines that cannot reach the brokers.
	TopicManagerJob = "job"
)

// How the Kafka admin connection reaches the brokers (kafkaAdmin.access, or
// its alias topics.access).
const (
	// AdminAccessDirect dials the bootstrap servers and every advertised broker
	// address over the network: the deploy machine runs inside the cluster, or
	// reaches the brokers some other way.
	AdminAccessDirect = "direct"
	// AdminAccessKubernetes reaches every broker pod through the Kubernetes API
	// (pods/portforward), with the Kubernetes provider's kubeconfig: for deploy
	// machines outside the cluster.
	AdminAccessKubernetes = "kubernetes"
)

// Security modes (security.mode).
const (
	// SecurityNone keeps the plaintext listeners: anyone who reaches the
	// client port can do anything (dev).
	SecurityNone = "none"
	// SecurityScram runs authenticated, encrypted listeners: services log in
	// with SCRAM-SHA-512 over TLS, brokers and the deployer with certificates,
	// and the StandardAuthorizer grants each only its ACLs (prod).
	SecurityScram = "sasl-scram"
)

// Spread modes for placing broker pods on nodes.
const (
	SpreadNone      = "none"
	SpreadPreferred = "preferred"
	SpreadRequired  = "required"
)

// Spec is the validated, defaulted configuration of one stack. Every field is set.
type Spec struct {
	// Stack is the Pulumi stack name (dev, prod, …); used in labels and messages only.
	Stack string
	// Namespace is the Kubernetes namespace of the message bus.
	Namespace string
	// ClusterID is the KRaft cluster id (22 characters of base64url, 16 bytes). It is
	// kept in stack config so a reinstall formats storage with the same id.
	ClusterID string
	// Controllers is the size of the KRaft quorum: pods 0..Controllers-1 run
	// combined broker+controller. Odd; with the Kafka admin connection it can change
	// on a live cluster (a dynamic quorum, see Quorum).
	Controllers int
	// Quorum is how the quorum keeps its voters. Config says nothing about it:
	// a new stack starts dynamic, and the program sets it from what the
	// stack's last deployment recorded (program.ResolveQuorum).
	Quorum QuorumSpec
	// Brokers is the total number of broker pods; pods beyond the controllers run
	// broker-only, so Brokers can grow without touching the quorum.
	Brokers int
	// Kafka is the Kafka release the pods run and the cluster's metadata version.
	Kafka KafkaSpec
	// Image is the Kafka container image the StatefulSet runs.
	Image ImageSpec
	// Storage is each broker's data volume.
	Storage StorageSpec
	// Resources are the broker container's requests and limits.
	Resources ResourcesSpec
	// Broker holds cluster-wide broker settings written to server.properties.
	Broker BrokerSpec
	// Topics are the platform topics, resolved from the inventory, the stack's
	// topic defaults and its per-topic overrides, sorted by name.
	Topics []TopicSpec
	// TopicManager is TopicManagerProvider or TopicManagerJob.
	TopicManager string
	// KafkaAdmin is how the program's Kafka admin connection (the umbrellakafka
	// provider of components.KafkaAdmin) reaches the brokers, when TopicManager
	// is provider: it runs the topics, the replica placement, the quorum and the
	// service users and ACLs.
	KafkaAdmin KafkaAdminSpec
	// NetworkPolicy restricts who reaches the brokers.
	NetworkPolicy NetworkPolicySpec
	// Monitoring configures the JMX exporter, PodMonitor, alerts and dashboard.
	Monitoring MonitoringSpec
	// Availability configures disruption budget and pod spreading.
	Availability AvailabilitySpec
	// Security says how clients and brokers authenticate.
	Security SecuritySpec
	// Services are the platform services as Kafka principals: config.Services
	// merged with the stack's `services`, sorted by Name and validated
	// (ValidateServices). Set in both security modes; only a secure stack
	// creates their users and ACLs.
	Services []Service
	// GuardOverrides names guarded fields (see Guarded) whose change on a live stack
	// the operator has prepared for by hand, so the program lets it through.
	GuardOverrides []string
}

// ImageSpec says which image the brokers run and whether the program builds it.
type ImageSpec struct {
	// Name is the image reference the pods run when Build is false.
	Name string
	// Build builds infrastructure/kafka/Dockerfile with pulumi-docker and runs that image.
	Build bool
	// BuildName is the repository:tag the built image is given (and pushed to when Push).
	BuildName string
	// Push pushes the built image to its registry.
	Push bool
	// PullPolicy is the container imagePullPolicy (Always, IfNotPresent, Never).
	// Always by default: a tag is re-resolved and pull credentials re-checked on start.
	PullPolicy string
}

// StorageSpec is the per-broker PersistentVolumeClaim template.
type StorageSpec struct {
	// Size is a Kubernetes quantity such as 10Gi.
	Size string
	// StorageClass is the storage class name; empty means the cluster default.
	StorageClass string
}

// ResourcesSpec holds the container's CPU and memory requests and limits as
// Kubernetes quantities.
type ResourcesSpec struct {
	RequestsCPU    string
	RequestsMemory string
	LimitsCPU      string
	LimitsMemory   string
}

// BrokerSpec holds the cluster-wide settings of the seed's section 3/4 table.
type BrokerSpec struct {
	// MinInsyncReplicas is min.insync.replicas: with acks=all, a write needs this many
	// in-sync copies.
	MinInsyncReplicas int
	// DefaultReplicationFactor is default.replication.factor and the replication of
	// Kafka's internal topics (offsets, transactions).
	DefaultReplicationFactor int
	// NumPartitions is num.partitions for auto-created topics.
	NumPartitions int
	// RetentionHours is log.retention.hours; -1 keeps data forever.
	RetentionHours int
	// RetentionBytes is log.retention.bytes; -1 means no size limit.
	RetentionBytes int64
	// CompressionType is compression.type (producer keeps what producers send).
	CompressionType string
	// AutoCreateTopics is auto.create.topics.enable; off so a typo cannot create a topic.
	AutoCreateTopics bool
	// HeapOpts is KAFKA_HEAP_OPTS for the JVM.
	HeapOpts string
}

// TopicSpec is one resolved platform topic.
type TopicSpec struct {
	// ID is the topic's stable id: its inventory name or topics.extra key. It
	// names the topic's Pulumi resource and does not change when Name does.
	ID string
	// Name is the Kafka topic name: ID unless topicOverrides.<id>.name or
	// topics.extra.<id>.name renames it.
	Name string
	// Partitions is the partition count.
	Partitions int
	// ReplicationFactor is the number of copies of each partition.
	ReplicationFactor int
	// Config holds topic-level configs (retention.ms, cleanup.policy, …), only those set
	// explicitly, so Kafka's defaults stay Kafka's.
	Config map[string]string
	// Key is the message key producers use (documentation).
	Key string
	// Producers and Consumers document who uses the topic.
	Producers string
	Consumers string
}

// KafkaAdminSpec configures the umbrellakafka provider the program reaches
// Kafka through (components.KafkaAdmin). BootstrapServers and Access say how
// it connects (kafkaAdmin.*, or their aliases topics.bootstrapServers and
// topics.access); ProtectTopics and AllowReplace are the topic rails the
// provider enforces, and stay where a topic setting is written
// (topics.protect, topics.allowReplace).
type KafkaAdminSpec struct {
	// BootstrapServers are the addresses the deploy machine dials; empty means the
	// in-cluster client Service.
	BootstrapServers []string
	// ProtectTopics makes the provider refuse to delete topics (deleting loses data).
	ProtectTopics bool
	// AllowReplace lets a topic rename (delete + create) through; off in prod.
	AllowReplace bool
	// Access is AdminAccessDirect or AdminAccessKubernetes.
	Access string
}

// NetworkPolicySpec describes the broker NetworkPolicy.
type NetworkPolicySpec struct {
	// Enabled turns the NetworkPolicy on.
	Enabled bool
	// AllowedNamespaces are client namespaces that may reach the client port by name
	// (kubernetes.io/metadata.name), in addition to namespaces carrying AccessLabel.
	AllowedNamespaces []string
	// AccessLabelKey/AccessLabelValue is the seed's namespace label that grants access.
	AccessLabelKey   string
	AccessLabelValue string
	// MonitoringNamespace may reach the metrics port (Prometheus runs there).
	MonitoringNamespace string
}

// MonitoringSpec describes the JMX exporter, PodMonitor, alert rules and dashboard.
type MonitoringSpec struct {
	// Enabled turns on the exporter agent, PodMonitor, PrometheusRule and dashboard.
	Enabled bool
	// AgentImage is an image holding the JMX exporter java agent jar at AgentJarPath;
	// an init container copies it next to Kafka.
	AgentImage string
	// AgentJarPath is the jar's path inside AgentImage.
	AgentJarPath string
	// DashboardNamespace is where the Grafana dashboard ConfigMap goes.
	DashboardNamespace string
	// DiskFillPercent is the disk usage that raises the disk alert.
	DiskFillPercent int
	// AlertFor, when above 0, replaces every alert's own `for` duration
	// (monitoring.alertFor); 0 keeps each alert's own.
	AlertFor time.Duration
	// LagExporterImage is the image holding /kafka-lag-exporter (the
	// kafka-loadgen image scripts/images.sh builds); its Deployment runs
	// with monitoring.
	LagExporterImage string
}

// AvailabilitySpec describes disruption and placement policy.
type AvailabilitySpec struct {
	// PodDisruptionBudget adds a PDB (maxUnavailable 1) when there is more than one broker.
	PodDisruptionBudget bool
	// Spread is none, preferred or required: topology spread of brokers across nodes.
	Spread string
}

// SecuritySpec is the `security` section.
type SecuritySpec struct {
	// Mode is SecurityNone or SecurityScram.
	Mode string
	// CertificateRotation is a counter: raising it re-issues the broker and
	// deployer certificates (same CA), which rolls the brokers. At least 0.
	CertificateRotation int
	// CertificateValidityDays is how long the leaf certificates are valid.
	CertificateValidityDays int
}

// Secure reports whether the stack runs the authenticated, encrypted listeners.
func (s *Spec) Secure() bool { return s.Security.Mode == SecurityScram }

// ControllerIDs returns the node ids of the quorum voters, ascending.
func (s *Spec) ControllerIDs() []int {
	ids := make([]int, s.Controllers)
	for i := range ids {
		ids[i] = i
	}
	return ids
}

// IsController reports whether the pod with this ordinal votes in the quorum.
func (s *Spec) IsController(ordinal int) bool { return ordinal >= 0 && ordinal < s.Controllers }

// Topic returns the resolved topic with this name.
func (s *Spec) Topic(name string) (TopicSpec, bool) {
	for _, t := range s.Topics {
		if t.Name == name {
			return t, true
		}
	}
	return TopicSpec{}, false
}

// QuorumSpec is how the KRaft quorum keeps its voters.
type QuorumSpec struct {
	// Dynamic is a KIP-853 quorum (kraft.version 1): the voters live in the
	// metadata log, nodes find it through controller.quorum.bootstrap.servers,
	// and voters are added and removed live. False is the static quorum of
	// stacks deployed before it (controller.quorum.voters), kept until their
	// controllers change.
	Dynamic bool
	// BootstrapControllers is how many controllers the cluster's storage was
	// first formatted with as voters (--standalone or --initial-controllers);
	// every other node formats as an observer (--no-initial-controllers). It
	// never changes for a cluster: 0 for one migrated from a static quorum,
	// whose first nodes were formatted long ago.
	BootstrapControllers int
}

// NewClusterQuorum is the quorum of a stack that was never deployed: dynamic,
// its first controllers formatted as the voters.
func NewClusterQuorum(controllers int) QuorumSpec {
	return QuorumSpec{Dynamic: true, BootstrapControllers: controllers}
}
