package components

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	k8smetav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// The monitoring objects are built from their owners' Go types: the
// Prometheus Operator's monitoring/v1 structs for the PodMonitors and the
// PrometheusRule, Grafana's foundation SDK for the dashboard. A misspelt field
// (`podMetricEndpoints`, `annotation`) does not compile, where in a
// map[string]any it would reach the API server, which drops unknown fields of
// a custom resource without a word. The typed objects reach Pulumi through a
// JSON round trip (untyped), so the custom resources stay plain
// apiextensions.CustomResource values and need no generated SDK.

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

	// The lag exporter's series (cmd/kafka-lag-exporter, deployed by
	// BuildLagExporter): a group's lag per topic (the sum over the
	// topic's partitions of end offset minus committed offset), its member
	// count, whether its last collection worked, and how long it took.
	MetricConsumerGroupLag          = "umbrella_consumergroup_lag"
	MetricConsumerGroupMembers      = "umbrella_consumergroup_members"
	MetricLagExporterUp             = "umbrella_lag_exporter_up"
	MetricLagExporterCollectSeconds = "umbrella_lag_exporter_collect_seconds"
)

// LagGrowthWindow is how far back the lag alert looks for growth: lag that
// has not grown over it is a backlog nobody adds to, not a consumer falling
// behind.
const LagGrowthWindow = 5 * time.Minute

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

// Prometheus Operator API group and kinds of the monitoring objects.
const (
	MonitoringAPIVersion = "monitoring.coreos.com/v1"
	PodMonitorKind       = "PodMonitor"
	PrometheusRuleKind   = "PrometheusRule"
)

// scrapeEvery is how often Prometheus scrapes the brokers' JMX exporter.
const scrapeEvery = 30 * time.Second

// ScrapeInterval is scrapeEvery in Prometheus notation (the PodMonitor's
// podMetricsEndpoints interval).
var ScrapeInterval = PromDuration(scrapeEvery)

// SampleMaxAge bounds how old a broker's last sample may be and still count
// in the alerts and panels that add the brokers' gauges up: two scrape
// intervals. Strictly under it, a sample left behind is counted in at most
// two 30s rule evaluations, never the three a `for` of 1m needs.
const SampleMaxAge = 2 * scrapeEvery

// current selects metric's series in the namespace (ns is the label matcher)
// whose last sample is younger than SampleMaxAge. Prometheus shows a series'
// last sample for five minutes unless a staleness marker ends it, and a
// target can go without one: on real pods, after a destroy and an up in the
// same namespace, the destroyed stack's last "active controller 1" stood
// beside the new stack's leader for those five minutes (no marker), and the
// controller-count alert fired on two active controllers.
func current(metric, ns string) string {
	sel := fmt.Sprintf("%s{%s}", metric, ns)
	return fmt.Sprintf("%s and (time() - timestamp(%s) < %d)", sel, sel, int(SampleMaxAge.Seconds()))
}

// MetricsPath is where the exporters serve their metrics.
const MetricsPath = "/metrics"

// RuleGroupName is the PrometheusRule's one rule group.
const RuleGroupName = "umbrella-streaming.kafka"

// untyped turns a typed object into the plain value Pulumi's untyped args take,
// through its JSON form (so the field names are the types' json tags). The
// operator's structs embed some objects by value (an endpoint's
// bearerTokenSecret, a spec's namespaceSelector), which encoding/json cannot
// omit: they would reach the API server as {"key": ""} and {}. An empty
// string or object means "unset" to the operator, so both are dropped.
func untyped(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("monitoring object %T: %v", v, err)) // plain structs of strings, maps and slices
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("monitoring object %T: %v", v, err))
	}
	prune(out)
	return out
}

// prune drops empty strings and empty objects from m, depth first.
func prune(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if x == "" {
				delete(m, k)
			}
		case map[string]any:
			prune(x)
			if len(x) == 0 {
				delete(m, k)
			}
		case []any:
			for _, item := range x {
				if im, ok := item.(map[string]any); ok {
					prune(im)
				}
			}
		}
	}
}

