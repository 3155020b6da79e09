package components

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

func TestMonitoringOffRemovesAgentPortAndObjects(t *testing.T) {
	s := spec(t, 1, 1, func(r *config.Raw) { r.Monitoring = &config.RawMonitoring{Enabled: ptr(false)} })
	c := container(t, s)
	assert.Len(t, c.Ports.(corev1.ContainerPortArray), 2)
	assert.Len(t, c.Env.(corev1.EnvVarArray), 3)
	assert.Nil(t, podSpec(t, s).InitContainers)
	assert.Equal(t, pulumi.String("client"), c.LivenessProbe.(*corev1.ProbeArgs).TcpSocket.(*corev1.TCPSocketActionArgs).Port, "without the agent, liveness falls back to the client port")
	assert.Nil(t, BuildPodMonitor(s))
	assert.Nil(t, BuildPrometheusRule(s))
	assert.Nil(t, BuildDashboard(s))
	assert.Len(t, NetworkPolicyRules(s), 4, "no metrics rule without monitoring")
}

// specOf is a custom resource's spec as the API server receives it: the JSON
// of the untyped value.
func specOf(t *testing.T, other any) string {
	t.Helper()
	b, err := json.Marshal(other.(kubernetes.UntypedArgs)["spec"])
	require.NoError(t, err)
	return string(b)
}

// The typed PodMonitor renders exactly the seed's podmonitor.yaml spec: the
// operator's by-value fields (namespaceSelector, bearerTokenSecret) do not
// leak into it as empty objects.
func TestPodMonitorFromOperatorTypes(t *testing.T) {
	pm := BuildPodMonitor(spec(t, 1, 1))
	require.NotNil(t, pm)
	assert.Equal(t, pulumi.String("monitoring.coreos.com/v1"), pm.ApiVersion)
	assert.Equal(t, pulumi.String("PodMonitor"), pm.Kind)
	assert.JSONEq(t, `{
		"selector": {"matchLabels": {"app.kubernetes.io/instance": "umbrella-streaming", "app.kubernetes.io/name": "kafka"}},
		"podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
	}`, specOf(t, pm.OtherFields))
}

func TestPrometheusRuleFromOperatorTypes(t *testing.T) {
	s := spec(t, 3, 3)
	pr := BuildPrometheusRule(s)
	require.NotNil(t, pr)
	assert.Equal(t, pulumi.String("PrometheusRule"), pr.Kind)
	var got struct {
		Groups []struct {
			Name  string           `json:"name"`
			Rules []map[string]any `json:"rules"`
		} `json:"groups"`
	}
	require.NoError(t, json.Unmarshal([]byte(specOf(t, pr.OtherFields)), &got))
	require.Len(t, got.Groups, 1)
	assert.Equal(t, "umbrella-streaming.kafka", got.Groups[0].Name)
	alerts := Alerts(s)
	require.Len(t, got.Groups[0].Rules, len(alerts))
	assert.Equal(t, map[string]any{
		"alert": "KafkaActiveControllerCount",
		"expr": `sum(kafka_controller_kafkacontroller_activecontrollercount{namespace="umbrella-streaming"}` +
			` and (time() - timestamp(kafka_controller_kafkacontroller_activecontrollercount{namespace="umbrella-streaming"}) < 60)) != 1`,
		"for":    "1m",
		"labels": map[string]any{"severity": "critical", "namespace": "umbrella-streaming"},
		"annotations": map[string]any{"summary": "Kafka does not have exactly one active controller",
			"description": "{{ $value }} active controllers: the KRaft quorum has no leader or the metrics are split."},
	}, got.Groups[0].Rules[2])
	for i, a := range alerts {
		assert.Equal(t, a.Name, got.Groups[0].Rules[i]["alert"])
		assert.Equal(t, a.Expr, got.Groups[0].Rules[i]["expr"])
		assert.Equal(t, a.For, got.Groups[0].Rules[i]["for"])
	}
	assert.Equal(t, specOf(t, pr.OtherFields), specOf(t, BuildPrometheusRule(s).OtherFields), "deterministic")
}

func TestAlertsAndDashboardUseExportedMetrics(t *testing.T) {
	s := spec(t, 3, 3)
	var names, holds []string
	for _, a := range Alerts(s) {
		names, holds = append(names, a.Name), append(holds, a.For)
	}
	assert.Equal(t, []string{"KafkaUnderReplicatedPartitions", "KafkaOfflinePartitions", "KafkaActiveControllerCount", "KafkaUnderMinIsrPartitions", "KafkaDiskFilling",
		"KafkaConsumerGroupLagGrowingWithoutMembers"}, names)
	assert.Equal(t, []string{"5m", "1m", "1m", "5m", "10m", "10m"}, holds)
	// Only samples of the last two scrapes count (promtool proves the
	// lingering case in tests/monitoring; this pins the rendering).
	assert.Equal(t, `sum(kafka_controller_kafkacontroller_activecontrollercount{namespace="umbrella-streaming"}`+
		` and (time() - timestamp(kafka_controller_kafkacontroller_activecontrollercount{namespace="umbrella-streaming"}) < 60)) != 1`, Alerts(s)[2].Expr)
	assert.Contains(t, Alerts(s)[4].Expr, "* 100 > 80")
	assert.Equal(t, "{{ $value }} partitions have fewer in-sync replicas than their replication factor for 5 minutes.", Alerts(s)[0].Description)
	// promtool proves what the lag expression means (tests/monitoring); this
	// pins the series it reads and its namespace scope.
	lag, members := `umbrella_consumergroup_lag{namespace="umbrella-streaming"}`, `umbrella_consumergroup_members{namespace="umbrella-streaming"}`
	assert.Equal(t, `sum by (group, topic) (`+lag+` and (time() - timestamp(`+lag+`) < 60)) > 0`+
		` and sum by (group, topic) (delta(`+lag+`[5m])) > 0`+
		` and on (group) sum by (group) (`+members+` and (time() - timestamp(`+members+`) < 60)) == 0`, Alerts(s)[5].Expr)
	panels := DashboardPanels(s)
	assert.Equal(t, Panel{Title: "Consumer lag by group and topic", Expr: `sum by (group, topic) (` + lag + ` and (time() - timestamp(` + lag + `) < 60))`,
		Unit: "short", Legend: "{{group}} / {{topic}}"}, panels[len(panels)-1])
}

