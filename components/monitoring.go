package components

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// Metric names the exporter rules produce and the alerts and dashboard use. One
// list, so a rename cannot leave an alert watching a series that no longer exists.
const (
	MetricMessagesIn          = "kafka_server_brokertopicmetrics_messagesin_total"
	MetricBytesIn             = "kafka_server_brokertopicmetrics_bytesin_total"
	MetricBytesOut            = "kafka_server_brokertopicmetrics_bytesout_total"
	MetricUnderReplicated     = "kafka_server_replicamanager_underreplicatedpartitions"
	MetricUnderMinISR         = "kafka_server_replicamanager_underminisrpartitioncount"
	MetricPartitionCount      = "kafka_server_replicamanager_partitioncount"
	MetricActiveController    = "kafka_controller_kafkacontroller_activecontrollercount"
	MetricOfflinePartitions   = "kafka_controller_kafkacontroller_offlinepartitionscount"
	MetricLogSize             = "kafka_log_log_size"
	MetricBrokerState         = "kafka_server_kafkaserver_brokerstate"
	MetricVolumeUsedBytes     = "kubelet_volume_stats_used_bytes"
	MetricVolumeCapacityBytes = "kubelet_volume_stats_capacity_bytes"
)

// ExporterRulesYAML is the Prometheus JMX exporter configuration (written for this
// project): it keeps only the MBeans the alerts and dashboard use, with
// lower-case names, so a broker exports a few hundred series, not thousands.
//
// BrokerTopicMetrics are exported per topic only. Kafka also keeps a broker-wide
// MBean (no topic key) that is the sum of the per-topic ones; exported under the
// same name it made every sum() over the metric count the traffic twice and added
// an unlabelled line to the by-topic panel (seen on a real 4.1.1 broker:
// tests/monitoring). Sum over topics instead.
//
// includeObjectNames limits each scrape to the four MBean groups the rules match.
// Without it the agent reads every MBean of the JVM and only then drops what no
// rule matches: on a real broker a scrape took ~1 s (timeouts at a 2 s scrape
// interval) instead of ~0.05 s, for the same series.
const ExporterRulesYAML = `# JMX exporter rules for the umbrella-streaming brokers (generated; see components/monitoring.go).
lowercaseOutputName: true
lowercaseOutputLabelNames: true
includeObjectNames:
  - "kafka.server:type=BrokerTopicMetrics,*"
  - "kafka.server:type=ReplicaManager,*"
  - "kafka.controller:type=KafkaController,*"
  - "kafka.log:type=Log,*"
  - "kafka.server:type=KafkaServer,name=BrokerState"
rules:
  - pattern: 'kafka.server<type=BrokerTopicMetrics, name=(MessagesIn|BytesIn|BytesOut)PerSec, topic=(.+)><>Count'
    name: kafka_server_brokertopicmetrics_$1_total
    type: COUNTER
    labels:
      topic: "$2"
  - pattern: 'kafka.server<type=ReplicaManager, name=(UnderReplicatedPartitions|UnderMinIsrPartitionCount|PartitionCount|LeaderCount|OfflineReplicaCount)><>Value'
    name: kafka_server_replicamanager_$1
    type: GAUGE
  - pattern: 'kafka.controller<type=KafkaController, name=(ActiveControllerCount|OfflinePartitionsCount|GlobalPartitionCount|GlobalTopicCount)><>Value'
    name: kafka_controller_kafkacontroller_$1
    type: GAUGE
  - pattern: 'kafka.server<type=KafkaServer, name=BrokerState><>Value'
    name: kafka_server_kafkaserver_brokerstate
    type: GAUGE
  - pattern: 'kafka.log<type=Log, name=Size, topic=(.+), partition=(.+)><>Value'
    name: kafka_log_log_size
    type: GAUGE
    labels:
      topic: "$1"
      partition: "$2"
`

