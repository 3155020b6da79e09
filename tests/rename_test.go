package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTopicRenameKeepsTheResource guards issue 14 item 3. Topic resources were
// named after the Kafka topic, so a rename in stack config was a delete of one
// resource and a create of another: the provider's rename guard never ran, dev
// lost the old topic's data and prod's protected delete failed on every up.
// Now the resource is named after the topic's stable id and a rename changes
// only its name input. Names (and so URNs) of topics not renamed are those
// existing stacks already have: the inventory names, no alias needed.
func TestTopicRenameKeepsTheResource(t *testing.T) {
	inventory := []string{"alerts", "dead-letter", "normalized-messages", "normalized-messages-dlq",
		"parsed-messages", "processing-results", "raw-messages"}
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack+" as shipped keeps its resource names", func(t *testing.T) {
			rec, err := run(t, stack, stackConfig(t, stack), nil)
			require.NoError(t, err)
			var names []string
			for _, tp := range rec.byType("umbrellakafka:index:Topic") {
				names = append(names, tp.Name)
				assert.Equal(t, "topics", tp.Parent, tp.Name)
				assert.Equal(t, tp.Name, tp.Inputs["name"].StringValue(), "not renamed: the name input is the resource name")
			}
			assert.Equal(t, inventory, names)
		})
	}

	t.Run("a rename changes the name input of the same resource", func(t *testing.T) {
		cfg := stackConfig(t, "dev")
		cfg["umbrella-streaming:topicOverrides"] = `{"alerts":{"name":"alerts-v2"}}`
		cfg["umbrella-streaming:topics"] = `{"manager":"provider","extra":{"audit":{"name":"audit.events"}}}`
		rec, err := run(t, "dev", cfg, nil)
		require.NoError(t, err)
		got := map[string]string{}
		for _, tp := range rec.byType("umbrellakafka:index:Topic") {
			got[tp.Name] = tp.Inputs["name"].StringValue()
		}
		assert.Equal(t, map[string]string{
			"alerts": "alerts-v2", "audit": "audit.events", "dead-letter": "dead-letter",
			"normalized-messages": "normalized-messages", "normalized-messages-dlq": "normalized-messages-dlq",
			"parsed-messages": "parsed-messages", "processing-results": "processing-results", "raw-messages": "raw-messages",
		}, got)
	})
}
