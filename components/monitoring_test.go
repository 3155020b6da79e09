package components

import (
	"testing"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"

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

func TestAlertsAndDashboardUseExportedMetrics(t *testing.T) {
	s := spec(t, 3, 3)
	var names []string
	for _, a := range Alerts(s) {
		names = append(names, a.Name)
	}
	assert.Equal(t, []string{"KafkaUnderReplicatedPartitions", "KafkaOfflinePartitions", "KafkaActiveControllerCount", "KafkaUnderMinIsrPartitions", "KafkaDiskFilling"}, names)
	assert.Equal(t, `sum(kafka_controller_kafkacontroller_activecontrollercount{namespace="umbrella-streaming"}) != 1`, Alerts(s)[2].Expr)
	assert.Contains(t, Alerts(s)[4].Expr, "* 100 > 80")
	assert.Equal(t, DashboardJSON(s), DashboardJSON(s), "deterministic")
	assert.Contains(t, DashboardJSON(s), `"expr": "sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesin_total{namespace=\"umbrella-streaming\"}[5m]))"`)
}
