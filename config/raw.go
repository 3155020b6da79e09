package config

// Raw is the stack configuration as written in Pulumi.<stack>.yaml: every field is
// optional (nil = use the default). Its JSON names are the config keys.
type Raw struct {
	ClusterID      *string             `json:"clusterId,omitempty"`
	Controllers    *int                `json:"controllers,omitempty"`
	Brokers        *int                `json:"brokers,omitempty"`
	Kafka          *RawKafka           `json:"kafka,omitempty"`
	Image          *RawImage           `json:"image,omitempty"`
	Storage        *RawStorage         `json:"storage,omitempty"`
	Resources      *RawResources       `json:"resources,omitempty"`
	Broker         *RawBroker          `json:"broker,omitempty"`
	TopicDefaults  *RawTopic           `json:"topicDefaults,omitempty"`
	TopicOverrides map[string]RawTopic `json:"topicOverrides,omitempty"`
	Topics         *RawTopics          `json:"topics,omitempty"`
	KafkaAdmin     *RawKafkaAdmin      `json:"kafkaAdmin,omitempty"`
	NetworkPolicy  *RawNetworkPolicy   `json:"networkPolicy,omitempty"`
	Monitoring     *RawMonitoring      `json:"monitoring,omitempty"`
	Availability   *RawAvailability    `json:"availability,omitempty"`
	Security       *RawSecurity        `json:"security,omitempty"`
	// Services changes config.Services for this stack, by service name: a
	// field set replaces that field of the service; a new name adds a service.
	Services       map[string]RawService `json:"services,omitempty"`
	GuardOverrides []string              `json:"guardOverrides,omitempty"`
}

// RawKafka is the `kafka` config object.
type RawKafka struct {
	Version         *string `json:"version,omitempty"`
	MetadataVersion *string `json:"metadataVersion,omitempty"`
}

// RawImage is the `image` config object.
type RawImage struct {
	Name       *string `json:"name,omitempty"`
	Build      *bool   `json:"build,omitempty"`
	BuildName  *string `json:"buildName,omitempty"`
	Push       *bool   `json:"push,omitempty"`
	PullPolicy *string `json:"pullPolicy,omitempty"`
}

// RawStorage is the `storage` config object.
type RawStorage struct {
	Size         *string `json:"size,omitempty"`
	StorageClass *string `json:"storageClass,omitempty"`
}

// RawResources is the `resources` config object.
type RawResources struct {
	Requests *RawCPUMemory `json:"requests,omitempty"`
	Limits   *RawCPUMemory `json:"limits,omitempty"`
}

// RawCPUMemory is a cpu/memory pair of quantities.
type RawCPUMemory struct {
	CPU    *string `json:"cpu,omitempty"`
	Memory *string `json:"memory,omitempty"`
}

// RawBroker is the `broker` config object.
type RawBroker struct {
	MinInsyncReplicas        *int    `json:"minInsyncReplicas,omitempty"`
	DefaultReplicationFactor *int    `json:"defaultReplicationFactor,omitempty"`
	NumPartitions            *int    `json:"numPartitions,omitempty"`
	RetentionHours           *int    `json:"retentionHours,omitempty"`
	RetentionBytes           *int64  `json:"retentionBytes,omitempty"`
	CompressionType          *string `json:"compressionType,omitempty"`
	AutoCreateTopics         *bool   `json:"autoCreateTopics,omitempty"`
	HeapOpts                 *string `json:"heapOpts,omitempty"`
}

// RawTopic is `topicDefaults` and each entry of `topicOverrides`.
type RawTopic struct {
	// Name renames the topic in Kafka (topicOverrides and topics.extra only): the
	// map key stays the topic's stable id, which names its Pulumi resource, so a
	// rename is one resource whose name input changes (see TopicSpec.ID).
	Name              *string           `json:"name,omitempty"`
	Partitions        *int              `json:"partitions,omitempty"`
	ReplicationFactor *int              `json:"replicationFactor,omitempty"`
	RetentionHours    *int              `json:"retentionHours,omitempty"`
	CleanupPolicy     *string           `json:"cleanupPolicy,omitempty"`
	Config            map[string]string `json:"config,omitempty"`
}

