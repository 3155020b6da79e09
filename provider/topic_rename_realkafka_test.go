//go:build realkafka

package provider

import (
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealKafkaAllowedRenameCreatesFirst guards issue 14 item 3 against a
// real broker: an allowed rename is a replacement that does not delete
// first, so the engine creates the new topic while the old one (and its
// data) still exists, and deletes the old one only after that worked.
func TestRealKafkaAllowedRenameCreatesFirst(t *testing.T) {
	lk, c := realCluster(t, "dev")
	s := server(t, c.addrs, map[string]property.Value{"allowReplace": property.New(true)})

	old := mustCreate(t, s, topicProps("renamed-from", 2, 1, map[string]string{"retention.ms": "3600000"}))
	offsets := produceNumbered(t, lk, "renamed-from", 0, 10)
	news := topicProps("renamed-to", 2, 1, map[string]string{"retention.ms": "3600000"})

	d, err := s.Diff(p.DiffRequest{ID: "renamed-from", Urn: urn("topic"), State: old, Inputs: news})
	require.NoError(t, err)
	assert.Equal(t, p.DiffResponse{HasChanges: true, DeleteBeforeReplace: false,
		DetailedDiff: map[string]p.PropertyDiff{"name": {Kind: p.UpdateReplace}}}, d)

	// The engine's create-before-delete replacement: the new topic first.
	assert.Equal(t, news, mustCreate(t, s, news))
	assert.True(t, c.exists(t, "renamed-from"), "the old topic is still there while the new one is created")
	assert.Len(t, consumePartition(t, lk, "renamed-from", 0, offsets[len(offsets)-1]+1), 10, "and keeps its records")
	assertEveryBroker(t, c, "renamed-to", 2, 1, map[string]string{"retention.ms": "3600000"})

	require.NoError(t, del(s, "renamed-from", old))
	assert.False(t, c.exists(t, "renamed-from"))
	assert.True(t, c.exists(t, "renamed-to"))
}
