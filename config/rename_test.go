package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTopicRenameKeepsTheID guards issue 14 item 3: a rename is a name field
// under the topic's id, so the id (which names the Pulumi resource) stays.
func TestTopicRenameKeepsTheID(t *testing.T) {
	r := validDev()
	r.TopicOverrides = map[string]RawTopic{"alerts": {Name: sp("alerts-v2")}}
	r.Topics = &RawTopics{Extra: map[string]RawTopic{"audit": {Name: sp("audit.events")}}}
	s, err := Build("dev", r)
	require.NoError(t, err)
	got := map[string]string{}
	for _, tp := range s.Topics {
		got[tp.ID] = tp.Name
	}
	assert.Equal(t, map[string]string{
		"alerts": "alerts-v2", "audit": "audit.events", "dead-letter": "dead-letter",
		"normalized-messages": "normalized-messages", "normalized-messages-dlq": "normalized-messages-dlq",
		"parsed-messages": "parsed-messages", "processing-results": "processing-results", "raw-messages": "raw-messages",
	}, got)
}

func TestTopicRenameRefusals(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *Raw)
		want string
	}{
		{
			name: "onto another topic",
			edit: func(r *Raw) { r.TopicOverrides = map[string]RawTopic{"alerts": {Name: sp("dead-letter")}} },
			want: `topicOverrides.alerts.name = "dead-letter": duplicates topic "dead-letter"`,
		},
		{
			name: "an invalid name",
			edit: func(r *Raw) { r.TopicOverrides = map[string]RawTopic{"alerts": {Name: sp("bad name")}} },
			want: "topicOverrides.alerts.name",
		},
		{
			name: "in topicDefaults",
			edit: func(r *Raw) { r.TopicDefaults = &RawTopic{Name: sp("x")} },
			want: `topicDefaults.name = "x": would give every topic the same name`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validDev()
			tt.edit(&r)
			_, err := Build("dev", r)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
