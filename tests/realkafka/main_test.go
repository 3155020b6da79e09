//go:build realkafka

package realkafka

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// projectDir is the repository root, where Pulumi.<stack>.yaml live.
const projectDir = "../.."

// shared holds one cluster per stack, started on first use and stopped by
// TestMain: starting the JVMs is the slow part, so tests that do not break a
// cluster share it. A test that stops nodes restores them before it returns.
var shared = struct {
	sync.Mutex
	clusters map[string]*localkafka.Cluster
	errs     map[string]error
	dirs     []string
}{clusters: map[string]*localkafka.Cluster{}, errs: map[string]error{}}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Lock()
	for stack, c := range shared.clusters {
		if err := c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the %s cluster: %v\n", stack, err)
			code = 1
		}
	}
	for _, d := range shared.dirs {
		if code == 0 {
			os.RemoveAll(d)
		} else {
			fmt.Fprintf(os.Stderr, "kept the cluster folder %s for its logs\n", d)
		}
	}
	shared.Unlock()
	os.Exit(code)
}

// kafkaLibs returns the jar folder or fails the test with how to build it.
func kafkaLibs(t testing.TB) string {
	t.Helper()
	libs, err := localkafka.FindLibs()
	if err != nil {
		t.Fatalf("the real-Kafka tests need the Kafka %s jars: %v", localkafka.KafkaVersion, err)
	}
	return libs
}

// stackSpec loads a stack's validated spec from its Pulumi.<stack>.yaml.
func stackSpec(t testing.TB, stack string) *config.Spec {
	t.Helper()
	spec, err := localkafka.LoadStack(projectDir, stack)
	require.NoError(t, err)
	return spec
}

// cluster returns the shared cluster of a stack, starting it on first use.
func cluster(t testing.TB, stack string) *localkafka.Cluster {
	t.Helper()
	libs := kafkaLibs(t)
	shared.Lock()
	defer shared.Unlock()
	if c, ok := shared.clusters[stack]; ok {
		return c
	}
	if err, ok := shared.errs[stack]; ok {
		t.Fatalf("the %s cluster failed to start earlier: %v", stack, err)
	}
	dir, err := os.MkdirTemp("", "realkafka-"+stack+"-")
	require.NoError(t, err)
	shared.dirs = append(shared.dirs, dir)
	spec := stackSpec(t, stack)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := localkafka.Start(ctx, localkafka.Options{Spec: spec, Dir: dir, KafkaLibs: libs})
	if err != nil {
		shared.errs[stack] = err
		t.Fatalf("starting the %s cluster: %v", stack, err)
	}
	t.Logf("stack %s: %d node(s) ready in %s (%s)", stack, c.Nodes(), time.Since(start).Round(100*time.Millisecond), dir)
	shared.clusters[stack] = c
	return c
}

// testCtx is a context bounded by d and cancelled when the test ends.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// createTopic creates a topic with kadm and waits until every partition has
// a leader and rf in-sync replicas, and every running broker knows the topic.
func createTopic(t testing.TB, c *localkafka.Cluster, topic string, partitions int32, rf int16, cfg map[string]*string) {
	t.Helper()
	ctx := testCtx(t, 60*time.Second)
	resp, err := c.Admin().CreateTopic(ctx, partitions, rf, cfg, topic)
	require.NoError(t, err)
	require.NoError(t, resp.Err, resp.ErrMessage)
	require.NoError(t, c.WaitInSync(ctx, topic, int(rf)))
	// Read after write: a broker that has not caught up answers DescribeConfigs with
	// UNKNOWN_TOPIC_OR_PARTITION (seen in a cold CI run right after create).
	require.NoError(t, c.WaitPropagated(ctx, topic, int(partitions)))
}

// topicConfig returns one config of a topic with its source.
func topicConfig(t testing.TB, adm *kadm.Client, topic, key string) kadm.Config {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(testCtx(t, 10*time.Second), topic)
	require.NoError(t, err)
	rc, err := rcs.On(topic, nil)
	require.NoError(t, err)
	require.NoError(t, rc.Err)
	for _, cfg := range rc.Configs {
		if cfg.Key == key {
			return cfg
		}
	}
	t.Fatalf("topic %s: no config %s", topic, key)
	return kadm.Config{}
}