// BuildPodMonitor returns the PodMonitor (seed podmonitor.yaml), or nil when
// monitoring is off.
func BuildPodMonitor(s *config.Spec) *apiextensions.CustomResourceArgs {
	if !s.Monitoring.Enabled {
		return nil
	}
	return &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
		Kind:       pulumi.String("PodMonitor"),
		Metadata:   meta(s, PodMonitorName, "monitoring"),
		OtherFields: kubernetes.UntypedArgs{
			"spec": map[string]any{
				"selector": map[string]any{"matchLabels": SelectorLabels()},
				"podMetricsEndpoints": []any{
					map[string]any{"port": MetricsPortName, "path": "/metrics", "interval": "30s"},
				},
			},
		},
	}
}

// Alert is one Prometheus alerting rule.
type Alert struct {
	Name        string
	Expr        string
	For         string
	Severity    string
	Summary     string
	Description string
}

// Alerts returns the alert rules, in a fixed order. Broker series are scoped to
// this namespace so another Kafka in the cluster cannot raise them.
func Alerts(s *config.Spec) []Alert {
	ns := fmt.Sprintf(`namespace=%q`, s.Namespace)
	return []Alert{
		{Name: "KafkaUnderReplicatedPartitions", Expr: fmt.Sprintf("sum(%s{%s}) > 0", MetricUnderReplicated, ns), For: "5m", Severity: "warning",
			Summary: "Kafka has under-replicated partitions", Description: "{{ $value }} partitions have fewer in-sync replicas than their replication factor for 5 minutes."},
		{Name: "KafkaOfflinePartitions", Expr: fmt.Sprintf("sum(%s{%s}) > 0", MetricOfflinePartitions, ns), For: "1m", Severity: "critical",
			Summary: "Kafka has offline partitions", Description: "{{ $value }} partitions have no leader: producers and consumers of them are stopped."},
		{Name: "KafkaActiveControllerCount", Expr: fmt.Sprintf("sum(%s{%s}) != 1", MetricActiveController, ns), For: "1m", Severity: "critical",
			Summary: "Kafka does not have exactly one active controller", Description: "{{ $value }} active controllers: the KRaft quorum has no leader or the metrics are split."},
		{Name: "KafkaUnderMinIsrPartitions", Expr: fmt.Sprintf("sum(%s{%s}) > 0", MetricUnderMinISR, ns), For: "5m", Severity: "critical",
			Summary: "Kafka partitions are below min.insync.replicas", Description: "{{ $value }} partitions refuse acks=all writes (NOT_ENOUGH_REPLICAS)."},
		{Name: "KafkaDiskFilling", Expr: fmt.Sprintf(`max by (persistentvolumeclaim) (%s{%s, persistentvolumeclaim=~"%s-%s-.*"} / %s{%s, persistentvolumeclaim=~"%s-%s-.*"}) * 100 > %d`,
			MetricVolumeUsedBytes, ns, DataVolumeName, StatefulSetName, MetricVolumeCapacityBytes, ns, DataVolumeName, StatefulSetName, s.Monitoring.DiskFillPercent),
			For: "10m", Severity: "warning",
			Summary: "A Kafka data volume is filling up", Description: fmt.Sprintf("{{ $labels.persistentvolumeclaim }} is over %d%% full.", s.Monitoring.DiskFillPercent)},
	}
}

// RuleGroups renders Alerts as the PrometheusRule spec.groups value.
func RuleGroups(s *config.Spec) []any {
	rules := []any{}
	for _, a := range Alerts(s) {
		rules = append(rules, map[string]any{
			"alert":       a.Name,
			"expr":        a.Expr,
			"for":         a.For,
			"labels":      map[string]any{"severity": a.Severity, "namespace": s.Namespace},
			"annotations": map[string]any{"summary": a.Summary, "description": a.Description},
		})
	}
	return []any{map[string]any{"name": "umbrella-streaming.kafka", "rules": rules}}
}

// BuildPrometheusRule returns the alert rules as a PrometheusRule, or nil when
// monitoring is off.
func BuildPrometheusRule(s *config.Spec) *apiextensions.CustomResourceArgs {
	if !s.Monitoring.Enabled {
		return nil
	}
	return &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String("monitoring.coreos.com/v1"),
		Kind:        pulumi.String("PrometheusRule"),
		Metadata:    meta(s, PrometheusRuleName, "monitoring"),
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{"groups": RuleGroups(s)}},
	}
}

