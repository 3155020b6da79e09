package provider

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	c := newCluster(t)
	s := server(t, c.addrs, nil)
	state := mustCreate(t, s, topicProps("orders", 3, 2, map[string]string{"retention.ms": "1000"}))
	t.Logf("%#v", state)
	r, err := read(s, "orders", state)
	require.NoError(t, err)
	t.Logf("%#v", r)
	parts, rf, cfg := c.describe(t, "orders")
	assert.Equal(t, 3, parts)
	assert.Equal(t, 2, rf)
	t.Log(cfg)
}
