package config

import (
	"math"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// Defaults: the value every field takes when a stack leaves it unset, all in
// this one block. They are the seed plan's single-broker MVP values (sections 3,
// 4 and 6), so an empty dev stack deploys the seed. clusterId has no default: it
// must be set (see buildQuorum).
const (
	DefaultNamespace   = "umbrella-streaming"
	DefaultBrokers     = 1
	DefaultControllers = 1

	// DefaultImage is the project's own broker image (scripts/images.sh builds and
	// pushes it: the Kafka 4.1.1 base plus infrastructure/kafka/Dockerfile). Its
	// registry is a .internal name (reserved for private networks), so an unset
	// image fails to pull instead of running an image someone else published under
	// a public name; set image.name to your registry's copy.
	DefaultImage         = DefaultImageRegistry + "/" + ProjectImage
	DefaultImageRegistry = "registry.umbrella.internal"
	ProjectImage         = "umbrella/kafka:4.1.1-umbrella.1"
	// DefaultLagExporterImage is the project's kafka-loadgen image, which
	// carries /kafka-lag-exporter (scripts/images.sh LOADGEN_VERSION; a test
	// keeps them in step), from the same private registry as DefaultImage.
	DefaultLagExporterImage = DefaultImageRegistry + "/" + LagExporterImage
	LagExporterImage        = "umbrella/kafka-loadgen:1.6.0"
	DefaultImageBuild       = false
	DefaultBuildImageName   = DefaultImage
	DefaultImagePush        = false
	// DefaultPullPolicy re-resolves a tag and re-checks pull credentials on every start.
	DefaultPullPolicy = "Always"

	DefaultStorageSize  = "10Gi"
	DefaultStorageClass = "" // the cluster's default StorageClass

	DefaultRequestsCPU    = "250m"
	DefaultRequestsMemory = "512Mi"
	DefaultLimitsCPU      = "1"
	DefaultLimitsMemory   = "2Gi"

	DefaultMinInsyncReplicas      = 1
	DefaultReplicationFactor      = 1
	DefaultNumPartitions          = 1
	DefaultRetentionHours         = 168
	DefaultRetentionBytes         = -1
	DefaultCompressionType        = "producer"
	DefaultAutoCreateTopics       = false
	DefaultHeapOpts               = "-Xms512m -Xmx1g"
	DefaultTopicPartitions        = 1
	DefaultTopicReplicationFactor = 1
	DefaultTopicManager           = TopicManagerProvider
	DefaultAdminAccess            = AdminAccessDirect
	DefaultProtectTopics          = false
	DefaultAllowReplace           = false
	DefaultNetworkPolicyEnabled   = true
	DefaultAccessLabel            = "umbrella-kafka-access=true"
	DefaultMonitoringNS           = "monitoring"
	DefaultMonitoringEnabled      = true
	// DefaultAgentImage "" means the broker image itself: it carries the agent jar.
	DefaultAgentImage         = ""
	DefaultAgentJarPath       = "/opt/jmx-exporter/jmx_prometheus_javaagent.jar"
	DefaultDashboardNamespace = "umbrella-infra"
	DefaultDiskFillPercent    = 80
	// DefaultAlertFor "" keeps each alert's own `for` duration.
	DefaultAlertFor            = ""
	DefaultPodDisruptionBudget = true
	DefaultSpread              = SpreadPreferred
	DefaultSecurityMode        = SecurityNone
	// DefaultCertificateValidityDays is a year: long enough that rotation is
	// a planned step, short enough that a leaked key expires.
	DefaultCertificateValidityDays = 365
	DefaultCertificateRotation     = 0
	// DefaultAllowedNamespaces are the seed's client namespaces (section 6),
	// comma-separated and sorted.
	DefaultAllowedNamespaces = "umbrella-connectors,umbrella-ingestion,umbrella-processing,umbrella-storage,umbrella-ui"
)

// Limits and allowed values the validation enforces (not defaults).
const (
	// ImageDefaultClusterID is the id the apache/kafka image falls back to when
	// CLUSTER_ID is unset; every forgetful cluster shares it, so we refuse it.
	ImageDefaultClusterID = rules.ImageDefaultClusterID
	// MaxControllers bounds the quorum: every metadata write waits for a majority.
	MaxControllers = 7
	// MaxBrokers is the most broker pods: a StatefulSet's replicas and Kafka's
	// node.id are 32-bit numbers.
	MaxBrokers = math.MaxInt32
	// MinCertificateValidityDays and MaxCertificateValidityDays bound
	// security.certificateValidityDays: under a month, rotation would be a
	// monthly chore; beyond ten years, a leaked key never expires.
	MinCertificateValidityDays = 30
	MaxCertificateValidityDays = 3650
	// MinAlertFor and MaxAlertFor bound monitoring.alertFor: under a second
	// is shorter than any rule evaluation; beyond a day, nobody is told.
	MinAlertFor = time.Second
	MaxAlertFor = 24 * time.Hour
)

// CompressionTypes are the values Kafka accepts for the broker's compression.type.
var CompressionTypes = []string{"gzip", "lz4", "producer", "snappy", "uncompressed", "zstd"}

// CleanupPolicies are the values Kafka accepts for a topic's cleanup.policy.
var CleanupPolicies = []string{"compact", "compact,delete", "delete", "delete,compact"}

// PullPolicies are Kubernetes' imagePullPolicy values.
var PullPolicies = []string{"Always", "IfNotPresent", "Never"}

// SpreadModes are the values availability.spread accepts.
var SpreadModes = []string{SpreadNone, SpreadPreferred, SpreadRequired}

// SecurityModes are the values security.mode accepts.
var SecurityModes = []string{SecurityNone, SecurityScram}
