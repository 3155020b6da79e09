//go:build realkafka

package realkafka

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// topicFacts is what a topic looks like on the broker: enough to tell a
// recreated or altered topic from an untouched one.
type topicFacts struct {
	ID         [16]byte
	Partitions int
	RF         int
	Config     map[string]string // dynamic topic configs only
}

func readTopic(t *testing.T, c *localkafka.Cluster, topic string) topicFacts {
	t.Helper()
	ts, err := c.Describe(testCtx(t, 10*time.Second), topic)
	require.NoError(t, err)
	f := topicFacts{ID: ts.ID, Partitions: len(ts.Partitions), Config: map[string]string{}}
	for _, p := range ts.Partitions {
		f.RF = max(f.RF, len(p.Replicas))
	}
	rcs, err := c.Admin().DescribeTopicConfigs(testCtx(t, 10*time.Second), topic)
	require.NoError(t, err)
	rc, err := rcs.On(topic, nil)
	require.NoError(t, err)
	require.NoError(t, rc.Err)
	for _, cfg := range rc.Configs {
		if cfg.Source == kmsg.ConfigSourceDynamicTopicConfig {
			f.Config[cfg.Key] = cfg.MaybeValue()
		}
	}
	return f
}

// create-topics.sh, run the way the topic Job runs it (TOPICS_FILE rendered
// by components.TopicsFile from the dev stack) with Kafka's own TopicCommand,
// creates the seven platform topics as the stack says; a second run changes
// nothing (same topic ids, partitions, replicas and configs).
func TestCreateTopicsScriptTwice(t *testing.T) {
	c := cluster(t, "dev")
	spec := c.Spec()
	require.Len(t, spec.Topics, 7)
	bin := t.TempDir()
	_, err := localkafka.WriteToolScripts(bin, c.Libs())
	require.NoError(t, err)
	topicsFile := filepath.Join(t.TempDir(), "topics.txt")
	require.NoError(t, os.WriteFile(topicsFile, []byte(components.TopicsFile(spec)), 0o644))

	run := func(n int) {
		ctx := testCtx(t, 3*time.Minute)
		start := time.Now()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(projectDir, "infrastructure/kafka/scripts/create-topics.sh"))
		cmd.Env = append(os.Environ(),
			"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"KAFKA_BOOTSTRAP="+c.Addr(0),
			"TOPICS_FILE="+topicsFile,
			"WAIT_SECONDS=60")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "create-topics.sh run %d:\n%s", n, out)
		require.Contains(t, string(out), "create-topics: done")
		t.Logf("create-topics.sh run %d took %s", n, time.Since(start).Round(100*time.Millisecond))
	}

	run(1)
	first := map[string]topicFacts{}
	for _, tp := range spec.Topics {
		// kafka-topics.sh returns once the controller has the topic; the broker
		// answering the describes below learns it from the metadata log after.
		require.NoError(t, c.WaitPropagated(testCtx(t, time.Minute), tp.Name, tp.Partitions),
			"topic %s, created by create-topics.sh, known with %d partitions on every node", tp.Name, tp.Partitions)
		f := readTopic(t, c, tp.Name)
		want := tp.Config
		if want == nil {
			want = map[string]string{}
		}
		assert.Equal(t, tp.Partitions, f.Partitions, tp.Name)
		assert.Equal(t, tp.ReplicationFactor, f.RF, tp.Name)
		assert.Equal(t, want, f.Config, tp.Name)
		first[tp.Name] = f
	}

	run(2)
	for _, tp := range spec.Topics {
		assert.Equal(t, first[tp.Name], readTopic(t, c, tp.Name), "%s changed on the second run", tp.Name)
	}
}
