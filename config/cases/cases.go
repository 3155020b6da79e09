// Package cases is the table of bad stack configs: each case breaks one thing in
// an otherwise valid dev config and names the single problem line loading it
// must report. The config tests check each message; the program tests run each
// case through the program to check that a refused config registers nothing.
package cases

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// Case breaks one thing in ValidDev: Mut is a func(*config.Raw) (a typed
// change) or a StackText (stack-file text, for what only a file can hold).
type Case struct {
	Name string
	Mut  any
	Want string
}

// StackText sets stack-file values as written (key without the project prefix
// -> text): keys and fields the program does not know, numbers past a Go int.
type StackText map[string]string

// ValidDev is a complete, valid dev config: the base every case breaks once.
func ValidDev() config.Raw {
	return config.Raw{ClusterID: sp("5BlkQlAaBVX6rb9uzmmt7w"), Brokers: ip(1), Controllers: ip(1)}
}

func sp(s string) *string { return &s }
func ip(i int) *int       { return &i }
func i64p(i int64) *int64 { return &i }
func bp(b bool) *bool     { return &b }

func longName(n int) string { return strings.Repeat("t", n) }

// Bad is the validation table: each entry breaks one thing in an otherwise
// valid dev config and names the single problem line loading it must report.
var Bad = []Case{
	{"cluster id missing", func(r *config.Raw) { r.ClusterID = nil },
		"clusterId = \"\": missing: the KRaft cluster id must be fixed in stack config so a reinstall keeps its data; generate one with `kafka-storage.sh random-uuid` (22 base64url characters) and run `pulumi config set clusterId <id>`"},
	{"cluster id malformed", func(r *config.Raw) { r.ClusterID = sp("not-a-cluster-id") },
		"clusterId = \"not-a-cluster-id\": not a Kafka cluster id (22 characters of [A-Za-z0-9_-] encoding 16 bytes, not all zero); generate one with `kafka-storage.sh random-uuid`"},
	{"cluster id wrong length", func(r *config.Raw) { r.ClusterID = sp("5BlkQlAaBVX6rb9uzmmt7") },
		"clusterId = \"5BlkQlAaBVX6rb9uzmmt7\": not a Kafka cluster id (22 characters of [A-Za-z0-9_-] encoding 16 bytes, not all zero); generate one with `kafka-storage.sh random-uuid`"},
	{"cluster id all zero", func(r *config.Raw) { r.ClusterID = sp("AAAAAAAAAAAAAAAAAAAAAA") },
		"clusterId = \"AAAAAAAAAAAAAAAAAAAAAA\": not a Kafka cluster id (22 characters of [A-Za-z0-9_-] encoding 16 bytes, not all zero); generate one with `kafka-storage.sh random-uuid`"},
	{"cluster id image default", func(r *config.Raw) { r.ClusterID = sp(config.ImageDefaultClusterID) },
		"clusterId = \"5L6g3nShT-eMCtK--X86sw\": is the apache/kafka image's built-in default, shared by every cluster that forgot to set one; generate a fresh id with `kafka-storage.sh random-uuid`"},
	{"brokers zero", func(r *config.Raw) { r.Brokers = ip(0); r.Controllers = ip(1) },
		"brokers = 0: must be at least 1; set brokers to 1 (dev) or 3 (prod)"},
	{"controllers zero", func(r *config.Raw) { r.Controllers = ip(0) },
		"controllers = 0: must be at least 1 (the KRaft quorum needs a voter); set controllers to 1 (dev) or 3 (prod)"},
	{"controllers even", func(r *config.Raw) { r.Brokers = ip(3); r.Controllers = ip(2) },
		"controllers = 2: is even: a quorum of 2n voters survives no more failures than one of 2n-1 and splits votes more often; use 1 or 3"},
	{"controllers above brokers", func(r *config.Raw) { r.Brokers = ip(1); r.Controllers = ip(3) },
		"controllers = 3: exceeds brokers (1): controllers run on the first pods, combined with brokers; raise brokers to at least 3 or lower controllers"},
	{"controllers too many", func(r *config.Raw) { r.Brokers = ip(9); r.Controllers = ip(9) },
		"controllers = 9: exceeds 7: every metadata write waits for a majority of the quorum; use 3 or 5 controllers; add broker-only pods with `brokers` instead"},
	{"image name empty", func(r *config.Raw) { r.Image = &config.RawImage{Name: sp(" ")} },
		"image.name = \" \": is empty; set it to an image reference such as registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1"},
	{"image build without name", func(r *config.Raw) { r.Image = &config.RawImage{Build: bp(true), BuildName: sp("")} },
		"image.buildName = \"\": is empty while image.build = true; name the image to build, e.g. registry.example/umbrella/kafka:4.1.1-1"},
	{"image pull policy unknown", func(r *config.Raw) { r.Image = &config.RawImage{PullPolicy: sp("Sometimes")} },
		"image.pullPolicy = \"Sometimes\": unknown pull policy (allowed: Always, IfNotPresent, Never); use Always (re-checks registry credentials on every start)"},
	{"storage size malformed", func(r *config.Raw) { r.Storage = &config.RawStorage{Size: sp("10Gx")} },
		"storage.size = \"10Gx\": is not a Kubernetes quantity; write it like 10Gi or 500Gi"},
	{"storage size zero", func(r *config.Raw) { r.Storage = &config.RawStorage{Size: sp("0")} },
		"storage.size = \"0\": must be greater than 0; give each broker a volume, e.g. 10Gi"},
	{"storage class invalid", func(r *config.Raw) { r.Storage = &config.RawStorage{StorageClass: sp("Fast_SSD")} },
		"storage.storageClass = \"Fast_SSD\": is not a valid StorageClass name (DNS subdomain); use the name shown by `kubectl get storageclass`, or leave it empty for the default"},
	{"cpu request malformed", func(r *config.Raw) {
		r.Resources = &config.RawResources{Requests: &config.RawCPUMemory{CPU: sp("250mm")}}
	},
		"resources.requests.cpu = \"250mm\": is not a Kubernetes quantity; write it like 250m or 1"},
	{"memory limit malformed", func(r *config.Raw) {
		r.Resources = &config.RawResources{Limits: &config.RawCPUMemory{Memory: sp("2GB")}}
	},
		"resources.limits.memory = \"2GB\": is not a Kubernetes quantity; write it like 512Mi or 2Gi"},
	{"memory request above limit", func(r *config.Raw) {
		r.Resources = &config.RawResources{Requests: &config.RawCPUMemory{Memory: sp("4Gi")}}
	},
		"resources.requests.memory = \"4Gi\": exceeds resources.limits.memory (2Gi): Kubernetes refuses a memory request above its limit; lower the request or raise the limit"},
	{"min isr zero", func(r *config.Raw) { r.Broker = &config.RawBroker{MinInsyncReplicas: ip(0)} },
		"broker.minInsyncReplicas = 0: must be at least 1; set it to 1 (dev) or 2 (prod, with RF 3)"},
	{"min isr above rf", func(r *config.Raw) {
		r.Brokers = ip(3)
		r.Broker = &config.RawBroker{MinInsyncReplicas: ip(2)}
		r.TopicDefaults = &config.RawTopic{ReplicationFactor: ip(3)}
	},
		"broker.minInsyncReplicas = 2: exceeds broker.defaultReplicationFactor (1): every acks=all write to Kafka's internal topics would fail with NOT_ENOUGH_REPLICAS; lower it to at most 1 or raise the replication factor"},
	{"default rf above brokers", func(r *config.Raw) { r.Broker = &config.RawBroker{DefaultReplicationFactor: ip(3)} },
		"broker.defaultReplicationFactor = 3: exceeds brokers (1): Kafka cannot place more copies than brokers; lower it to 1 or raise brokers"},
	{"num partitions zero", func(r *config.Raw) { r.Broker = &config.RawBroker{NumPartitions: ip(0)} },
		"broker.numPartitions = 0: must be at least 1; set it to 1"},
	{"retention hours negative", func(r *config.Raw) { r.Broker = &config.RawBroker{RetentionHours: ip(-5)} },
		"broker.retentionHours = -5: must be positive, or -1 to keep data forever; use 168 (7 days)"},
	{"retention bytes negative", func(r *config.Raw) { r.Broker = &config.RawBroker{RetentionBytes: i64p(-2)} },
		"broker.retentionBytes = -2: must be positive, or -1 for no size limit; use -1 (time-based retention only)"},
	{"compression unknown", func(r *config.Raw) { r.Broker = &config.RawBroker{CompressionType: sp("brotli")} },
		"broker.compressionType = \"brotli\": unknown compression type (allowed: gzip, lz4, producer, snappy, uncompressed, zstd); use producer to keep what producers send (gzip)"},
	{"heap opts empty", func(r *config.Raw) { r.Broker = &config.RawBroker{HeapOpts: sp("")} },
		"broker.heapOpts = \"\": is empty; set JVM heap flags such as -Xms512m -Xmx1g"},
	{"topic partitions zero", func(r *config.Raw) { r.TopicDefaults = &config.RawTopic{Partitions: ip(0)} },
		"topicDefaults.partitions = 0: must be at least 1; set partitions to 1 or more"},
	{"topic rf zero", func(r *config.Raw) { r.TopicDefaults = &config.RawTopic{ReplicationFactor: ip(0)} },
		"topicDefaults.replicationFactor = 0: must be at least 1; set it to 1 (dev) or 3 (prod)"},
	{"topic rf above brokers", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {ReplicationFactor: ip(3)}}
	},
		"topics.alerts.replicationFactor = 3: exceeds brokers (1): Kafka cannot place more copies than brokers; lower it to 1 (topicDefaults or topicOverrides.alerts) or raise brokers"},
	{"topic rf below min isr", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"min.insync.replicas": "2"}}}
	},
		"topics.alerts.replicationFactor = 1: is below min.insync.replicas (2): every acks=all write would fail with NOT_ENOUGH_REPLICAS; raise the replication factor to at least 2 or lower min.insync.replicas"},
	{"topic min isr not a number", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"min.insync.replicas": "two"}}}
	},
		`topicOverrides.alerts.config.min.insync.replicas = "two": is not a whole number (Kafka's min.insync.replicas is an int (32-bit) from 1 to 2147483647); use a whole number from 1 to 2147483647`},
	{"topic retention negative", func(r *config.Raw) { r.TopicOverrides = map[string]config.RawTopic{"alerts": {RetentionHours: ip(-2)}} },
		"topicOverrides.alerts.retentionHours = -2: must be positive, or -1 to keep data forever; use 168 (7 days)"},
	{"topic cleanup policy unknown", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {CleanupPolicy: sp("compress")}}
	},
		"topicOverrides.alerts.cleanupPolicy = \"compress\": unknown cleanup policy (allowed: compact, compact,delete, delete, delete,compact); use delete or compact"},
	{"topic config key malformed", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"Retention_MS": "1"}}}
	},
		`topicOverrides.alerts.config.Retention_MS = "1": is not a topic config of Kafka 4.1, so creating the topic would fail with INVALID_CONFIG; rename it to retention.ms`},
	{"unknown topic override", func(r *config.Raw) { r.TopicOverrides = map[string]config.RawTopic{"alert": {Partitions: ip(2)}} },
		"topicOverrides.alert = \"alert\": names no topic in the inventory or topics.extra; fix the name (known: alerts, dead-letter, normalized-messages, normalized-messages-dlq, parsed-messages, processing-results, raw-messages) or add it under topics.extra"},
	{"extra topic bad characters", func(r *config.Raw) { r.Topics = &config.RawTopics{Extra: map[string]config.RawTopic{"audit log": {}}} },
		"topics.extra.audit log = \"audit log\": invalid topic name: has characters outside [a-zA-Z0-9._-]; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'"},
	{"extra topic dot", func(r *config.Raw) { r.Topics = &config.RawTopics{Extra: map[string]config.RawTopic{".": {}}} },
		"topics.extra.. = \".\": invalid topic name: is '.' or '..', which Kafka forbids; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'"},
	{"extra topic dot dot", func(r *config.Raw) { r.Topics = &config.RawTopics{Extra: map[string]config.RawTopic{"..": {}}} },
		"topics.extra... = \"..\": invalid topic name: is '.' or '..', which Kafka forbids; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'"},
	{"extra topic too long", func(r *config.Raw) {
		r.Topics = &config.RawTopics{Extra: map[string]config.RawTopic{longName(250): {}}}
	},
		"topics.extra.tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt = \"tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\": invalid topic name: is 250 characters long, over Kafka's limit of 249; use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'"},
	{"extra topic duplicates inventory", func(r *config.Raw) { r.Topics = &config.RawTopics{Extra: map[string]config.RawTopic{"alerts": {}}} },
		"topics.extra.alerts = \"alerts\": duplicates topic \"alerts\"; rename it or remove one of them"},
	{"extra topic collides on dot", func(r *config.Raw) {
		r.Topics = &config.RawTopics{Extra: map[string]config.RawTopic{"dead.letter": {}, "dead_letter": {}}}
	},
		"topics.extra.dead_letter = \"dead_letter\": collides with topic \"dead.letter\" ('.' and '_' are the same to Kafka); rename it or remove one of them"},
	{"topic manager unknown", func(r *config.Raw) { r.Topics = &config.RawTopics{Manager: sp("operator")} },
		"topics.manager = \"operator\": unknown topic manager (allowed: provider, job); use provider (topics as Pulumi resources) or job (create-topics.sh inside the cluster)"},
	{"bootstrap without port", func(r *config.Raw) { r.Topics = &config.RawTopics{BootstrapServers: []string{"kafka"}} },
		"topics.bootstrapServers[0] = \"kafka\": is not host:port; write it like kafka.example:9092"},
	{"bootstrap bad port", func(r *config.Raw) { r.Topics = &config.RawTopics{BootstrapServers: []string{"kafka:99999"}} },
		"topics.bootstrapServers[0] = \"kafka:99999\": has a port outside 1..65535; write it like kafka.example:9092"},
	{"policy on with no namespaces", StackText{"networkPolicy": `{"allowedNamespaces":[]}`}, // JSON drops an empty list
		"networkPolicy.allowedNamespaces = []: is empty while networkPolicy.enabled = true: no client namespace is named; list the client namespaces (e.g. umbrella-connectors) or set networkPolicy.enabled = false"},
	{"policy namespace invalid", func(r *config.Raw) {
		r.NetworkPolicy = &config.RawNetworkPolicy{AllowedNamespaces: []string{"Umbrella_UI"}}
	},
		"networkPolicy.allowedNamespaces[0] = \"Umbrella_UI\": is not a namespace name (DNS label, at most 63 characters); use lower-case letters, digits and '-'"},
	{"policy namespace twice", func(r *config.Raw) {
		r.NetworkPolicy = &config.RawNetworkPolicy{AllowedNamespaces: []string{"umbrella-ui", "umbrella-ui"}}
	},
		"networkPolicy.allowedNamespaces[1] = \"umbrella-ui\": is listed twice; remove the duplicate"},
	{"access label malformed", func(r *config.Raw) {
		r.NetworkPolicy = &config.RawNetworkPolicy{AccessLabel: sp("umbrella-kafka-access")}
	},
		"networkPolicy.accessLabel = \"umbrella-kafka-access\": is not a key=value Kubernetes label; use umbrella-kafka-access=true"},
	{"monitoring namespace invalid", func(r *config.Raw) { r.NetworkPolicy = &config.RawNetworkPolicy{MonitoringNamespace: sp("Monitoring")} },
		"networkPolicy.monitoringNamespace = \"Monitoring\": is not a namespace name; name the namespace Prometheus runs in, e.g. monitoring"},
	{"disk fill out of range", func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{DiskFillPercent: ip(100)} },
		"monitoring.diskFillPercent = 100: must be between 1 and 99; use 80"},
	{"alert for in days", func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{AlertFor: sp("1d")} },
		"monitoring.alertFor = \"1d\": is not a duration of hours, minutes and seconds (Prometheus reads no other units the same way as Go); write it like 30s, 1m or 1h30m, or leave it unset to keep each alert's own duration"},
	{"alert for zero", func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{AlertFor: sp("0s")} },
		"monitoring.alertFor = \"0s\": must be between 1s and 24h; write it like 30s, 1m or 1h30m, or leave it unset to keep each alert's own duration"},
	{"dashboard namespace invalid", func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{DashboardNamespace: sp("umbrella infra")} },
		"monitoring.dashboardNamespace = \"umbrella infra\": is not a namespace name; use umbrella-infra"},
	{"agent image empty", func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{AgentImage: sp("")} },
		"monitoring.agentImage = \"\": is empty while monitoring.enabled = true; leave it unset to copy the agent from the broker image, or name an image that holds the JMX exporter agent jar, e.g. registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1"},
	{"lag exporter image empty", func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{LagExporterImage: sp(" ")} },
		"monitoring.lagExporterImage = \" \": is empty while monitoring.enabled = true; leave it unset for registry.umbrella.internal/umbrella/kafka-loadgen:1.6.0, or name your registry's copy of the kafka-loadgen image (it carries /kafka-lag-exporter)"},
	{"lag exporter image latest", func(r *config.Raw) {
		r.Monitoring = &config.RawMonitoring{LagExporterImage: sp("registry.example/umbrella/kafka-loadgen:latest")}
	},
		`monitoring.lagExporterImage = "registry.example/umbrella/kafka-loadgen:latest": has the tag latest, which every push moves: each pod start pulls whatever it names then, so brokers drift apart and a change behind the tag is neither shown by preview nor undone by rolling the stack back; pin a version tag such as registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1, or a digest (@sha256:…)`},
	{"lag exporter principal taken", func(r *config.Raw) {
		r.Services = map[string]config.RawService{"lag-exporter": {Namespace: sp("umbrella-ui"), Produces: []string{"alerts"}}}
	},
		`services.lag-exporter = "lag-exporter": is the lag exporter's principal, which the program manages with monitoring (Describe on every group and topic, nothing else); give your service another name`},
	{"agent jar relative", func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{AgentJarPath: sp("agent.jar")} },
		"monitoring.agentJarPath = \"agent.jar\": must be an absolute path inside monitoring.agentImage; use /opt/jmx-exporter/jmx_prometheus_javaagent.jar"},
	{"spread unknown", func(r *config.Raw) { r.Availability = &config.RawAvailability{Spread: sp("everywhere")} },
		"availability.spread = \"everywhere\": unknown spread mode (allowed: none, preferred, required); use required in prod (one broker per node)"},
	{"guard override unknown", func(r *config.Raw) { r.GuardOverrides = []string{"replicas"} },
		"guardOverrides[0] = \"replicas\": is not a guarded field (guarded: broker.minInsyncReplicas, brokers, clusterId, controllers, security.mode, storage.size, storage.storageClass); remove it"},

	// config.Stack-file keys and fields the program does not know (config/keys.go).
	{"unknown key", StackText{"brokrs": "3"},
		`brokrs = "3": is not a config key of umbrella-streaming, so nothing would read it (keys: availability, broker, brokers, clusterId, controllers, guardOverrides, image, kafka, kafkaAdmin, monitoring, networkPolicy, resources, security, services, storage, topicDefaults, topicOverrides, topics); rename it to brokers`},
	{"unknown key, nothing near", StackText{"kafkaVersion": "4.1.1"},
		`kafkaVersion = "4.1.1": is not a config key of umbrella-streaming, so nothing would read it (keys: availability, broker, brokers, clusterId, controllers, guardOverrides, image, kafka, kafkaAdmin, monitoring, networkPolicy, resources, security, services, storage, topicDefaults, topicOverrides, topics); remove it, or use one of those names`},
	{"unknown field, case differs", StackText{"broker": `{"minInSyncReplicas":2}`},
		`broker.minInSyncReplicas = 2: is not a field of broker, so nothing would read it (fields: autoCreateTopics, compressionType, defaultReplicationFactor, heapOpts, minInsyncReplicas, numPartitions, retentionBytes, retentionHours); rename it to minInsyncReplicas`},
	{"unknown field, letters swapped", StackText{"storage": `{"szie":"10Gi"}`},
		`storage.szie = "10Gi": is not a field of storage, so nothing would read it (fields: size, storageClass); rename it to size`},
	{"unknown nested field", StackText{"resources": `{"requests":{"cpuu":"1"}}`},
		`resources.requests.cpuu = "1": is not a field of resources.requests, so nothing would read it (fields: cpu, memory); rename it to cpu`},
	{"unknown field of a topic override", StackText{"topicOverrides": `{"alerts":{"partitionz":3}}`},
		`topicOverrides.alerts.partitionz = 3: is not a field of topicOverrides.alerts, so nothing would read it (fields: cleanupPolicy, config, name, partitions, replicationFactor, retentionHours); rename it to partitions`},
	{"unknown field of an extra topic", StackText{"topics": `{"extra":{"audit":{"retentionHour":24}}}`},
		`topics.extra.audit.retentionHour = 24: is not a field of topics.extra.audit, so nothing would read it (fields: cleanupPolicy, config, name, partitions, replicationFactor, retentionHours); rename it to retentionHours`},
	{"unknown field, nothing near", StackText{"availability": `{"zone":"a"}`},
		`availability.zone = "a": is not a field of availability, so nothing would read it (fields: podDisruptionBudget, spread); remove it, or use one of those names`},
	// config.Topic configs against config.Kafka 4.1's table (internal/topicconfig).
	{"topic config unknown, nothing near", func(r *config.Raw) { r.TopicDefaults = &config.RawTopic{Config: map[string]string{"foo.bar": "1"}} },
		`topicDefaults.config.foo.bar = "1": is not a topic config of Kafka 4.1, so creating the topic would fail with INVALID_CONFIG; remove it, or use one of Kafka's topic configs (kafka-configs.sh --describe --all --entity-type topics lists them)`},
	{"topic config not a whole number", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"retention.ms": "7d"}}}
	},
		`topicOverrides.alerts.config.retention.ms = "7d": is not a whole number (Kafka's retention.ms is a long (64-bit) of at least -1); use a whole number of at least -1`},
	{"topic config below kafka's minimum", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"segment.bytes": "1024"}}}
	},
		`topicOverrides.alerts.config.segment.bytes = "1024": is out of range (Kafka's segment.bytes is an int (32-bit) from 1048576 to 2147483647); use a whole number from 1048576 to 2147483647`},
	{"topic config past a 32-bit int", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"max.message.bytes": "2147483648"}}}
	},
		`topicOverrides.alerts.config.max.message.bytes = "2147483648": is out of range (Kafka's max.message.bytes is an int (32-bit) from 0 to 2147483647); use a whole number from 0 to 2147483647`},
	{"topic config not a boolean", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"unclean.leader.election.enable": "yes"}}}
	},
		`topicOverrides.alerts.config.unclean.leader.election.enable = "yes": is not true or false (Kafka's unclean.leader.election.enable is a boolean); use true or false`},
	{"topic config value in the wrong case", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"compression.type": "GZIP"}}}
	},
		`topicOverrides.alerts.config.compression.type = "GZIP": is not a value Kafka accepts for compression.type (allowed, case-sensitive: uncompressed, zstd, lz4, snappy, gzip, producer); write it gzip`},
	{"topic config list item unknown", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"cleanup.policy": "delete,compress"}}}
	},
		`topicOverrides.alerts.config.cleanup.policy = "delete,compress": has the item "compress", which Kafka does not accept in cleanup.policy (allowed items, case-sensitive: compact, delete); use a comma-separated list of compact, delete`},
	{"topic config ratio above 1", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"min.cleanable.dirty.ratio": "1.5"}}}
	},
		`topicOverrides.alerts.config.min.cleanable.dirty.ratio = "1.5": is out of range (Kafka's min.cleanable.dirty.ratio is a decimal from 0 to 1); use a decimal number from 0 to 1`},
	{"topic config tiered storage", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"remote.storage.enable": "true"}}}
	},
		`topicOverrides.alerts.config.remote.storage.enable = "true": needs tiered storage, which these brokers do not enable (no remote.log.storage.system.enable), so Kafka would refuse the topic; remove it, or set it to false`},
	{"topic compaction lags crossed", func(r *config.Raw) {
		r.TopicDefaults = &config.RawTopic{Config: map[string]string{"max.compaction.lag.ms": "60000"}}
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {Config: map[string]string{"min.compaction.lag.ms": "120000"}}}
	},
		`topics.alerts.config.min.compaction.lag.ms = "120000": exceeds max.compaction.lag.ms (60000): Kafka refuses the topic; lower min.compaction.lag.ms or raise max.compaction.lag.ms`},
	{"topic retention set twice", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {RetentionHours: ip(24), Config: map[string]string{"retention.ms": "3600000"}}}
	},
		`topicOverrides.alerts.config.retention.ms = "3600000": is set next to topicOverrides.alerts.retentionHours, which sets the same topic config; one would silently win; keep one of them`},
	{"topic cleanup policy set twice", func(r *config.Raw) {
		r.TopicDefaults = &config.RawTopic{CleanupPolicy: sp("delete"), Config: map[string]string{"cleanup.policy": "compact"}}
	},
		`topicDefaults.config.cleanup.policy = "compact": is set next to topicDefaults.cleanupPolicy, which sets the same topic config; one would silently win; keep one of them`},
	// config.Numbers past what config.Kafka or config.Kubernetes can hold.
	{"brokers past a 32-bit count", func(r *config.Raw) { r.Brokers = ip(rules.MaxKafkaInt + 1) },
		`brokers = 2147483648: exceeds 2147483647, the most pods a StatefulSet runs (replicas is a 32-bit number, as is Kafka's node.id); lower it; add brokers a few at a time as load grows`},
	{"default rf past a 16-bit number", func(r *config.Raw) {
		r.Brokers = ip(40000)
		r.Broker = &config.RawBroker{DefaultReplicationFactor: ip(40000)}
	},
		`broker.defaultReplicationFactor = 40000: exceeds 32767, the largest replication factor Kafka can store (a 16-bit number); set it to the number of copies you want (1 dev, 3 prod)`},
	{"num partitions past a 32-bit int", func(r *config.Raw) { r.Broker = &config.RawBroker{NumPartitions: ip(rules.MaxKafkaInt + 1)} },
		`broker.numPartitions = 2147483648: exceeds 2147483647, the largest num.partitions Kafka takes (a 32-bit int); set it to 1`},
	{"retention hours past a 32-bit int", func(r *config.Raw) { r.Broker = &config.RawBroker{RetentionHours: ip(rules.MaxKafkaInt + 1)} },
		`broker.retentionHours = 2147483648: exceeds 2147483647, the largest log.retention.hours Kafka takes (a 32-bit int); use -1 to keep data forever, or a smaller number of hours`},
	{"topic partitions past a 32-bit count", func(r *config.Raw) { r.TopicDefaults = &config.RawTopic{Partitions: ip(rules.MaxPartitions + 1)} },
		`topicDefaults.partitions = 2147483648: exceeds 2147483647, the most partitions Kafka can give a topic (a 32-bit count); lower it; a few partitions per consumer is plenty`},
	{"topic rf past a 16-bit number", func(r *config.Raw) {
		r.Brokers = ip(40000)
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {ReplicationFactor: ip(40000)}}
	},
		`topicOverrides.alerts.replicationFactor = 40000: exceeds 32767, the largest replication factor Kafka can store (a 16-bit number); set it to 1 (dev) or 3 (prod)`},
	{"topic retention hours past a 32-bit int", func(r *config.Raw) {
		r.TopicOverrides = map[string]config.RawTopic{"alerts": {RetentionHours: ip(rules.MaxKafkaInt + 1)}}
	},
		`topicOverrides.alerts.retentionHours = 2147483648: exceeds 2147483647, the largest log.retention.hours Kafka takes (a 32-bit int); use -1 to keep data forever, or a smaller number of hours`},
	// config.The config.JVM heap against the container's memory limit (config/heap.go).
	{"heap leaves too little headroom", func(r *config.Raw) { r.Broker = &config.RawBroker{HeapOpts: sp("-Xms512m -Xmx1900m")} },
		`broker.heapOpts = "-Xms512m -Xmx1900m": the heap (-Xmx1900m) leaves 148Mi of resources.limits.memory (2Gi), and a broker needs at least 512Mi outside the heap (the larger of 25% of the limit and 512Mi) for metaspace, thread stacks, direct buffers and the page cache, else the container is OOM-killed, or its fetches miss the page cache and go to disk; cap the heap at 1536m (-Xmx1536m, -Xms no higher), or raise resources.limits.memory to at least 2534Mi`},
	{"heap above the limit", func(r *config.Raw) { r.Broker = &config.RawBroker{HeapOpts: sp("-Xmx3g")} },
		`broker.heapOpts = "-Xmx3g": the heap (-Xmx3g) is more than resources.limits.memory (2Gi), and a broker needs at least 512Mi outside the heap (the larger of 25% of the limit and 512Mi) for metaspace, thread stacks, direct buffers and the page cache, else the container is OOM-killed, or its fetches miss the page cache and go to disk; cap the heap at 1536m (-Xmx1536m, -Xms no higher), or raise resources.limits.memory to at least 4Gi`},
	{"heap past a quarter of a large limit", func(r *config.Raw) {
		r.Resources = &config.RawResources{Limits: &config.RawCPUMemory{Memory: sp("8Gi")}}
		r.Broker = &config.RawBroker{HeapOpts: sp("-Xms2g -Xmx7g")}
	},
		`broker.heapOpts = "-Xms2g -Xmx7g": the heap (-Xmx7g) leaves 1Gi of resources.limits.memory (8Gi), and a broker needs at least 2Gi outside the heap (the larger of 25% of the limit and 512Mi) for metaspace, thread stacks, direct buffers and the page cache, else the container is OOM-killed, or its fetches miss the page cache and go to disk; cap the heap at 6144m (-Xmx6144m, -Xms no higher), or raise resources.limits.memory to at least 9558Mi`},
	{"heap by percentage", func(r *config.Raw) { r.Broker = &config.RawBroker{HeapOpts: sp("-XX:MaxRAMPercentage=90")} },
		`broker.heapOpts = "-XX:MaxRAMPercentage=90": the heap (-XX:MaxRAMPercentage=90) leaves 204Mi of resources.limits.memory (2Gi), and a broker needs at least 512Mi outside the heap (the larger of 25% of the limit and 512Mi) for metaspace, thread stacks, direct buffers and the page cache, else the container is OOM-killed, or its fetches miss the page cache and go to disk; cap the heap at 1536m (-Xmx1536m, -Xms no higher), or raise resources.limits.memory to at least 2458Mi`},
	{"heap by initial size alone", func(r *config.Raw) { r.Broker = &config.RawBroker{HeapOpts: sp("-Xms1800m")} },
		`broker.heapOpts = "-Xms1800m": the heap (-Xms1800m) leaves 248Mi of resources.limits.memory (2Gi), and a broker needs at least 512Mi outside the heap (the larger of 25% of the limit and 512Mi) for metaspace, thread stacks, direct buffers and the page cache, else the container is OOM-killed, or its fetches miss the page cache and go to disk; cap the heap at 1536m (-Xmx1536m, -Xms no higher), or raise resources.limits.memory to at least 2400Mi`},
	{"heap initial above max", func(r *config.Raw) { r.Broker = &config.RawBroker{HeapOpts: sp("-Xms1g -Xmx512m")} },
		`broker.heapOpts = "-Xms1g -Xmx512m": -Xms (1g) exceeds -Xmx (512m), so the JVM would not start; lower -Xms to at most -Xmx`},
	{"heap size malformed", func(r *config.Raw) { r.Broker = &config.RawBroker{HeapOpts: sp("-Xms512m -Xmx1gb")} },
		`broker.heapOpts = "-Xms512m -Xmx1gb": -Xmx1gb is not a JVM size (a whole number with k, m, g or t), so the JVM would not start; write it like -Xmx1g or -Xmx1536m`},
	{"heap percentage malformed", func(r *config.Raw) { r.Broker = &config.RawBroker{HeapOpts: sp("-XX:MaxRAMPercentage=150")} },
		`broker.heapOpts = "-XX:MaxRAMPercentage=150": -XX:MaxRAMPercentage=150 is not a percentage from 0 to 100, so the JVM would not start; write it like -XX:MaxRAMPercentage=60`},
	// The Kafka release and the metadata version (config/kafka.go).
	{"kafka version not built", func(r *config.Raw) { r.Kafka = &config.RawKafka{Version: sp("4.0.0")} },
		`kafka.version = "4.0.0": is not a Kafka release this project builds a broker image for (builds: 4.1.1, 4.1.2, 4.2.2, 4.3.2, 4.4.0); use one of those (a patch of your line is the safe step), or add the release to KAFKA_VERSIONS in scripts/images.sh and to config.KafkaVersions`},
	{"metadata version as describe prints it", func(r *config.Raw) { r.Kafka = &config.RawKafka{MetadataVersion: sp("4.1-IV1")} },
		`kafka.metadataVersion = "4.1-IV1": is not a metadata version; name a release as kafka-features.sh's --release-version does, such as 4.1 (where describe shows 4.1-IV1), or latest for the newest every node supports, or leave it unset to keep the cluster's`},
	{"metadata version newer than the software", func(r *config.Raw) {
		r.Kafka = &config.RawKafka{Version: sp("4.1.2"), MetadataVersion: sp("4.4")}
	},
		`kafka.metadataVersion = "4.4": belongs to Kafka 4.4, newer than kafka.version 4.1.2 can run; roll the software to a 4.4 release first (kafka.version, its own up), then raise the metadata version in the next`},
	{"image tagged for another Kafka release", func(r *config.Raw) {
		r.Kafka = &config.RawKafka{Version: sp("4.1.2")}
		r.Image = &config.RawImage{Name: sp("registry.example/umbrella/kafka:4.1.1-umbrella.1")}
	},
		`image.name = "registry.example/umbrella/kafka:4.1.1-umbrella.1": is tagged for Kafka 4.1.1, but kafka.version is 4.1.2; leave image.name unset to run the project's 4.1.2 image (registry.umbrella.internal/umbrella/kafka:4.1.2-umbrella.1), or name your registry's 4.1.2 image`},
	{"built image tagged for another Kafka release", func(r *config.Raw) {
		r.Image = &config.RawImage{Build: bp(true), BuildName: sp("registry.example/umbrella/kafka:4.4.0")}
	},
		`image.buildName = "registry.example/umbrella/kafka:4.4.0": is tagged for Kafka 4.4.0, but kafka.version is 4.1.1; leave image.buildName unset to run the project's 4.1.1 image (registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1), or name your registry's 4.1.1 image`},
	// config.Mutable image tags (config/image.go).
	{"image tag latest", func(r *config.Raw) { r.Image = &config.RawImage{Name: sp("registry.example/umbrella/kafka:latest")} },
		`image.name = "registry.example/umbrella/kafka:latest": has the tag latest, which every push moves: each pod start pulls whatever it names then, so brokers drift apart and a change behind the tag is neither shown by preview nor undone by rolling the stack back; pin a version tag such as registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1, or a digest (@sha256:…)`},
	{"image without a tag", func(r *config.Raw) { r.Image = &config.RawImage{Name: sp("registry.example:5000/umbrella/kafka")} },
		`image.name = "registry.example:5000/umbrella/kafka": has no tag, so it means latest, which every push moves: each pod start pulls whatever it names then, so brokers drift apart and a change behind the tag is neither shown by preview nor undone by rolling the stack back; pin a version tag such as registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1, or a digest (@sha256:…)`},
	{"built image tag latest", func(r *config.Raw) {
		r.Image = &config.RawImage{Build: bp(true), BuildName: sp("registry.example/umbrella/kafka:latest")}
	},
		`image.buildName = "registry.example/umbrella/kafka:latest": has the tag latest, which every push moves: each pod start pulls whatever it names then, so brokers drift apart and a change behind the tag is neither shown by preview nor undone by rolling the stack back; pin a version tag such as registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1, or a digest (@sha256:…)`},
	{"agent image without a tag", func(r *config.Raw) {
		r.Monitoring = &config.RawMonitoring{AgentImage: sp("registry.example/jmx-exporter")}
	},
		`monitoring.agentImage = "registry.example/jmx-exporter": has no tag, so it means latest, which every push moves: each pod start pulls whatever it names then, so brokers drift apart and a change behind the tag is neither shown by preview nor undone by rolling the stack back; pin a version tag such as registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1, or a digest (@sha256:…)`},
	{"security mode unknown", func(r *config.Raw) { r.Security = &config.RawSecurity{Mode: sp("tls")} },
		`security.mode = "tls": unknown security mode (allowed: none, sasl-scram); use none (plaintext listeners, dev) or sasl-scram (authenticated, encrypted listeners, prod)`},
	{"certificate rotation negative", func(r *config.Raw) { r.Security = &config.RawSecurity{CertificateRotation: ip(-1)} },
		`security.certificateRotation = -1: must be 0 or more (it counts rotations); leave it at its current value, or raise it by one to re-issue the certificates`},
	{"certificate validity too short", func(r *config.Raw) { r.Security = &config.RawSecurity{CertificateValidityDays: ip(7)} },
		`security.certificateValidityDays = 7: must be between 30 and 3650 days; use 365 (a year) and raise security.certificateRotation before the certificates expire`},
	{"certificate validity too long", func(r *config.Raw) { r.Security = &config.RawSecurity{CertificateValidityDays: ip(3651)} },
		`security.certificateValidityDays = 3651: must be between 30 and 3650 days; use 365 (a year) and raise security.certificateRotation before the certificates expire`},
	{"secure without monitoring", func(r *config.Raw) {
		r.Security = &config.RawSecurity{Mode: sp(config.SecurityScram)}
		r.Monitoring = &config.RawMonitoring{Enabled: bp(false)}
	},
		`security.mode = "sasl-scram": needs monitoring.enabled = true: the readiness probe reads the broker state from the JMX exporter, and a shell probe cannot speak TLS to the client port; set monitoring.enabled = true, or security.mode = none`},
	{"secure with the topic job", func(r *config.Raw) {
		r.Security = &config.RawSecurity{Mode: sp(config.SecurityScram)}
		r.Topics = &config.RawTopics{Manager: sp(config.TopicManagerJob)}
	},
		`security.mode = "sasl-scram": needs topics.manager = provider: the service users and their ACLs are umbrellakafka resources, which the topic Job cannot create; set topics.manager = provider, or security.mode = none`},
	{"service consumes an unknown topic", func(r *config.Raw) {
		r.Services = map[string]config.RawService{"email-processor": {Consumes: []string{"raw-mesages"}}}
	},
		`services.email-processor.consumes names "raw-mesages", which is not a topic: use one of alerts, dead-letter, normalized-messages, normalized-messages-dlq, parsed-messages, processing-results, raw-messages, or add it under topics.extra`},
	{"service produces an unknown topic", func(r *config.Raw) {
		r.Services = map[string]config.RawService{"audit": {Namespace: sp("umbrella-ui"), Produces: []string{"audit-log"}}}
	},
		`services.audit.produces names "audit-log", which is not a topic: use one of alerts, dead-letter, normalized-messages, normalized-messages-dlq, parsed-messages, processing-results, raw-messages, or add it under topics.extra`},
	{"service without ACLs", func(r *config.Raw) {
		r.Services = map[string]config.RawService{"audit": {Namespace: sp("umbrella-ui")}}
	},
		`services.audit neither produces nor consumes a topic, so it would get no ACL: list its topics in produces or consumes, or remove the service`},
	{"service list emptied", StackText{"services": `{"connectors":{"produces":[]}}`}, // JSON drops an empty list
		`services.connectors neither produces nor consumes a topic, so it would get no ACL: list its topics in produces or consumes, or remove the service`},
	{"service consumes without a group", func(r *config.Raw) {
		r.Services = map[string]config.RawService{"audit": {Namespace: sp("umbrella-ui"), Consumes: []string{"alerts"}}}
	},
		`services.audit consumes topics but has no group: set group to the consumer group it commits offsets in`},
	{"service without a namespace", func(r *config.Raw) {
		r.Services = map[string]config.RawService{"audit": {Produces: []string{"alerts"}}}
	},
		`services.audit.namespace is empty: set the namespace where the service runs; its credentials Secret goes there`},
	{"service name not a DNS label", func(r *config.Raw) {
		r.Services = map[string]config.RawService{"Audit_Log": {Namespace: sp("umbrella-ui"), Produces: []string{"alerts"}}}
	},
		`services.Audit_Log = "Audit_Log": is not a service name: it names the Kafka user and its credentials Secret, so it must be a DNS label (lower-case letters, digits and '-', at most 63 characters); rename the service, e.g. audit-log`},
	{"service namespace not a DNS label", func(r *config.Raw) {
		r.Services = map[string]config.RawService{"email-processor": {Namespace: sp("Umbrella Ingestion")}}
	},
		`services.email-processor.namespace = "Umbrella Ingestion": is not a namespace name (DNS label, at most 63 characters); name the namespace the service runs in, e.g. umbrella-ingestion`},
	{"unknown field of a service", StackText{"services": `{"email-processor":{"consume":["alerts"]}}`},
		`services.email-processor.consume = ["alerts"]: is not a field of services.email-processor, so nothing would read it (fields: consumes, group, groupPrefix, namespace, produces); rename it to consumes`},
	{"unknown field of security", StackText{"security": `{"mode":"sasl-scram","rotation":1}`},
		`security.rotation = 1: is not a field of security, so nothing would read it (fields: certificateRotation, certificateValidityDays, mode); remove it, or use one of those names`},
}

