//go:build realkafka

package realkafka

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// bootstrapDynamic are the keys Kafka reports as a dynamic cluster-wide default
// rather than a static config: with eligible leader replicas (KIP-966, on by
// default for new 4.1 clusters) the first active controller copies the static
// min.insync.replicas into a cluster-level dynamic config record. The value is
// still ours; but from then on it outranks server.properties, so changing the
// static value on a running cluster has no effect (kafka-configs --alter
// --entity-type brokers --entity-default is the way).
var bootstrapDynamic = map[string]bool{"min.insync.replicas": true}

// hiddenValue are keys of the secure listeners whose value Kafka reports as
// sensitive (null): the JAAS config is a password-type setting, and the
// authorizer's own settings are not in Kafka's broker config definition,
// which Kafka hides by default. Their effect is proven in security_test.go
// (deny by default, the super users, SCRAM logins).
var hiddenValue = map[string]bool{
	"allow.everyone.if.no.acl.found":                      true,
	"listener.name.client.scram-sha-512.sasl.jaas.config": true,
	"super.users": true,
}

// assertBrokersRunOurConfig checks that every node runs with every line of the
// server.properties the program's builder renders: each key is known to Kafka
// and reported back with our value, as a static broker config (or, for
// bootstrapDynamic keys, the cluster-wide dynamic default).
func assertBrokersRunOurConfig(t *testing.T, c *localkafka.Cluster) {
	t.Helper()
	for id := 0; id < c.Nodes(); id++ {
		want := components.NodeProperties(c.Spec(), c.Network(), id)
		require.NotEmpty(t, want)
		rcs, err := c.Admin().DescribeBrokerConfigs(testCtx(t, 10*time.Second), int32(id))
		require.NoError(t, err)
		require.Len(t, rcs, 1)
		require.NoError(t, rcs[0].Err)
		got := map[string]struct {
			value     string
			source    kmsg.ConfigSource
			sensitive bool
		}{}
		for _, cfg := range rcs[0].Configs {
			got[cfg.Key] = struct {
				value     string
				source    kmsg.ConfigSource
				sensitive bool
			}{cfg.MaybeValue(), cfg.Source, cfg.Sensitive}
		}
		for _, p := range want {
			g, ok := got[p.Key]
			if !assert.True(t, ok, "node %d: Kafka does not know the key %s", id, p.Key) {
				continue
			}
			if hiddenValue[p.Key] {
				assert.True(t, g.sensitive, "node %d: %s is reported without its value", id, p.Key)
			} else {
				assert.Equal(t, p.Value, g.value, "node %d: %s", id, p.Key)
			}
			wantSource := kmsg.ConfigSourceStaticBrokerConfig
			if bootstrapDynamic[p.Key] {
				wantSource = kmsg.ConfigSourceDynamicDefaultBrokerConfig
			}
			assert.Equal(t, wantSource, g.source, "node %d: %s", id, p.Key)
		}
	}
}

// The dev stack's broker configuration (one combined broker+controller) is
// accepted by Kafka 4.1.1: the node starts, the quorum elects it and every
// generated setting is in effect.
func TestDevBrokerConfigRunsOnKafka(t *testing.T) {
	c := cluster(t, "dev")
	q, err := c.Quorum(testCtx(t, 10*time.Second))
	require.NoError(t, err)
	assert.Equal(t, localkafka.Quorum{Leader: 0, Epoch: q.Epoch, Voters: []int32{0}}, q)
	md := awaitBrokers(t, c, []int32{0})
	assert.Equal(t, "5BlkQlAaBVX6rb9uzmmt7w", md.Cluster, "the stack's clusterId formats the storage")
	assertBrokersRunOurConfig(t, c)
}

// The prod stack's configuration (three combined nodes, a static quorum of
// three voters, RF 3, min ISR 2) is accepted: all three nodes start, the
// quorum has a leader among the voters and every node is a registered broker.
func TestProdBrokerConfigRunsOnKafka(t *testing.T) {
	c := cluster(t, "prod")
	q, err := c.Quorum(testCtx(t, 10*time.Second))
	require.NoError(t, err)
	assert.Equal(t, []int32{0, 1, 2}, q.Voters)
	assert.Empty(t, q.Observers, "every broker is a voter in prod")
	assert.Contains(t, q.Voters, q.Leader)
	md := awaitBrokers(t, c, []int32{0, 1, 2})
	assert.Equal(t, "MjPBEhmLSH-4IwmCODRzPg", md.Cluster)
	assertBrokersRunOurConfig(t, c)
}

// awaitBrokers waits until a metadata answer lists exactly the brokers want
// and returns it: a broker that has just started may not yet have applied the
// other brokers' registrations, so one answer is not the cluster's state.
func awaitBrokers(t *testing.T, c *localkafka.Cluster, want []int32) kadm.Metadata {
	t.Helper()
	var md kadm.Metadata
	var lastErr error
	err := poll.Until(testCtx(t, time.Minute), 200*time.Millisecond, 0, func(ctx context.Context) (bool, error) {
		md, lastErr = c.Admin().BrokerMetadata(ctx)
		return lastErr == nil && slices.Equal(want, md.Brokers.NodeIDs()), nil
	})
	require.NoError(t, err, "waiting for the metadata to list brokers %v (last: %v, err %v)", want, md.Brokers.NodeIDs(), lastErr)
	return md
}
