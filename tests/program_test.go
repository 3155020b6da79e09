package tests

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config/cases"
	"github.com/umbrella-platform/umbrella-streaming/program"
)

func run(t *testing.T, stack string, cfg map[string]string, prev resource.PropertyMap) (*recorder, error) {
	t.Helper()
	setConfig(t, cfg)
	rec := &recorder{previousOutputs: prev}
	err := pulumi.RunErr(program.Run, pulumi.WithMocks("umbrella-streaming", stack, rec))
	return rec, err
}

func TestDevStackShape(t *testing.T) {
	rec, err := run(t, "dev", stackConfig(t, "dev"), nil)
	require.NoError(t, err)

	// Components and their children, with parents.
	assert.Len(t, rec.byType("umbrella:streaming:Namespace"), 1)
	assert.Equal(t, "umbrella-streaming", rec.one(t, "kubernetes:core/v1:Namespace", "umbrella-streaming").Parent)
	assert.Equal(t, "kafka", rec.one(t, "kubernetes:apps/v1:StatefulSet", "kafka").Parent)
	assert.Equal(t, "kafka", rec.one(t, "kubernetes:core/v1:ConfigMap", "kafka-config").Parent)
	assert.Equal(t, "kafka", rec.one(t, "kubernetes:core/v1:Service", "kafka-headless").Parent)
	assert.Equal(t, "kafka", rec.one(t, "kubernetes:core/v1:Service", "kafka-client").Parent)
	assert.Equal(t, "kafka-policy", rec.one(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "kafka-policy").Parent)
	assert.Equal(t, "kafka-monitoring", rec.one(t, "kubernetes:monitoring.coreos.com/v1:PodMonitor", "kafka-monitoring-podmonitor").Parent)
	assert.Equal(t, "kafka-monitoring", rec.one(t, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "kafka-monitoring-rules").Parent)
	assert.Empty(t, rec.byType("kubernetes:policy/v1:PodDisruptionBudget"), "no PDB for one broker")
	assert.Empty(t, rec.byType("docker:index/image:Image"), "image build is off in dev")
	assert.Empty(t, rec.byType("kubernetes:batch/v1:Job"), "provider manages topics in dev")

	sts := rec.one(t, "kubernetes:apps/v1:StatefulSet", "kafka").Inputs
	assert.Equal(t, 1.0, sts["spec"].ObjectValue()["replicas"].NumberValue())
	assert.Equal(t, "kafka", sts["metadata"].ObjectValue()["name"].StringValue())
	assert.Equal(t, "umbrella-streaming", sts["metadata"].ObjectValue()["namespace"].StringValue())
	pvc := sts["spec"].ObjectValue()["volumeClaimTemplates"].ArrayValue()[0].ObjectValue()
	assert.Equal(t, "10Gi", pvc["spec"].ObjectValue()["resources"].ObjectValue()["requests"].ObjectValue()["storage"].StringValue())

	cm := rec.one(t, "kubernetes:core/v1:ConfigMap", "kafka-config").Inputs["data"].ObjectValue()
	assert.Contains(t, cm["node-0.properties"].StringValue(), "controller.quorum.bootstrap.servers=kafka-0.kafka-headless.umbrella-streaming.svc:9093\n",
		"a new stack's quorum is dynamic")
	assert.NotContains(t, cm["node-0.properties"].StringValue(), "controller.quorum.voters")
	assert.Equal(t, "--standalone\n", cm["node-0.format"].StringValue(), "the only controller is the new quorum's voter")
	assert.NotContains(t, cm, resource.PropertyKey("node-1.properties"))
	assert.Equal(t, "5BlkQlAaBVX6rb9uzmmt7w", cm["cluster.id"].StringValue())

	topics := rec.byType("umbrellakafka:index:Topic")
	require.Len(t, topics, 7)
	for _, tp := range topics {
		assert.Equal(t, "topics", tp.Parent)
		assert.Equal(t, 1.0, tp.Inputs["partitions"].NumberValue(), tp.Name)
		assert.Equal(t, 1.0, tp.Inputs["replicationFactor"].NumberValue(), tp.Name)
		assert.Equal(t, tp.Name, tp.Inputs["name"].StringValue())
	}
	prov := rec.one(t, "pulumi:providers:umbrellakafka", "kafka-admin")
	assert.Equal(t, []any{"kafka.umbrella-streaming.svc.cluster.local:9092"}, prov.Inputs["bootstrapServers"].Mappable())
	assert.Equal(t, "umbrella-streaming", prov.Inputs["kubernetes"].ObjectValue()["namespace"].StringValue(), "dev reaches the brokers through the Kubernetes API")
}

