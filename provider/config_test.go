package provider

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientIsLazyAndShared guards the connection contract: Configure
// creates no client, the first use creates one, later uses get the same one.
func TestClientIsLazyAndShared(t *testing.T) {
	cfg := &Config{BootstrapServers: []string{"127.0.0.1:1"}}
	require.NoError(t, cfg.Configure(context.Background()))
	require.NotNil(t, cfg.conn)
	assert.Nil(t, cfg.conn.cl, "Configure must not create the Kafka client")

	// Resources see copies of the config (infer.GetConfig returns a value);
	// the copies share the one connection.
	first, second := *cfg, *cfg
	a, err := first.client()
	require.NoError(t, err)
	b, err := second.client()
	require.NoError(t, err)
	assert.Same(t, a, b)
	t.Cleanup(a.Close)
	assert.Equal(t, time.Duration(DefaultTimeoutSeconds)*time.Second, a.Timeout())
}

func TestUnconfiguredClient(t *testing.T) {
	_, err := Config{}.client()
	require.EqualError(t, err, "umbrellakafka provider is not configured: Configure must run before resource operations")
}
