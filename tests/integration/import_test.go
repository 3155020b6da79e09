//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optimport"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// The two ways existing topics come under the provider, through the real
// engine against real Kafka: the README's `job -> provider` switch (the
// provider adopts what create-topics.sh made) and `pulumi import` of a topic the
// state does not hold. Neither recreates a topic (same topic ids, the record
// written before is still there), and neither leaves a diff.
func TestJobToProviderAndImportThroughTheEngine(t *testing.T) {
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

	t.Run("pulumi import of a topic the state does not hold", func(t *testing.T) {
		parent, provider := forgetTopic(t, prov, "raw-messages")
		pre, err := prov.Preview(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, pre.ChangeSummary[apitype.OpCreate], "the forgotten topic would be created: %v", pre.ChangeSummary)

		_, err = prov.ImportResources(ctx, []*optimport.ImportResource{{
			Type: "umbrellakafka:index:Topic", Name: "raw-messages", ID: "raw-messages", Parent: "topics", Provider: "topics-kafka",
		}}, map[string]string{"topics": parent, "topics-kafka": provider})
		require.NoError(t, err)
		pre, err = prov.Preview(ctx)
		require.NoError(t, err)
		assert.Zero(t, deploy.Changes(pre.ChangeSummary), "the imported topic matches the program: %v", pre.ChangeSummary)
		assert.Equal(t, ids, topicIDs(t, kafka.Admin()))
		assert.Equal(t, []string{"before-the-switch"}, readAll(t, kafka, "raw-messages"))
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

// readAll returns the values in a one-partition topic.
func readAll(t *testing.T, kafka *localkafka.Cluster, topic string) []string {
	t.Helper()
	cl, err := kafka.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	ctx := harness.Context(t, 10*time.Second)
	var out []string
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
}

// forgetTopic removes a Topic from the stack's state (as if it had never been
// declared) and returns its parent's URN and its provider's URN.
func forgetTopic(t *testing.T, st *deploy.Stack, name string) (parent, provider string) {
	t.Helper()
	ctx := harness.Context(t, time.Minute)
	exported, err := st.Export(ctx)
	require.NoError(t, err)
	var d apitype.DeploymentV3
	require.NoError(t, json.Unmarshal(exported.Deployment, &d))
	kept := d.Resources[:0]
	for _, r := range d.Resources {
		if string(r.Type) == "umbrellakafka:index:Topic" && r.URN.Name() == name {
			parent = string(r.Parent)
			provider = r.Provider[:strings.LastIndex(r.Provider, "::")] // a reference is <urn>::<id>
			continue
		}
		kept = append(kept, r)
	}
	require.NotEmpty(t, parent, "topic %s in the state", name)
	d.Resources = kept
	exported.Deployment, err = json.Marshal(d)
	require.NoError(t, err)
	require.NoError(t, st.Import(ctx, exported))
	return parent, provider
}