func TestProdStackShape(t *testing.T) {
	rec, err := run(t, "prod", stackConfig(t, "prod"), nil)
	require.NoError(t, err)
	sts := rec.one(t, "kubernetes:apps/v1:StatefulSet", "kafka").Inputs["spec"].ObjectValue()
	assert.Equal(t, 3.0, sts["replicas"].NumberValue())
	pvc := sts["volumeClaimTemplates"].ArrayValue()[0].ObjectValue()
	assert.Equal(t, "100Gi", pvc["spec"].ObjectValue()["resources"].ObjectValue()["requests"].ObjectValue()["storage"].StringValue())
	spread := sts["template"].ObjectValue()["spec"].ObjectValue()["topologySpreadConstraints"].ArrayValue()
	require.Len(t, spread, 1)
	assert.Equal(t, "DoNotSchedule", spread[0].ObjectValue()["whenUnsatisfiable"].StringValue())

	pdb := rec.one(t, "kubernetes:policy/v1:PodDisruptionBudget", "kafka-pdb")
	assert.Equal(t, "kafka", pdb.Parent)
	assert.Equal(t, 1.0, pdb.Inputs["spec"].ObjectValue()["maxUnavailable"].NumberValue())

	cm := rec.one(t, "kubernetes:core/v1:ConfigMap", "kafka-config").Inputs["data"].ObjectValue()
	quorum := "controller.quorum.bootstrap.servers=kafka-0.kafka-headless.umbrella-streaming.svc:9093,kafka-1.kafka-headless.umbrella-streaming.svc:9093,kafka-2.kafka-headless.umbrella-streaming.svc:9093\n"
	for i := 0; i < 3; i++ {
		node := cm[resource.PropertyKey("node-"+string(rune('0'+i))+".properties")].StringValue()
		assert.Contains(t, node, quorum)
		assert.True(t, strings.HasPrefix(cm[resource.PropertyKey("node-"+string(rune('0'+i))+".format")].StringValue(),
			"--initial-controllers\n0@kafka-0.kafka-headless.umbrella-streaming.svc:9093:"), "the three controllers are the new quorum's voters")
		assert.Contains(t, node, "node.id="+string(rune('0'+i))+"\n")
		assert.Contains(t, node, "min.insync.replicas=2\n")
	}
	for _, tp := range rec.byType("umbrellakafka:index:Topic") {
		assert.Equal(t, 3.0, tp.Inputs["replicationFactor"].NumberValue(), tp.Name)
		assert.Equal(t, 3.0, tp.Inputs["partitions"].NumberValue(), tp.Name)
	}
	prov := rec.one(t, "pulumi:providers:umbrellakafka", "kafka-admin")
	assert.Equal(t, true, prov.Inputs["protectTopics"].Mappable())
	assert.Equal(t, false, prov.Inputs["allowReplace"].Mappable())
	assert.Equal(t, []any{"kafka-headless.umbrella-streaming.svc.cluster.local:9094"}, prov.Inputs["bootstrapServers"].Mappable(),
		"secure prod: the deployer's mTLS listener (TestProdStackIsSecure)")
	assert.Equal(t, true, prov.Inputs["tlsEnabled"].Mappable())
}

func TestJobManagerRegistersScriptsAndJob(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["umbrella-streaming:topics"] = `{"manager":"job"}`
	rec, err := run(t, "dev", cfg, nil)
	require.NoError(t, err)
	assert.Empty(t, rec.byType("umbrellakafka:index:Topic"))
	jobs := rec.byType("kubernetes:batch/v1:Job")
	require.Len(t, jobs, 1)
	assert.Equal(t, "topics", jobs[0].Parent)
	scripts := rec.one(t, "kubernetes:core/v1:ConfigMap", "topics-scripts").Inputs["data"].ObjectValue()
	assert.Contains(t, scripts["topics.txt"].StringValue(), "\nraw-messages 1 1\n")
	assert.Contains(t, scripts["create-topics.sh"].StringValue(), "--if-not-exists")
}

func TestImageBuildRegistersDockerImage(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["umbrella-streaming:image"] = `{"build":true,"buildName":"registry.example/umbrella/kafka:1"}`
	rec, err := run(t, "dev", cfg, nil)
	require.NoError(t, err)
	img := rec.one(t, "docker:index/image:Image", "kafka-image")
	assert.Equal(t, "kafka-image", img.Parent)
	assert.Equal(t, "registry.example/umbrella/kafka:1", img.Inputs["imageName"].StringValue())
	assert.Equal(t, "infrastructure/kafka", img.Inputs["build"].ObjectValue()["context"].StringValue())
}

