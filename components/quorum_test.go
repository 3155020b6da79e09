package components

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

func TestDynamicQuorumPropertiesReplacesVoters(t *testing.T) {
	s := spec(t, 3, 3)
	net := KubernetesNetwork(s.Namespace)
	static := NodeProperties(s, net, 2)
	got := DynamicQuorumProperties(static, s, net)

	want := props(static)
	delete(want, QuorumVotersKey)
	want[QuorumBootstrapKey] = "kafka-0.kafka-headless.umbrella-streaming.svc:9093," +
		"kafka-1.kafka-headless.umbrella-streaming.svc:9093,kafka-2.kafka-headless.umbrella-streaming.svc:9093"
	assert.Equal(t, want, props(got))
	assert.Len(t, got, len(static), "one line out, one in")
	assert.Contains(t, props(static), QuorumVotersKey, "the input is not modified")
	for i := 1; i < len(got); i++ {
		assert.Less(t, got[i-1].Key, got[i].Key, "sorted by key")
	}
}

func TestDynamicQuorumPropertiesBrokerOnlyNode(t *testing.T) {
	s := spec(t, 3, 1)
	net := KubernetesNetwork(s.Namespace)
	got := props(DynamicQuorumProperties(NodeProperties(s, net, 2), s, net))
	assert.Equal(t, "kafka-0.kafka-headless.umbrella-streaming.svc:9093", got[QuorumBootstrapKey])
	assert.Equal(t, "broker", got["process.roles"])
	assert.NotContains(t, got, QuorumVotersKey)
}

func TestDynamicServerPropertiesText(t *testing.T) {
	s := spec(t, 1, 1)
	text := DynamicServerProperties(s, KubernetesNetwork(s.Namespace), 0)
	assert.True(t, strings.HasPrefix(text, "# server.properties for node 0 (broker,controller) of the umbrella-streaming "+
		"Kafka cluster, stack test (dynamic quorum).\n"), text)
	assert.Contains(t, text, "\ncontroller.quorum.bootstrap.servers=kafka-0.kafka-headless.umbrella-streaming.svc:9093\n")
	assert.NotContains(t, text, "controller.quorum.voters")
}

func TestFormatArgs(t *testing.T) {
	one := spec(t, 3, 1)
	three := spec(t, 3, 3)
	net := KubernetesNetwork("umbrella-streaming")
	list := "0@kafka-0.kafka-headless.umbrella-streaming.svc:9093:" + DirectoryID(three.ClusterID, 0) +
		",1@kafka-1.kafka-headless.umbrella-streaming.svc:9093:" + DirectoryID(three.ClusterID, 1) +
		",2@kafka-2.kafka-headless.umbrella-streaming.svc:9093:" + DirectoryID(three.ClusterID, 2)
	grown := spec(t, 3, 3) // a stack created with one controller, grown to three
	grown.Quorum.BootstrapControllers = 1
	migrated := spec(t, 3, 3) // a static stack migrated to a dynamic quorum
	migrated.Quorum = config.QuorumSpec{Dynamic: true}
	static := spec(t, 3, 3)
	static.Quorum = config.QuorumSpec{}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"one controller, node 0, new", FormatArgs(one, net, 0), []string{"--standalone"}},
		{"one controller, broker-only node, new", FormatArgs(one, net, 1), []string{"--no-initial-controllers"}},
		{"three controllers, node 2, new", FormatArgs(three, net, 2), []string{"--initial-controllers", list}},
		{"three controllers, node 0, new", FormatArgs(three, net, 0), []string{"--initial-controllers", list}},
		{"grown from one, node 0", FormatArgs(grown, net, 0), []string{"--standalone"}},
		{"grown from one, added controller", FormatArgs(grown, net, 1), []string{"--no-initial-controllers"}},
		{"migrated from static, node 0", FormatArgs(migrated, net, 0), []string{"--no-initial-controllers"}},
		{"static quorum", FormatArgs(static, net, 0), nil},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.args, c.name)
	}
	assert.Equal(t, "--no-initial-controllers\n", FormatArgsText(grown, 2))
	assert.Empty(t, FormatArgsText(static, 0), "a static quorum formats without flags")
}

func TestDirectoryIDIsAStableKafkaUuid(t *testing.T) {
	a := DirectoryID("5BlkQlAaBVX6rb9uzmmt7w", 1)
	assert.Equal(t, a, DirectoryID("5BlkQlAaBVX6rb9uzmmt7w", 1), "deterministic")
	assert.NotEqual(t, a, DirectoryID("5BlkQlAaBVX6rb9uzmmt7w", 2), "differs by node")
	assert.NotEqual(t, a, DirectoryID("MkU3OEVBNTcwNTJENDM2Qk", 1), "differs by cluster")
	for id := 0; id < 50; id++ {
		d := DirectoryID("5BlkQlAaBVX6rb9uzmmt7w", id)
		raw, err := base64.RawURLEncoding.DecodeString(d)
		require.NoError(t, err)
		assert.Len(t, raw, 16, d)
		assert.Len(t, d, 22, d)
		assert.NotEqual(t, byte('-'), d[0], "never read as a flag: %s", d)
		assert.NotZero(t, raw[0], "clear of Kafka's reserved ids: %s", d)
	}
}
