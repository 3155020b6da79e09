//go:build realkafka

package provider

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TestRealKafkaErrorsNameTheFix guards issue 14 item 8 against real Kafka
// 4.1.1: errors Kafka answers with say what to change. The broker runs with
// delete.topic.enable=false (localkafka ExtraProperties) to provoke
// TOPIC_DELETION_DISABLED. INVALID_CONFIG on create is in
// TestRealKafkaOneNode, on update in TestRealKafkaValidateFirst;
// authorization, TLS, SASL and policy errors in errors_test.go.
func TestRealKafkaErrorsNameTheFix(t *testing.T) {
	_, c := realCluster(t, "dev", "delete.topic.enable=false")
	s := server(t, c.addrs, nil)

	t.Run("a name that collides on '.' versus '_'", func(t *testing.T) {
		mustCreate(t, s, topicProps("orders_v1", 1, 1, nil))
		_, err := create(t, s, topicProps("orders.v1", 1, 1, nil), false)
		require.Error(t, err)
		assert.Equal(t, `topic "orders.v1": INVALID_TOPIC_EXCEPTION: The request attempted to perform an operation `+
			`on an invalid topic. (CreateTopics: Topic 'orders.v1' collides with existing topic: orders_v1): Kafka `+
			`treats '.' and '_' alike in topic names (they map to the same metric names), so "orders.v1" cannot exist `+
			`beside the topic named in the message: choose a name that differs in more than '.' versus '_'`, err.Error())
		assert.False(t, c.exists(t, "orders.v1"))
	})

	t.Run("TOPIC_DELETION_DISABLED names delete.topic.enable", func(t *testing.T) {
		state := mustCreate(t, s, topicProps("kept", 1, 1, nil))
		err := del(s, "kept", state)
		require.Error(t, err)
		assert.Equal(t, `topic "kept": TOPIC_DELETION_DISABLED: `+kerr.TopicDeletionDisabled.Description+` `+
			`(DeleteTopics): the brokers set delete.topic.enable=false, so Kafka deletes no topic: set `+
			`delete.topic.enable=true on the brokers to delete "kept", or keep the topic and stop managing it with `+
			`pulumi state delete <urn> (set protectTopics on the provider to refuse deletes up front)`, err.Error())
		assert.True(t, c.exists(t, "kept"))
	})
}