// Every case of the bad-config table (config/cases), run through the program as
// its stack file: refused with the case's message, and nothing but the stack
// registered.
func TestEveryBadConfigRegistersNothing(t *testing.T) {
	for _, c := range append(append([]cases.Case{}, cases.BadAccess...), cases.Bad...) {
		t.Run(c.Name, func(t *testing.T) {
			cfg := map[string]string{}
			for k, v := range c.StackConfig() {
				cfg["umbrella-streaming:"+k] = v
			}
			rec, err := run(t, "dev", cfg, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.Want)
			for _, r := range rec.resources {
				assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "nothing but the stack may be registered, got %s %s", r.Type, r.Name)
			}
		})
	}
}

// The Go language host's path: the program lists the stack's keys from
// PULUMI_CONFIG (set here as the host sets it) and refuses a misspelt one
// before registering anything; other namespaces' keys are not its business.
func TestUnknownKeyRegistersNothing(t *testing.T) {
	cfg := stackConfig(t, "dev")
	cfg["umbrella-streaming:brokrs"] = "3"
	cfg["kubernetes:context"] = "kind-umbrella"
	rec, err := run(t, "dev", cfg, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `brokrs = "3": is not a config key of umbrella-streaming, so nothing would read it (keys: `)
	assert.Contains(t, err.Error(), "); rename it to brokers")
	assert.NotContains(t, err.Error(), "context")
	for _, r := range rec.resources {
		assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "nothing but the stack may be registered, got %s %s", r.Type, r.Name)
	}
}

// The inline path: a runner that lists the keys itself (internal/deploy)
// passes them in Options.ConfigKeys, which the program uses instead of
// PULUMI_CONFIG.
func TestConfigKeysOptionListsTheKeys(t *testing.T) {
	cfg := stackConfig(t, "dev")
	setConfig(t, cfg)
	keys := []string{"umbrella-streaming:topicOverides"}
	for k := range cfg {
		keys = append(keys, k)
	}
	err := pulumi.RunErr(program.RunWith(program.Options{ConfigKeys: keys}), pulumi.WithMocks("umbrella-streaming", "dev", &recorder{}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `topicOverides = "": is not a config key of umbrella-streaming`)
	assert.Contains(t, err.Error(), "); rename it to topicOverrides")
}

// A warning (config.Warnings) never refuses: the stack deploys. (The mock engine
// drops log messages: internal/deploy TestRiskySettingIsWarnedInThePreview reads
// the warning in a real preview.)
func TestRiskySettingDeploys(t *testing.T) {
	cfg := stackConfig(t, "prod")
	cfg["umbrella-streaming:topicOverrides"] = `{"alerts":{"config":{"min.insync.replicas":"3"}}}`
	rec, err := run(t, "prod", cfg, nil)
	require.NoError(t, err)
	assert.Len(t, rec.byType("umbrellakafka:index:Topic"), 7)
}

func TestGuardRefusesStorageAndClusterIDChanges(t *testing.T) {
	prev := resource.NewPropertyMapFromMap(map[string]any{"guarded": map[string]any{
		"clusterId": "5BlkQlAaBVX6rb9uzmmt7w", "controllers": "3", "storage.size": "50Gi", "storage.storageClass": "", "security.mode": "sasl-scram",
	}})
	_, err := run(t, "prod", stackConfig(t, "prod"), prev)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `clusterId changed from "5BlkQlAaBVX6rb9uzmmt7w" to "MjPBEhmLSH-4IwmCODRzPg"`)
	assert.Contains(t, err.Error(), `storage.size changed from "50Gi" to "100Gi" on a deployed stack`)
	assert.Contains(t, err.Error(), "delete statefulset kafka --cascade=orphan")

	same := resource.NewPropertyMapFromMap(map[string]any{"guarded": map[string]any{
		"clusterId": "MjPBEhmLSH-4IwmCODRzPg", "controllers": "3", "storage.size": "100Gi", "storage.storageClass": "", "security.mode": "sasl-scram",
	}})
	_, err = run(t, "prod", stackConfig(t, "prod"), same)
	require.NoError(t, err, "an unchanged guard passes")
}

// Kafka 4.1 ignores a changed min.insync.replicas in server.properties once the
// cluster exists (tests/realkafka pins it), so the change must not pass silently.
func TestGuardRefusesMinISRChange(t *testing.T) {
	prev := resource.NewPropertyMapFromMap(map[string]any{"guarded": map[string]any{
		"broker.minInsyncReplicas": "1", "clusterId": "MjPBEhmLSH-4IwmCODRzPg", "controllers": "3", "storage.size": "100Gi", "storage.storageClass": "", "security.mode": "sasl-scram",
	}})
	_, err := run(t, "prod", stackConfig(t, "prod"), prev)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `broker.minInsyncReplicas changed from "1" to "2" on a deployed stack: Kafka 4.1 keeps min.insync.replicas as a cluster-wide dynamic default`)
	assert.Contains(t, err.Error(), "--entity-type brokers --entity-default --add-config min.insync.replicas=<n>")
}