// Panel is one dashboard graph.
type Panel struct {
	Title string
	Expr  string
	Unit  string
}

// DashboardPanels lists the dashboard's queries, in display order.
func DashboardPanels(s *config.Spec) []Panel {
	ns := fmt.Sprintf(`namespace=%q`, s.Namespace)
	return []Panel{
		{Title: "Messages in per second, by topic", Expr: fmt.Sprintf("sum by (topic) (rate(%s{%s}[5m]))", MetricMessagesIn, ns), Unit: "ops"},
		{Title: "Bytes in per second", Expr: fmt.Sprintf("sum(rate(%s{%s}[5m]))", MetricBytesIn, ns), Unit: "Bps"},
		{Title: "Bytes out per second", Expr: fmt.Sprintf("sum(rate(%s{%s}[5m]))", MetricBytesOut, ns), Unit: "Bps"},
		{Title: "Under-replicated partitions", Expr: fmt.Sprintf("sum(%s{%s})", MetricUnderReplicated, ns), Unit: "short"},
		{Title: "Partitions under min ISR", Expr: fmt.Sprintf("sum(%s{%s})", MetricUnderMinISR, ns), Unit: "short"},
		{Title: "Offline partitions", Expr: fmt.Sprintf("sum(%s{%s})", MetricOfflinePartitions, ns), Unit: "short"},
		{Title: "Active controllers", Expr: fmt.Sprintf("sum(%s{%s})", MetricActiveController, ns), Unit: "short"},
		{Title: "Log size by topic", Expr: fmt.Sprintf("sum by (topic) (%s{%s})", MetricLogSize, ns), Unit: "bytes"},
	}
}

// DashboardJSON renders the Grafana dashboard. encoding/json sorts map keys, so the
// text is identical on every run.
func DashboardJSON(s *config.Spec) string {
	panels := []any{}
	for i, p := range DashboardPanels(s) {
		panels = append(panels, map[string]any{
			"id":          i + 1,
			"title":       p.Title,
			"type":        "timeseries",
			"datasource":  map[string]any{"type": "prometheus", "uid": "${datasource}"},
			"gridPos":     map[string]any{"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
			"fieldConfig": map[string]any{"defaults": map[string]any{"unit": p.Unit}, "overrides": []any{}},
			"targets":     []any{map[string]any{"refId": "A", "expr": p.Expr, "datasource": map[string]any{"type": "prometheus", "uid": "${datasource}"}}},
		})
	}
	dash := map[string]any{
		"title":         "Umbrella streaming: Kafka",
		"uid":           "umbrella-streaming-kafka",
		"schemaVersion": 39,
		"tags":          []any{"kafka", "umbrella"},
		"time":          map[string]any{"from": "now-6h", "to": "now"},
		"refresh":       "30s",
		"templating": map[string]any{"list": []any{map[string]any{
			"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"}}},
		"panels": panels,
	}
	b, err := json.MarshalIndent(dash, "", "  ")
	if err != nil {
		panic(err) // only plain maps and strings: cannot fail
	}
	return string(b) + "\n"
}

// BuildDashboard returns the Grafana dashboard ConfigMap for the umbrella-infra
// namespace (labelled for Grafana's dashboard sidecar), or nil when monitoring is off.
func BuildDashboard(s *config.Spec) *corev1.ConfigMapArgs {
	if !s.Monitoring.Enabled {
		return nil
	}
	labels := CommonLabels(s, "dashboard")
	labels[GrafanaDashboardLabel] = "1"
	return &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(DashboardName),
			Namespace: pulumi.String(s.Monitoring.DashboardNamespace),
			Labels:    strMap(labels),
		},
		Data: pulumi.StringMap{"umbrella-streaming-kafka.json": pulumi.String(DashboardJSON(s))},
	}
}
