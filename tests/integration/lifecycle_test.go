//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// jobTopics keeps these tests to Kubernetes: topics go through the in-cluster Job
// (which kwok completes); the provider path runs against real Kafka elsewhere.
var jobTopics = map[string]string{"topics": `{"manager":"job"}`}

func noChanges(t *testing.T, summary map[string]int, what string) {
	t.Helper()
	for op, n := range summary {
		// "read" is the guard's StackReference, read on every run; it changes nothing.
		if op != "same" && op != "read" {
			assert.Zero(t, n, "%s: %d %s step(s), want none: %v", what, n, op, summary)
		}
	}
}

func replaceSteps(summary map[apitype.OpType]int) int {
	return summary[apitype.OpReplace] + summary[apitype.OpCreateReplacement] + summary[apitype.OpDeleteReplaced]
}

func TestDevStackLifecycle(t *testing.T) {
	ownNamespace(t)
	ctx := harness.Context(t, 15*time.Minute)
	state := t.TempDir()
	st := openStack(t, ctx, "dev", state, jobTopics)

	up, err := st.Up(ctx)
	require.NoError(t, err, "dev up")
	assert.Equal(t, "kafka.umbrella-streaming.svc.cluster.local:9092", up.Outputs["bootstrap"].Value)
	assert.Equal(t, "umbrella-streaming", up.Outputs["namespace"].Value)

	t.Run("objects in the API server", func(t *testing.T) {
		ns := getJSON(t, "namespace", "umbrella-streaming")
		assert.Equal(t, "restricted", path(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce"))

		cm := getJSON(t, "-n", "umbrella-streaming", "configmap", "kafka-config")
		assert.Contains(t, path(cm, "data", "node-0.properties"), "controller.quorum.bootstrap.servers=kafka-0.kafka-headless.umbrella-streaming.svc:9093\n")
		assert.Equal(t, "--standalone\n", path(cm, "data", "node-0.format"), "a new stack's one controller bootstraps a dynamic quorum")
		assert.Equal(t, map[string]any{"mode": "dynamic", "bootstrapControllers": "1"}, up.Outputs["quorum"].Value)
		assert.Nil(t, path(cm, "data", "node-1.properties"))

		sts := getJSON(t, "-n", "umbrella-streaming", "statefulset", "kafka")
		assert.EqualValues(t, 1, path(sts, "spec", "replicas"))
		assert.Equal(t, "Parallel", path(sts, "spec", "podManagementPolicy"))
		assert.Equal(t, "Retain", path(sts, "spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"))
		assert.Equal(t, "Retain", path(sts, "spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"))
		c := path(sts, "spec", "template", "spec", "containers", 0)
		assert.Equal(t, "registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1", path(c, "image"))
		assert.Equal(t, []any{"/bin/bash", "/opt/umbrella/config/start.sh"}, path(c, "command"))
		var env []string
		for _, e := range path(c, "env").([]any) {
			env = append(env, path(e, "name").(string))
		}
		assert.Equal(t, []string{"CLUSTER_ID", "JMX_AGENT_JAR", "KAFKA_HEAP_OPTS", "LOG_DIR", "METRICS_PORT"}, env)
		assert.Equal(t, "client", path(c, "startupProbe", "tcpSocket", "port"))
		assert.Nil(t, path(c, "readinessProbe", "initialDelaySeconds"))
		assert.Equal(t, true, path(c, "securityContext", "readOnlyRootFilesystem"))
		assert.Equal(t, []any{"ALL"}, path(c, "securityContext", "capabilities", "drop"))
		assert.Equal(t, false, path(sts, "spec", "template", "spec", "enableServiceLinks"))
		assert.Equal(t, "10Gi", path(sts, "spec", "volumeClaimTemplates", 0, "spec", "resources", "requests", "storage"))

		headless := getJSON(t, "-n", "umbrella-streaming", "service", "kafka-headless")
		assert.Equal(t, "None", path(headless, "spec", "clusterIP"))
		client := getJSON(t, "-n", "umbrella-streaming", "service", "kafka")
		assert.EqualValues(t, 9092, path(client, "spec", "ports", 0, "port"))

		np := getJSON(t, "-n", "umbrella-streaming", "networkpolicy", "kafka")
		assert.Len(t, path(np, "spec", "ingress"), 6, "five broker rules and the lag exporter's")
		assert.True(t, exists("-n", "umbrella-streaming", "podmonitor.monitoring.coreos.com", "kafka"))
		assert.True(t, exists("-n", "umbrella-streaming", "prometheusrule.monitoring.coreos.com", "kafka-alerts"))
		assert.True(t, exists("-n", "umbrella-infra", "configmap", "umbrella-streaming-kafka-dashboard"))
		assert.False(t, exists("-n", "umbrella-streaming", "poddisruptionbudget", "kafka"), "no PDB for one broker")
	})

	// That the broker becomes Ready, and that destroy keeps its volume for the
	// next up, is proven on a real pod (tests/realnode, dev), not on kwok.

	t.Run("pod security restricted is enforced", func(t *testing.T) {
		manifest := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"privileged-probe","namespace":"umbrella-streaming"},
"spec":{"containers":[{"name":"c","image":"busybox","securityContext":{"privileged":true}}]}}`
		f := filepath.Join(t.TempDir(), "pod.json")
		require.NoError(t, os.WriteFile(f, []byte(manifest), 0o644))
		_, err := kubectl("apply", "-f", f)
		require.Error(t, err, "a privileged pod must be refused")
		assert.Contains(t, err.Error(), `violates PodSecurity "restricted:latest"`)
	})

	t.Run("second up and refresh change nothing", func(t *testing.T) {
		again, err := st.Up(ctx)
		require.NoError(t, err)
		require.NotNil(t, again.Summary.ResourceChanges)
		noChanges(t, *again.Summary.ResourceChanges, "second up")
		ref, err := st.Refresh(ctx)
		require.NoError(t, err)
		require.NotNil(t, ref.Summary.ResourceChanges)
		noChanges(t, *ref.Summary.ResourceChanges, "refresh")
		pre, err := st.Preview(ctx)
		require.NoError(t, err)
		assert.Zero(t, deploy.Changes(pre.ChangeSummary), "preview after refresh: %v", pre.ChangeSummary)
	})

	t.Run("retention and resources change in place", func(t *testing.T) {
		changed := openStack(t, ctx, "dev", state, map[string]string{
			"topics":    `{"manager":"job"}`,
			"broker":    `{"retentionHours":24}`,
			"resources": `{"requests":{"cpu":"500m","memory":"1Gi"},"limits":{"cpu":"2","memory":"3Gi"}}`,
		})
		pre, err := changed.Preview(ctx)
		require.NoError(t, err)
		assert.Zero(t, replaceSteps(pre.ChangeSummary), "no replacement: %v", pre.ChangeSummary)
		assert.Positive(t, pre.ChangeSummary[apitype.OpUpdate], "updates in place: %v", pre.ChangeSummary)
		assert.Contains(t, pre.StdOut, "log.retention.hours=24")
	})

	t.Run("storage size change is refused at preview", func(t *testing.T) {
		changed := openStack(t, ctx, "dev", state, map[string]string{"topics": `{"manager":"job"}`, "storage": `{"size":"20Gi"}`})
		_, err := changed.Preview(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `storage.size changed from "10Gi" to "20Gi" on a deployed stack`)
	})

	t.Run("controller change is refused at preview", func(t *testing.T) {
		changed := openStack(t, ctx, "dev", state, map[string]string{"topics": `{"manager":"job"}`, "brokers": "3", "controllers": "3"})
		_, err := changed.Preview(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `controllers changed from "1" to "3" on a deployed stack: with topics.manager = job`)
	})

	t.Run("cluster id and storage class changes are refused at preview", func(t *testing.T) {
		for _, c := range []struct{ key, value, want string }{
			{"clusterId", "MjPBEhmLSH-4IwmCODRzPg", `to "MjPBEhmLSH-4IwmCODRzPg" on a deployed stack: every broker's storage is formatted with the cluster id`},
			{"storage", `{"size":"10Gi","storageClass":"fast"}`, `storage.storageClass changed from "(cluster default)" to "fast" on a deployed stack`},
		} {
			changed := openStack(t, ctx, "dev", state, map[string]string{"topics": `{"manager":"job"}`, c.key: c.value})
			_, err := changed.Preview(ctx)
			require.Error(t, err, c.key)
			assert.Contains(t, err.Error(), c.want)
		}
	})

	t.Run("destroy deletes the workload", func(t *testing.T) {
		back := openStack(t, ctx, "dev", state, jobTopics)
		_, err := back.Destroy(ctx)
		require.NoError(t, err)
		assert.False(t, exists("-n", "umbrella-streaming", "statefulset", "kafka"))
		assert.False(t, exists("-n", "umbrella-streaming", "service", "kafka"))
		assert.False(t, exists("-n", "umbrella-streaming", "networkpolicy", "kafka"))
	})
}