// BadAccess breaks topics.access once in an otherwise valid dev config; each
// names the single problem line Build must report (field, value, limit, fix).
var BadAccess = []Case{
	{"access unknown", func(r *config.Raw) { r.Topics = &config.RawTopics{Access: sp("tunnel")} },
		`topics.access = "tunnel": unknown access mode (allowed: direct, kubernetes); use direct (the deploy machine reaches every broker's address) or kubernetes (through the Kubernetes API, from outside the cluster)`},
	{"access kubernetes with the job manager", func(r *config.Raw) {
		r.Topics = &config.RawTopics{Manager: sp(config.TopicManagerJob), Access: sp(config.AdminAccessKubernetes)}
	},
		`topics.access = "kubernetes": applies only to topics.manager = provider (the job already runs inside the cluster); remove topics.access or set topics.manager = provider`},
	{"access kubernetes with a loopback bootstrap server", func(r *config.Raw) {
		r.Topics = &config.RawTopics{Access: sp(config.AdminAccessKubernetes), BootstrapServers: []string{"127.0.0.1:19092"}}
	},
		`topics.bootstrapServers[0] = "127.0.0.1:19092": is not an in-cluster name in namespace umbrella-streaming, which topics.access = kubernetes needs to find the broker pod; leave bootstrapServers empty (the kafka Service) or use kafka-0.kafka-headless.umbrella-streaming.svc:9092`},
	{"access kubernetes with another namespace's service", func(r *config.Raw) {
		r.Topics = &config.RawTopics{Access: sp(config.AdminAccessKubernetes), BootstrapServers: []string{"kafka.other.svc.cluster.local:9092"}}
	},
		`topics.bootstrapServers[0] = "kafka.other.svc.cluster.local:9092": is not an in-cluster name in namespace umbrella-streaming, which topics.access = kubernetes needs to find the broker pod; leave bootstrapServers empty (the kafka Service) or use kafka-0.kafka-headless.umbrella-streaming.svc:9092`},
}