// customResource is the Pulumi args of a Prometheus Operator object: typed
// metadata (names, labels) and the typed spec, untyped.
func customResource(s *config.Spec, kind, name, component string, spec any) *apiextensions.CustomResourceArgs {
	return &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(MonitoringAPIVersion),
		Kind:        pulumi.String(kind),
		Metadata:    meta(s, name, component),
		OtherFields: kubernetes.UntypedArgs{"spec": untyped(spec)},
	}
}

// PodMonitorSpec is a PodMonitor spec that scrapes MetricsPath on the named
// port of the pods matching selector, in their own namespace, every interval.
func PodMonitorSpec(selector map[string]string, port, interval string) monitoringv1.PodMonitorSpec {
	return monitoringv1.PodMonitorSpec{
		Selector: k8smetav1.LabelSelector{MatchLabels: selector},
		PodMetricsEndpoints: []monitoringv1.PodMetricsEndpoint{{
			Port:     &port,
			Path:     MetricsPath,
			Interval: monitoringv1.Duration(interval),
		}},
	}
}

// BuildPodMonitor returns the brokers' PodMonitor (seed podmonitor.yaml), or
// nil when monitoring is off.
func BuildPodMonitor(s *config.Spec) *apiextensions.CustomResourceArgs {
	if !s.Monitoring.Enabled {
		return nil
	}
	return customResource(s, PodMonitorKind, PodMonitorName, "monitoring", PodMonitorSpec(SelectorLabels(), MetricsPortName, ScrapeInterval))
}

// Alert is one Prometheus alerting rule.
type Alert struct {
	Name string
	Expr string
	// For is how long Expr must hold before the alert fires, in Prometheus
	// notation (5m, 30s): the alert's own, or monitoring.alertFor.
	For         string
	Severity    string
	Summary     string
	Description string
}

// PromDuration writes d in the notation Prometheus and Go both read (1h30m,
// 5m, 30s), without Go's trailing zero units (5m0s).
func PromDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var out string
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / u.unit; n > 0 {
			out += fmt.Sprintf("%d%s", n, u.name)
			d -= n * u.unit
		}
	}
	return out
}

// humanDuration writes d for a sentence: "5 minutes", "1 minute", "30 seconds";
// other lengths in Prometheus notation.
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return plural(int64(d/time.Second), "second")
	}
	return PromDuration(d)
}

