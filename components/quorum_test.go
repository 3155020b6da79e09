package components

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"one controller, node 0, new", FormatArgs(one, net, 0, FormatNewCluster), []string{"--standalone"}},
		{"one controller, broker-only node, new", FormatArgs(one, net, 1, FormatNewCluster), []string{"--no-initial-controllers"}},
		{"three controllers, node 2, new", FormatArgs(three, net, 2, FormatNewCluster), []string{"--initial-controllers", list}},
		{"three controllers, node 0, new", FormatArgs(three, net, 0, FormatNewCluster), []string{"--initial-controllers", list}},
		{"node 0, join", FormatArgs(one, net, 0, FormatJoin), []string{"--no-initial-controllers"}},
		{"three controllers, node 1, join", FormatArgs(three, net, 1, FormatJoin), []string{"--no-initial-controllers"}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.args, c.name)
	}
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
