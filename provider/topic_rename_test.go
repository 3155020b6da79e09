package provider

import (
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRenameOfProtectedTopicRefusedAtPreview guards issue 14 item 3 in prod:
// allowReplace with protectTopics let a rename create the new topic and then
// fail to delete the old one on every later up. Refused in Diff instead.
func TestRenameOfProtectedTopicRefusedAtPreview(t *testing.T) {
	olds := topicProps("orders", 3, 3, nil)
	s := server(t, []string{"127.0.0.1:1"}, map[string]property.Value{
		"allowReplace": property.New(true), "protectTopics": property.New(true),
	})
	_, err := s.Diff(p.DiffRequest{ID: "orders", Urn: urn("orders"), State: olds, Inputs: topicProps("orders2", 3, 3, nil)})
	require.EqualError(t, err, `topic "orders": renaming it to "orders2" creates "orders2" and then deletes "orders", `+
		`but the provider sets protectTopics = true, so the delete would be refused on this and every later update. `+
		`Restore name = "orders", or set protectTopics to false for this update (umbrella-streaming stacks: `+
		`topics.protect: false) to accept deleting "orders" with its data`)

	// Other changes of a protected topic still go through.
	d, err := s.Diff(p.DiffRequest{ID: "orders", Urn: urn("orders"), State: olds, Inputs: topicProps("orders", 6, 3, nil)})
	require.NoError(t, err)
	assert.Equal(t, map[string]p.PropertyDiff{"partitions": {Kind: p.Update}}, d.DetailedDiff)
}
