//go:build realkafka

package realkafka

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
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

	// minISR reads broker 0's min.insync.replicas: the value in effect, its
	// source, the static (server.properties) value and whether the node shows
	// a cluster-wide dynamic default for it.
	minISR := func(ctx context.Context) (value string, source kmsg.ConfigSource, static string, dynamicDefault bool, err error) {
		rcs, err := c.Admin().DescribeBrokerConfigs(ctx, 0)
		if err != nil {
			return "", 0, "", false, err
		}
		if len(rcs) != 1 {
			return "", 0, "", false, fmt.Errorf("DescribeBrokerConfigs answered %d resources", len(rcs))
		}
		if rcs[0].Err != nil {
			return "", 0, "", false, rcs[0].Err
		}
		for _, cfg := range rcs[0].Configs {
			if cfg.Key != "min.insync.replicas" {
				continue
			}
			for _, s := range cfg.Synonyms {
				switch {
				case s.Source == kmsg.ConfigSourceStaticBrokerConfig && s.Value != nil:
					static = *s.Value
				case s.Source == kmsg.ConfigSourceDynamicDefaultBrokerConfig:
					dynamicDefault = true
				}
			}
			return cfg.MaybeValue(), cfg.Source, static, dynamicDefault, nil
		}
		return "", 0, "", false, errors.New("no min.insync.replicas in the broker config")
	}
	// awaitStatic waits until node 0 reports the static value want and the
	// cluster's dynamic default: right after a (re)start the answer may come
	// before the node has applied the metadata log.
	awaitStatic := func(want string) (value string, source kmsg.ConfigSource, static string) {
		t.Helper()
		var dynamicDefault bool
		var lastErr error
		err := poll.Until(ctx, 200*time.Millisecond, time.Minute, func(ctx context.Context) (bool, error) {
			value, source, static, dynamicDefault, lastErr = minISR(ctx)
			return lastErr == nil && static == want && dynamicDefault, nil
		})
		require.NoError(t, err, "node 0 never reported the static min.insync.replicas=%s with the cluster's dynamic default "+
			"(last: value %q from %v, static %q, dynamic default %t, err %v)", want, value, source, static, dynamicDefault, lastErr)
		return value, source, static
	}
	v, src, static := awaitStatic("1")
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

	v, src, static = awaitStatic("2") // the node read the new server.properties
	assert.Equal(t, "2", static, "the node read the new server.properties")
	assert.Equal(t, "1", v, "but the bootstrap dynamic default still wins")
	assert.Equal(t, kmsg.ConfigSourceDynamicDefaultBrokerConfig, src)
}
