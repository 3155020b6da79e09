//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// The two ways existing topics come under the provider, through the real
// engine against real Kafka: the README's `job -> provider` switch (the
// provider adopts what create-topics.sh made) and an import of a topic. Neither recreates a topic (same topic ids, the record
// written before is still there), and neither leaves a diff.
func TestJobToProviderAndImportThroughTheEngine(t *testing.T) {
	ownNamespace(t)
	ctx := harness.Context(t, 15*time.Minute)
	kafka := startKafka(t, ctx, "dev")
	state := t.TempDir()

	_, err := openStack(t, ctx, "dev", state, jobTopics).Up(ctx)
	require.NoError(t, err, "up with topics.manager: job")
	// What the in-cluster Job does (kwok only pretends to run it).
	createTopicsLikeTheJob(t, kafka)
	ids := topicIDs(t, kafka.Admin())
	require.Len(t, ids, len(config.Inventory))
	cl, err := kafka.Client()
	require.NoError(t, err)
	defer cl.Close()
	require.NoError(t, cl.ProduceSync(ctx, &kgo.Record{Topic: "raw-messages", Value: []byte("before-the-switch")}).FirstErr())

	prov := openStack(t, ctx, "dev", state, map[string]string{"topics": topicsConfig(kafka, "")})
	defer func() { // the other tests deploy the same objects into this cluster
		_, err := prov.Destroy(ctx)
		assert.NoError(t, err)
	}()
	t.Run("job -> provider adopts the topics the Job made", func(t *testing.T) {
		_, err := prov.Up(ctx)
		require.NoError(t, err)
		assert.Equal(t, ids, topicIDs(t, kafka.Admin()), "no topic was recreated")
		assert.Equal(t, []string{"before-the-switch"}, readAll(t, kafka, "raw-messages"))
		again, err := prov.Up(ctx)
		require.NoError(t, err)
		noChanges(t, *again.Summary.ResourceChanges, "up after the switch")
	})

	// `pulumi import umbrellakafka:index:Topic ...` needs the project's language
	// host, which this machine cannot install (the Go one is refused by the module
	// proxy); the engine's import step is the same with the import resource
	// option, driven here by a program of its own: the engine Reads the topic
	// through our provider and diffs it against the program's inputs.
	t.Run("import through the engine: read from Kafka, matched against the program", func(t *testing.T) {
		spec := kafka.Spec()
		var raw config.TopicSpec
		for _, tp := range spec.Topics {
			if tp.Name == "raw-messages" {
				raw = tp
			}
		}
		st := openProgram(t, ctx, "dev", t.TempDir(), func(ctx *pulumi.Context) error { // a state of its own
			servers := pulumi.StringArray{}
			for _, b := range kafka.Bootstrap() {
				servers = append(servers, pulumi.String(b))
			}
			prov, err := umbrellakafka.NewProvider(ctx, "kafka", &umbrellakafka.ProviderArgs{BootstrapServers: servers,
				TlsEnabled: pulumi.Bool(false)})
			if err != nil {
				return err
			}
			_, err = umbrellakafka.NewTopic(ctx, raw.Name, components.BuildTopic(raw), pulumi.Provider(prov),
				pulumi.Import(pulumi.ID(raw.Name)), pulumi.RetainOnDelete(true))
			return err
		})
		pre, err := st.Preview(ctx)
		require.NoError(t, err)
		// An input that differed from what Read found would show as an update
		// after the import (the engine imports, then updates).
		assert.Equal(t, 1, pre.ChangeSummary[apitype.OpImport], "%v", pre.ChangeSummary)
		assert.Zero(t, pre.ChangeSummary[apitype.OpUpdate], "the program's inputs match the topic Kafka has: %v", pre.ChangeSummary)
		_, err = st.Up(ctx)
		require.NoError(t, err)
		again, err := st.Up(ctx)
		require.NoError(t, err)
		noChanges(t, *again.Summary.ResourceChanges, "up after the import")
		assert.Equal(t, ids, topicIDs(t, kafka.Admin()), "the import recreated nothing")
		assert.Equal(t, []string{"before-the-switch"}, readAll(t, kafka, "raw-messages"))
		_, err = st.Destroy(ctx) // retained: the topic stays for the main stack
		require.NoError(t, err)
		assert.Equal(t, ids, topicIDs(t, kafka.Admin()))
	})
}

// createTopicsLikeTheJob runs create-topics.sh with the topics file the Job
// gets, against the local broker, with Kafka's own tools.
func createTopicsLikeTheJob(t *testing.T, kafka *localkafka.Cluster) {
	t.Helper()
	bin := t.TempDir()
	_, err := localkafka.WriteToolScripts(bin, kafka.Libs())
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "topics.txt")
	require.NoError(t, os.WriteFile(file, []byte(components.TopicsFile(kafka.Spec())), 0o644))
	cmd := exec.Command("bash", filepath.Join(repoRoot, "infrastructure/kafka/scripts/create-topics.sh"))
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KAFKA_BOOTSTRAP="+kafka.Addr(0), "TOPICS_FILE="+file, "WAIT_SECONDS=60")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "create-topics.sh:\n%s", out)
}

// topicIDs maps each non-internal topic to its id (a recreated topic gets a new one).
func topicIDs(t *testing.T, adm *kadm.Client) map[string]string {
	t.Helper()
	td, err := adm.ListTopics(harness.Context(t, time.Minute))
	require.NoError(t, err)
	out := map[string]string{}
	for name, d := range td {
		out[name] = d.ID.String()
	}
	return out
}

// readAll returns the values in a one-partition topic, up to its end offset.
func readAll(t *testing.T, kafka *localkafka.Cluster, topic string) []string {
	t.Helper()
	ctx := harness.Context(t, 30*time.Second)
	ends, err := kafka.Admin().ListEndOffsets(ctx, topic)
	require.NoError(t, err)
	end, ok := ends.Lookup(topic, 0)
	require.True(t, ok, "topic %s partition 0", topic)
	require.NoError(t, end.Err)
	cl, err := kafka.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	var out []string
	for next := int64(0); next < end.Offset; {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "reading %s to offset %d", topic, end.Offset)
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, string(r.Value))
			next = r.Offset + 1
		})
	}
	return out
}

// openProgram opens a stack of this project that runs program instead of ours.
func openProgram(t *testing.T, ctx context.Context, stack, stateDir string, program pulumi.RunFunc) *deploy.Stack {
	t.Helper()
	st, err := deploy.Open(ctx, deploy.Options{Stack: stack, ProjectDir: repoRoot, StateDir: stateDir,
		Env: harness.EngineEnv(kubeconfig), Run: program, Progress: harness.TestWriter{T: t}})
	require.NoError(t, err)
	return st
}