// RawTopics is the `topics` config object: who manages topics and how.
type RawTopics struct {
	Manager *string `json:"manager,omitempty"`
	// BootstrapServers is the older name of kafkaAdmin.bootstrapServers, still
	// read (RawKafkaAdmin).
	BootstrapServers []string `json:"bootstrapServers,omitempty"`
	Protect          *bool    `json:"protect,omitempty"`
	AllowReplace     *bool    `json:"allowReplace,omitempty"`
	// Access is the older name of kafkaAdmin.access, still read (RawKafkaAdmin).
	Access *string `json:"access,omitempty"`
	// Extra lists topics beyond the seven-topic inventory (name → settings).
	Extra map[string]RawTopic `json:"extra,omitempty"`
}

// RawKafkaAdmin is the `kafkaAdmin` config object: how the program's Kafka
// admin connection (topics, replica placement, quorum, service users and
// ACLs) reaches the brokers. Stacks written before it say the same under
// topics (topics.access, topics.bootstrapServers), which is still read; a
// stack may set both only to the same value.
type RawKafkaAdmin struct {
	// Access is how the admin connection reaches the brokers: direct or kubernetes.
	Access *string `json:"access,omitempty"`
	// BootstrapServers are the addresses it dials; empty: the in-cluster
	// client Service (the internal listener in secure mode).
	BootstrapServers []string `json:"bootstrapServers,omitempty"`
}

// RawNetworkPolicy is the `networkPolicy` config object.
type RawNetworkPolicy struct {
	Enabled             *bool    `json:"enabled,omitempty"`
	AllowedNamespaces   []string `json:"allowedNamespaces,omitempty"`
	AccessLabel         *string  `json:"accessLabel,omitempty"`
	MonitoringNamespace *string  `json:"monitoringNamespace,omitempty"`
}

// RawMonitoring is the `monitoring` config object.
type RawMonitoring struct {
	Enabled            *bool   `json:"enabled,omitempty"`
	AgentImage         *string `json:"agentImage,omitempty"`
	AgentJarPath       *string `json:"agentJarPath,omitempty"`
	DashboardNamespace *string `json:"dashboardNamespace,omitempty"`
	DiskFillPercent    *int    `json:"diskFillPercent,omitempty"`
	// AlertFor replaces every alert's own `for` duration (30s, 1m): tests on
	// real pods need alerts that fire within a minute.
	AlertFor *string `json:"alertFor,omitempty"`
	// LagExporterImage runs the lag exporter (/kafka-lag-exporter).
	LagExporterImage *string `json:"lagExporterImage,omitempty"`
}

// RawAvailability is the `availability` config object.
type RawAvailability struct {
	PodDisruptionBudget *bool   `json:"podDisruptionBudget,omitempty"`
	Spread              *string `json:"spread,omitempty"`
}

// RawSecurity is the `security` config object: how clients and brokers
// authenticate (issue 16).
type RawSecurity struct {
	Mode                    *string `json:"mode,omitempty"`
	CertificateRotation     *int    `json:"certificateRotation,omitempty"`
	CertificateValidityDays *int    `json:"certificateValidityDays,omitempty"`
}

// RawService is one entry of the `services` config object. A list set (even
// to []) replaces the service's list; nil keeps it.
type RawService struct {
	Namespace   *string  `json:"namespace,omitempty"`
	Produces    []string `json:"produces,omitempty"`
	Consumes    []string `json:"consumes,omitempty"`
	Group       *string  `json:"group,omitempty"`
	GroupPrefix *bool    `json:"groupPrefix,omitempty"`
}