func TestProdStackThreeBrokers(t *testing.T) {
	ownNamespace(t)
	ctx := harness.Context(t, 15*time.Minute)
	state := t.TempDir()
	st := openStack(t, ctx, "prod", state, jobTopics)
	_, err := st.Up(ctx)
	require.NoError(t, err, "prod up")
	defer func() {
		_, err := st.Destroy(ctx)
		assert.NoError(t, err)
	}()

	sts := getJSON(t, "-n", "umbrella-streaming", "statefulset", "kafka")
	assert.EqualValues(t, 3, path(sts, "spec", "replicas"))
	assert.Equal(t, "DoNotSchedule", path(sts, "spec", "template", "spec", "topologySpreadConstraints", 0, "whenUnsatisfiable"))
	assert.Equal(t, "100Gi", path(sts, "spec", "volumeClaimTemplates", 0, "spec", "resources", "requests", "storage"))
	pdb := getJSON(t, "-n", "umbrella-streaming", "poddisruptionbudget", "kafka")
	assert.EqualValues(t, 1, path(pdb, "spec", "maxUnavailable"))

	cm := getJSON(t, "-n", "umbrella-streaming", "configmap", "kafka-config")
	voters := "controller.quorum.bootstrap.servers=kafka-0.kafka-headless.umbrella-streaming.svc:9093,kafka-1.kafka-headless.umbrella-streaming.svc:9093,kafka-2.kafka-headless.umbrella-streaming.svc:9093\n"
	for i, id := range []string{"0", "1", "2"} {
		node := path(cm, "data", "node-"+id+".properties").(string)
		assert.Contains(t, node, voters, "node %d", i)
		assert.Contains(t, node, "\nnode.id="+id+"\n")
		assert.Contains(t, node, "advertised.listeners=PLAINTEXT://kafka-"+id+".kafka-headless.umbrella-streaming.svc:9092,")
		assert.Contains(t, node, "\nmin.insync.replicas=2\n")
	}
	// Three Ready brokers on three nodes (the required spread) and the PDB at
	// work are proven on real nodes (tests/realnode, prod), not on kwok.

	// The override is one-time by design: the up it lets through records the
	// new value, so the next run needs no override, and going back is guarded.
	t.Run("min ISR: refused, let through once by guardOverrides, then recorded", func(t *testing.T) {
		lower := map[string]string{"topics": `{"manager":"job"}`, "broker": `{"minInsyncReplicas":1,"defaultReplicationFactor":3}`}
		_, err := openStack(t, ctx, "prod", state, lower).Preview(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `broker.minInsyncReplicas changed from "2" to "1" on a deployed stack`)

		override := map[string]string{"guardOverrides": `["broker.minInsyncReplicas"]`}
		for k, v := range lower {
			override[k] = v
		}
		_, err = openStack(t, ctx, "prod", state, override).Up(ctx)
		require.NoError(t, err, "the override lets the change through")
		cm := getJSON(t, "-n", "umbrella-streaming", "configmap", "kafka-config")
		assert.Contains(t, path(cm, "data", "node-0.properties"), "\nmin.insync.replicas=1\n")

		pre, err := openStack(t, ctx, "prod", state, lower).Preview(ctx)
		require.NoError(t, err, "the deployed value is recorded: no override needed any more")
		assert.Zero(t, deploy.Changes(pre.ChangeSummary), "preview after the overridden up: %v", pre.ChangeSummary)

		_, err = openStack(t, ctx, "prod", state, jobTopics).Preview(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `broker.minInsyncReplicas changed from "1" to "2" on a deployed stack`)
	})
}

// A pull-request preview may have no cluster. We decided it must still work: the
// Kubernetes provider marks the cluster unreachable and the plan shows every
// resource to create, so a PR shows what it would deploy.
func TestPreviewWithoutCluster(t *testing.T) {
	ctx := harness.Context(t, 5*time.Minute)
	dead := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(dead, []byte(`apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: gone, context: {cluster: gone, user: u}}]
current-context: gone
`), 0o600))
	st, err := deploy.Open(ctx, deploy.Options{Stack: "dev", ProjectDir: repoRoot, StateDir: t.TempDir(),
		Env: harness.EngineEnv(dead), Config: jobTopics, Progress: testWriter{T: t}})
	require.NoError(t, err)
	res, err := st.Preview(ctx)
	require.NoError(t, err, "preview must work without a cluster")
	assert.Zero(t, res.ChangeSummary[apitype.OpSame], "%v", res.ChangeSummary)
	assert.GreaterOrEqual(t, res.ChangeSummary[apitype.OpCreate], 15, "the whole dev stack shows as to create: %v", res.ChangeSummary)
	assert.Contains(t, res.StdOut, "kubernetes:apps/v1:StatefulSet")
}
