package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The quorum's form (static or dynamic, and which controllers formatted the
// cluster) comes from what the last deployment recorded, and a change of
// controllers is wired around the StatefulSet. The same story on real Kafka
// is in provider/voter_changes_realkafka_test.go, on real pods in tests/realnode.

// withQuorum adds a quorum record to a deployed stack's outputs.
func withQuorum(m resource.PropertyMap, rec map[string]any) resource.PropertyMap {
	m["quorum"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(rec))
	return m
}

// withControllers sets the recorded controllers of a deployed stack.
func withControllers(m resource.PropertyMap, n string) resource.PropertyMap {
	m["guarded"].ObjectValue()["controllers"] = resource.NewStringProperty(n)
	return m
}

func configMapData(t *testing.T, rec *recorder) resource.PropertyMap {
	return rec.one(t, "kubernetes:core/v1:ConfigMap", "kafka-config").Inputs["data"].ObjectValue()
}

func TestNewStackRecordsADynamicQuorum(t *testing.T) {
	rec, err := run(t, "prod", stackConfig(t, "prod"), nil)
	require.NoError(t, err)
	shrink := rec.one(t, "umbrellakafka:index:KraftQuorum", "quorum-shrink")
	grow := rec.one(t, "umbrellakafka:index:KraftQuorum", "quorum-grow")
	for _, q := range []registered{shrink, grow} {
		var voters []float64
		for _, v := range q.Inputs["voters"].ArrayValue() {
			voters = append(voters, v.NumberValue())
		}
		assert.Equal(t, []float64{0, 1, 2}, voters, q.Name)
		assert.Equal(t, "kafka-2.kafka-headless.umbrella-streaming.svc:9093",
			q.Inputs["controllerEndpoints"].ObjectValue()["2"].StringValue(), q.Name)
		assert.Equal(t, "CONTROLLER", q.Inputs["controllerListener"].StringValue(), q.Name)
	}
	assert.Equal(t, "shrink", shrink.Inputs["mode"].StringValue())
	assert.False(t, shrink.Inputs["enableDynamic"].BoolValue(), "a new cluster is formatted dynamic")
	assert.Equal(t, "grow", grow.Inputs["mode"].StringValue())
	assert.Contains(t, rec.one(t, "kubernetes:apps/v1:StatefulSet", "kafka").Deps, "quorum-shrink",
		"voters leave before the nodes roll")
	assert.Contains(t, grow.Deps, "kafka", "voters join after the nodes roll")
}

// A stack deployed before the record existed ran the static quorum; it keeps
// it, byte for byte, while controllers stay.
func TestDeployedStaticStackKeepsItsQuorum(t *testing.T) {
	rec, err := run(t, "prod", stackConfig(t, "prod"), deployedProd("3"))
	require.NoError(t, err)
	data := configMapData(t, rec)
	assert.Contains(t, data["node-0.properties"].StringValue(), "\ncontroller.quorum.voters=0@kafka-0.")
	assert.Empty(t, data["node-0.format"].StringValue(), "a static quorum formats without flags")
	assert.Empty(t, rec.byType("umbrellakafka:index:KraftQuorum"), "nothing changes a static quorum's voters")
}

// Raising controllers on a static stack migrates it in the same update: the
// shrink finalizes kraft.version 1 before the roll, the nodes roll to the
// dynamic form, and a node formatted from now on joins as an observer.
func TestRaisingControllersOnAStaticStackMigratesIt(t *testing.T) {
	rec, err := run(t, "prod", stackConfig(t, "prod"), withControllers(deployedProd("3"), "1"))
	require.NoError(t, err)
	data := configMapData(t, rec)
	for i := range 3 {
		node := data[resource.PropertyKey("node-"+string(rune('0'+i))+".properties")].StringValue()
		assert.Contains(t, node, "\ncontroller.quorum.bootstrap.servers=kafka-0.", "node %d", i)
		assert.Contains(t, node, "\nprocess.roles=broker,controller\n", "node %d", i)
		assert.Equal(t, "--no-initial-controllers\n", data[resource.PropertyKey("node-"+string(rune('0'+i))+".format")].StringValue(),
			"node %d: the cluster exists, so no node formats as a voter", i)
	}
	assert.True(t, rec.one(t, "umbrellakafka:index:KraftQuorum", "quorum-shrink").Inputs["enableDynamic"].BoolValue())
	rec.one(t, "umbrellakafka:index:KraftQuorum", "quorum-grow")
}

// A stack created with one controller keeps node 0 as its only bootstrap
// voter when it grows: the controllers added later format as observers.
func TestGrowingADynamicStackFormatsNewControllersAsObservers(t *testing.T) {
	prev := withQuorum(withControllers(deployedProd("3"), "1"), map[string]any{"mode": "dynamic", "bootstrapControllers": "1"})
	rec, err := run(t, "prod", stackConfig(t, "prod"), prev)
	require.NoError(t, err)
	data := configMapData(t, rec)
	assert.Equal(t, "--standalone\n", data["node-0.format"].StringValue())
	assert.Equal(t, "--no-initial-controllers\n", data["node-1.format"].StringValue())
	assert.Equal(t, "--no-initial-controllers\n", data["node-2.format"].StringValue())
}

// With the topic Job the program cannot reach Kafka, so a change of
// controllers stays refused, with the runbook.
func TestControllersChangeWithTheTopicJobIsRefused(t *testing.T) {
	rec, err := run(t, "prod", jobProd(t), withControllers(deployedJobProd("3"), "1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `controllers changed from "1" to "3" on a deployed stack: with topics.manager = job`)
	assert.Contains(t, err.Error(), "kafka-metadata-quorum add-controller/remove-controller")
	assert.Empty(t, rec.byType("kubernetes:apps/v1:StatefulSet"), "nothing is registered after a refusal")
	assert.Empty(t, rec.byType("umbrellakafka:index:KraftQuorum"))

	// The operator who changed the quorum by hand lets it through once.
	cfg := jobProd(t)
	cfg["umbrella-streaming:guardOverrides"] = `["controllers"]`
	_, err = run(t, "prod", cfg, withControllers(deployedJobProd("3"), "1"))
	require.NoError(t, err)
}