// Alerts returns the alert rules, in a fixed order. Broker series are scoped to
// this namespace so another Kafka in the cluster cannot raise them. Each alert's
// `for` is its own unless monitoring.alertFor overrides them all (tests on
// real pods shorten it).
func Alerts(s *config.Spec) []Alert {
	ns := fmt.Sprintf(`namespace=%q`, s.Namespace)
	hold := func(own time.Duration) time.Duration {
		if s.Monitoring.AlertFor > 0 {
			return s.Monitoring.AlertFor
		}
		return own
	}
	underReplicated := hold(5 * time.Minute)
	alerts := []Alert{
		{Name: "KafkaUnderReplicatedPartitions", Expr: fmt.Sprintf("sum(%s) > 0", current(MetricUnderReplicated, ns)), For: PromDuration(underReplicated), Severity: "warning",
			Summary: "Kafka has under-replicated partitions", Description: fmt.Sprintf("{{ $value }} partitions have fewer in-sync replicas than their replication factor for %s.", humanDuration(underReplicated))},
		{Name: "KafkaOfflinePartitions", Expr: fmt.Sprintf("sum(%s) > 0", current(MetricOfflinePartitions, ns)), For: PromDuration(hold(time.Minute)), Severity: "critical",
			Summary: "Kafka has offline partitions", Description: "{{ $value }} partitions have no leader: producers and consumers of them are stopped."},
		{Name: "KafkaActiveControllerCount", Expr: fmt.Sprintf("sum(%s) != 1", current(MetricActiveController, ns)), For: PromDuration(hold(time.Minute)), Severity: "critical",
			Summary: "Kafka does not have exactly one active controller", Description: "{{ $value }} active controllers: the KRaft quorum has no leader or the metrics are split."},
		{Name: "KafkaUnderMinIsrPartitions", Expr: fmt.Sprintf("sum(%s) > 0", current(MetricUnderMinISR, ns)), For: PromDuration(hold(5 * time.Minute)), Severity: "critical",
			Summary: "Kafka partitions are below min.insync.replicas", Description: "{{ $value }} partitions refuse acks=all writes (NOT_ENOUGH_REPLICAS)."},
		{Name: "KafkaDiskFilling", Expr: fmt.Sprintf(`max by (persistentvolumeclaim) (%s{%s, persistentvolumeclaim=~"%s-%s-.*"} / %s{%s, persistentvolumeclaim=~"%s-%s-.*"}) * 100 > %d`,
			MetricVolumeUsedBytes, ns, DataVolumeName, StatefulSetName, MetricVolumeCapacityBytes, ns, DataVolumeName, StatefulSetName, s.Monitoring.DiskFillPercent),
			For: PromDuration(hold(10 * time.Minute)), Severity: "warning",
			Summary: "A Kafka data volume is filling up", Description: fmt.Sprintf("{{ $labels.persistentvolumeclaim }} is over %d%% full.", s.Monitoring.DiskFillPercent)},
	}
	alerts = append(alerts, Alert{
		// A group with committed offsets and no members is a consumer that
		// stopped (crashed, scaled to zero, lost its credentials); growing lag
		// means producers still write what it should read. Lag alone is not
		// enough: a live group catches up, and a stopped one whose topic gets
		// no writes loses nothing by waiting.
		Name: "KafkaConsumerGroupLagGrowingWithoutMembers",
		Expr: fmt.Sprintf("sum by (group, topic) (%s) > 0 and sum by (group, topic) (delta(%s{%s}[%s])) > 0 and on (group) sum by (group) (%s) == 0",
			current(MetricConsumerGroupLag, ns), MetricConsumerGroupLag, ns, PromDuration(LagGrowthWindow), current(MetricConsumerGroupMembers, ns)),
		For: PromDuration(hold(10 * time.Minute)), Severity: "warning",
		Summary: "A Kafka consumer group without members is falling behind",
		Description: fmt.Sprintf("Consumer group {{ $labels.group }} has no members while its lag on {{ $labels.topic }} grew over the last %s: what is produced there is not consumed.",
			humanDuration(LagGrowthWindow)),
	})
	return alerts
}

// RuleGroups renders Alerts as the PrometheusRule's spec.groups: one group,
// RuleGroupName. Every alert carries the namespace label, so a receiver can
// route by it.
func RuleGroups(s *config.Spec) []monitoringv1.RuleGroup {
	rules := []monitoringv1.Rule{}
	for _, a := range Alerts(s) {
		hold := monitoringv1.Duration(a.For)
		rules = append(rules, monitoringv1.Rule{
			Alert:       a.Name,
			Expr:        intstr.FromString(a.Expr),
			For:         &hold,
			Labels:      map[string]string{"severity": a.Severity, "namespace": s.Namespace},
			Annotations: map[string]string{"summary": a.Summary, "description": a.Description},
		})
	}
	return []monitoringv1.RuleGroup{{Name: RuleGroupName, Rules: rules}}
}

// BuildPrometheusRule returns the alert rules as a PrometheusRule, or nil when
// monitoring is off.
func BuildPrometheusRule(s *config.Spec) *apiextensions.CustomResourceArgs {
	if !s.Monitoring.Enabled {
		return nil
	}
	return customResource(s, PrometheusRuleKind, PrometheusRuleName, "monitoring", monitoringv1.PrometheusRuleSpec{Groups: RuleGroups(s)})
}

// Panel is one dashboard graph.
type Panel struct {
	Title string
	Expr  string
	Unit  string
	// Legend names each line (a Grafana legend format); empty shows the
	// series' labels.
	Legend string
}