// Load loads ValidDev broken by c.Mut in a mode: a func(*config.Raw) changes
// the typed config, which BuildFor checks; a StackText is written over
// ValidDev's values, which LoadFor checks from the top (keys, decoding, then
// BuildFor).
func (c Case) Load(mode config.Mode) (*config.Spec, error) {
	if m, ok := c.Mut.(func(*config.Raw)); ok {
		r := ValidDev()
		m(&r)
		return config.BuildFor("dev", r, mode)
	}
	return config.LoadFor("dev", config.MapSource(c.StackConfig()), mode)
}

// StackConfig is the broken config as a stack file holds it (key without the
// project prefix -> value text: JSON for objects and lists), for running the
// case through the program.
func (c Case) StackConfig() map[string]string {
	switch m := c.Mut.(type) {
	case func(*config.Raw):
		r := ValidDev()
		m(&r)
		return rawText(r)
	case StackText:
		values := rawText(ValidDev())
		for k, v := range m {
			values[k] = v
		}
		return values
	}
	panic(fmt.Sprintf("case %q: Mut is a func(*config.Raw) or a StackText, not %T", c.Name, c.Mut))
}

// rawText writes each set field of r as the stack file's text for its key.
func rawText(r config.Raw) map[string]string {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		panic(err)
	}
	out := map[string]string{}
	for k, v := range fields {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s // a string is written bare
			continue
		}
		out[k] = string(v)
	}
	return out
}
