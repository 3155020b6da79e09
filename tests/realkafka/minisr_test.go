//go:build realkafka

package realkafka

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// Guards a Kafka 4.1 behaviour the program must plan for: the first active
// controller records the static min.insync.replicas as a cluster-wide dynamic
// default (KIP-966), and a dynamic default outranks server.properties. So
// changing broker.minInsyncReplicas in stack config and rolling the brokers
// does NOT change it on an existing cluster; only a dynamic config change
// (kafka-configs --alter --entity-type brokers --entity-default) does.
func TestStaticMinISRChangeIgnoredAfterBootstrap(t *testing.T) {
	libs := kafkaLibs(t)
	dir := t.TempDir()
	ctx := testCtx(t, 3*time.Minute)
	c, err := localkafka.Start(ctx, localkafka.Options{Spec: stackSpec(t, "dev"), Dir: dir, KafkaLibs: libs})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })

	minISR := func() (value string, source kmsg.ConfigSource, static string) {
		rcs, err := c.Admin().DescribeBrokerConfigs(ctx, 0)
		require.NoError(t, err)
		require.NoError(t, rcs[0].Err)
		for _, cfg := range rcs[0].Configs {
			if cfg.Key != "min.insync.replicas" {
				continue
			}
			for _, s := range cfg.Synonyms {
				if s.Source == kmsg.ConfigSourceStaticBrokerConfig && s.Value != nil {
					static = *s.Value
				}
			}
			return cfg.MaybeValue(), cfg.Source, static
		}
		t.Fatal("no min.insync.replicas in the broker config")
		return
	}
	v, src, static := minISR()
	assert.Equal(t, "1", v)
	assert.Equal(t, kmsg.ConfigSourceDynamicDefaultBrokerConfig, src)
	assert.Equal(t, "1", static)

	// A config change rolled out to the node: server.properties now says 2.
	props := filepath.Join(dir, "node-0", "server.properties")
	b, err := os.ReadFile(props)
	require.NoError(t, err)
	require.Contains(t, string(b), "\nmin.insync.replicas=1\n")
	require.NoError(t, os.WriteFile(props, []byte(strings.Replace(string(b), "\nmin.insync.replicas=1\n", "\nmin.insync.replicas=2\n", 1)), 0o644))
	require.NoError(t, c.Restart(ctx, 0))

	v, src, static = minISR()
	assert.Equal(t, "2", static, "the node read the new server.properties")
	assert.Equal(t, "1", v, "but the bootstrap dynamic default still wins")
	assert.Equal(t, kmsg.ConfigSourceDynamicDefaultBrokerConfig, src)
}