// DashboardPanels lists the dashboard's queries, in display order.
func DashboardPanels(s *config.Spec) []Panel {
	ns := fmt.Sprintf(`namespace=%q`, s.Namespace)
	return []Panel{
		{Title: "Messages in per second, by topic", Expr: fmt.Sprintf("sum by (topic) (rate(%s{%s}[5m]))", MetricMessagesIn, ns), Unit: "ops"},
		{Title: "Bytes in per second", Expr: fmt.Sprintf("sum(rate(%s{%s}[5m]))", MetricBytesIn, ns), Unit: "Bps"},
		{Title: "Bytes out per second", Expr: fmt.Sprintf("sum(rate(%s{%s}[5m]))", MetricBytesOut, ns), Unit: "Bps"},
		{Title: "Under-replicated partitions", Expr: fmt.Sprintf("sum(%s)", current(MetricUnderReplicated, ns)), Unit: "short"},
		{Title: "Partitions under min ISR", Expr: fmt.Sprintf("sum(%s)", current(MetricUnderMinISR, ns)), Unit: "short"},
		{Title: "Offline partitions", Expr: fmt.Sprintf("sum(%s)", current(MetricOfflinePartitions, ns)), Unit: "short"},
		{Title: "Active controllers", Expr: fmt.Sprintf("sum(%s)", current(MetricActiveController, ns)), Unit: "short"},
		{Title: "Log size by topic", Expr: fmt.Sprintf("sum by (topic) (%s{%s})", MetricLogSize, ns), Unit: "bytes"},
		{Title: "Consumer lag by group and topic", Expr: fmt.Sprintf("sum by (group, topic) (%s)", current(MetricConsumerGroupLag, ns)), Unit: "short",
			Legend: "{{group}} / {{topic}}"},
	}
}

// Dashboard identity and layout.
const (
	DashboardTitle = "Umbrella streaming: Kafka"
	DashboardUID   = "umbrella-streaming-kafka"
	// DashboardFile is the ConfigMap key the Grafana sidecar loads.
	DashboardFile = "umbrella-streaming-kafka.json"
	// DatasourceVariable is the dashboard variable every query runs against,
	// so one dashboard works with whichever Prometheus data source Grafana has.
	DatasourceVariable = "datasource"
	// Panels are half the 24-column grid wide, two to a row.
	panelWidth  = 12
	panelHeight = 8
)

// Dashboard builds the Grafana dashboard with Grafana's foundation SDK: one
// time series panel per DashboardPanels entry, laid out two to a row, each
// querying the data source the DatasourceVariable picks.
func Dashboard(s *config.Spec) (dashboard.Dashboard, error) {
	ds := common.DataSourceRef{Type: ptrTo("prometheus"), Uid: ptrTo("${" + DatasourceVariable + "}")}
	b := dashboard.NewDashboardBuilder(DashboardTitle).
		Uid(DashboardUID).
		Tags([]string{"kafka", "umbrella"}).
		Time("now-6h", "now").
		Refresh("30s").
		WithVariable(dashboard.NewDatasourceVariableBuilder(DatasourceVariable).Label("Data source").Type("prometheus"))
	for i, p := range DashboardPanels(s) {
		query := prometheus.NewDataqueryBuilder().RefId("A").Expr(p.Expr).Datasource(ds)
		if p.Legend != "" {
			query = query.LegendFormat(p.Legend)
		}
		b = b.WithPanel(timeseries.NewPanelBuilder().
			Id(uint32(i + 1)).
			Title(p.Title).
			Unit(p.Unit).
			Datasource(ds).
			Height(panelHeight).
			Span(panelWidth).
			// The SDK's zero values would hide the legend and blank the
			// tooltip; these are Grafana's own defaults for a new panel.
			Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).
				DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
			Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone)).
			WithTarget(query))
	}
	return b.Build()
}

func ptrTo[T any](v T) *T { return &v }

// DashboardJSON renders the Grafana dashboard. encoding/json writes struct
// fields in declaration order and sorts map keys, so the text is identical on
// every run.
func DashboardJSON(s *config.Spec) string {
	d, err := Dashboard(s)
	if err != nil {
		panic(fmt.Sprintf("dashboard: %v", err)) // fixed panels from a validated spec
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("dashboard: %v", err))
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
		Data: pulumi.StringMap{DashboardFile: pulumi.String(DashboardJSON(s))},
	}
}