// monitoring.alertFor replaces every alert's own `for` (a live test needs
// alerts that fire within a minute), and the texts that name it follow.
func TestAlertForOverridesEveryAlert(t *testing.T) {
	s := spec(t, 1, 1, func(r *config.Raw) {
		r.Monitoring = &config.RawMonitoring{AlertFor: ptr("30s"), DiskFillPercent: ptr(5)}
	})
	assert.Equal(t, 30*time.Second, s.Monitoring.AlertFor)
	for _, a := range Alerts(s) {
		assert.Equal(t, "30s", a.For, a.Name)
	}
	assert.Equal(t, "{{ $value }} partitions have fewer in-sync replicas than their replication factor for 30 seconds.", Alerts(s)[0].Description)
	assert.Contains(t, Alerts(s)[4].Expr, "* 100 > 5")
}

func TestPromDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 30 * time.Second: "30s", 5 * time.Minute: "5m", 90 * time.Minute: "1h30m",
		time.Hour + time.Second: "1h1s", 1500 * time.Millisecond: "1s500ms",
	} {
		assert.Equal(t, want, PromDuration(d), d.String())
	}
}

// The dashboard comes from Grafana's SDK: one time series panel per
// DashboardPanels entry, two to a row, every query on the data source variable.
func TestDashboardFromGrafanaSDK(t *testing.T) {
	s := spec(t, 3, 3)
	text := DashboardJSON(s)
	assert.Equal(t, text, DashboardJSON(s), "deterministic")
	var d struct {
		UID        string   `json:"uid"`
		Title      string   `json:"title"`
		Tags       []string `json:"tags"`
		Refresh    string   `json:"refresh"`
		Time       struct{ From, To string }
		Templating struct {
			List []struct{ Name, Type, Label, Query string }
		}
		Panels []struct {
			ID          int    `json:"id"`
			Type        string `json:"type"`
			Title       string `json:"title"`
			Datasource  struct{ Type, UID string }
			GridPos     struct{ H, W, X, Y int }
			FieldConfig struct {
				Defaults struct{ Unit string }
			}
			Options struct {
				Legend  struct{ ShowLegend bool }
				Tooltip struct{ Mode string }
			}
			Targets []struct {
				RefID        string `json:"refId"`
				Expr         string `json:"expr"`
				LegendFormat string `json:"legendFormat"`
				Datasource   struct{ Type, UID string }
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(text), &d))
	assert.Equal(t, "umbrella-streaming-kafka", d.UID)
	assert.Equal(t, "Umbrella streaming: Kafka", d.Title)
	assert.Equal(t, []string{"kafka", "umbrella"}, d.Tags)
	assert.Equal(t, "30s", d.Refresh)
	assert.Equal(t, "now-6h", d.Time.From)
	require.Len(t, d.Templating.List, 1)
	assert.Equal(t, "datasource", d.Templating.List[0].Name)
	assert.Equal(t, "datasource", d.Templating.List[0].Type)
	assert.Equal(t, "prometheus", d.Templating.List[0].Query)
	assert.Equal(t, "Data source", d.Templating.List[0].Label)
	panels := DashboardPanels(s)
	require.Len(t, d.Panels, len(panels))
	for i, p := range panels {
		got := d.Panels[i]
		assert.Equal(t, i+1, got.ID)
		assert.Equal(t, "timeseries", got.Type)
		assert.Equal(t, p.Title, got.Title)
		assert.Equal(t, p.Unit, got.FieldConfig.Defaults.Unit, p.Title)
		assert.True(t, got.Options.Legend.ShowLegend, "%s: a by-topic panel needs its legend", p.Title)
		assert.Equal(t, "single", got.Options.Tooltip.Mode, p.Title)
		assert.Equal(t, struct{ H, W, X, Y int }{8, 12, (i % 2) * 12, (i / 2) * 8}, got.GridPos, p.Title)
		assert.Equal(t, struct{ Type, UID string }{"prometheus", "${datasource}"}, got.Datasource)
		require.Len(t, got.Targets, 1)
		assert.Equal(t, "A", got.Targets[0].RefID)
		assert.Equal(t, p.Expr, got.Targets[0].Expr)
		assert.Equal(t, p.Legend, got.Targets[0].LegendFormat)
		assert.Equal(t, struct{ Type, UID string }{"prometheus", "${datasource}"}, got.Targets[0].Datasource)
	}
	assert.Equal(t, `sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesin_total{namespace="umbrella-streaming"}[5m]))`, d.Panels[0].Targets[0].Expr)

	cm := BuildDashboard(s)
	require.NotNil(t, cm)
	assert.Equal(t, pulumi.String(text), cm.Data.(pulumi.StringMap)["umbrella-streaming-kafka.json"])
}
