package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
)

// With monitoring, `pulumi up` creates the lag exporter: a LagExporter
// component holding its Deployment (after the brokers), PodMonitor and
// NetworkPolicy; plaintext on dev, with its own credentials on prod.
func TestLagExporterIsDeployed(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			rec, err := run(t, stack, stackConfig(t, stack), nil)
			require.NoError(t, err)
			require.Len(t, rec.byType(components.LagExporterType), 1)
			dep := rec.one(t, "kubernetes:apps/v1:Deployment", "kafka-lag-exporter")
			assert.Equal(t, "kafka-lag-exporter", dep.Parent)
			assert.Contains(t, dep.Deps, "kafka", "the exporter starts after the broker StatefulSet")
			pm := rec.one(t, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "kafka-lag-exporter-podmonitor")
			assert.Equal(t, "kafka-lag-exporter", pm.Parent)
			np := rec.one(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "kafka-lag-exporter-policy")
			assert.Equal(t, "kafka-lag-exporter", np.Parent)

			spec := dep.Inputs["spec"].ObjectValue()
			assert.Equal(t, 1.0, spec["replicas"].NumberValue())
			c := spec["template"].ObjectValue()["spec"].ObjectValue()["containers"].ArrayValue()[0].ObjectValue()
			assert.Equal(t, []any{"/kafka-lag-exporter"}, c["command"].Mappable())
			want := []any{"--bootstrap", "kafka.umbrella-streaming.svc.cluster.local:9092", "--listen", ":9308", "--interval", "15s"}
			if stack == "prod" {
				want = append(want, "--credentials", "/etc/kafka-credentials")
				// Its Secret, user and ACLs come from ServiceAccess, before it.
				for _, d := range []string{"credentials-lag-exporter", "user-lag-exporter",
					"acl-lag-exporter-describe-group-literal-*", "acl-lag-exporter-describe-topic-literal-*"} {
					assert.Contains(t, dep.Deps, d, "the exporter waits for its credentials and ACLs")
				}
				assert.Equal(t, "service-access", rec.one(t, "kubernetes:core/v1:Secret", "credentials-lag-exporter").Parent)
				assert.Equal(t, "service-access", rec.one(t, "umbrellakafka:index:UserScramCredential", "user-lag-exporter").Parent)
				var acls []string
				for _, a := range rec.byType("umbrellakafka:index:Acl") {
					if a.Inputs["aclPrincipal"].StringValue() == "User:lag-exporter" {
						acls = append(acls, a.Inputs["aclOperation"].StringValue()+" "+a.Inputs["aclResourceType"].StringValue()+" "+
							a.Inputs["aclResourceName"].StringValue()+" "+a.Inputs["resourcePatternTypeFilter"].StringValue())
					}
				}
				assert.ElementsMatch(t, []string{"Describe Group * Literal", "Describe Topic * Literal"}, acls, "Describe on every group and topic, nothing else")
			} else {
				assert.Empty(t, rec.byType("umbrellakafka:index:UserScramCredential"), "plaintext: no users at all")
			}
			assert.Equal(t, want, c["args"].Mappable())
		})
	}
}

// Without monitoring the component is there and empty: no exporter, no
// PodMonitor, no policy.
func TestLagExporterOffWithoutMonitoring(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["umbrella-streaming:monitoring"] = `{"enabled": false}`
	rec, err := run(t, "dev", cfg, nil)
	require.NoError(t, err)
	require.Len(t, rec.byType(components.LagExporterType), 1)
	assert.Empty(t, rec.byType("kubernetes:apps/v1:Deployment"))
	assert.Empty(t, rec.byType("kubernetes:monitoring.coreos.com/v1:PodMonitor"))
	require.Len(t, rec.byType("kubernetes:networking.k8s.io/v1:NetworkPolicy"), 1, "the broker policy only")
}
