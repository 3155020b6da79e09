package localkafka

import (
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Picked ports lie outside the ephemeral range, where a released port is
// handed to the next outgoing connection: here the test makes such
// connections between picks, and no pick lands in the range.
func TestPickedPortsAvoidTheEphemeralRange(t *testing.T) {
	lo := ephemeralLow()
	require.Greater(t, lo, portFloor+1000, "this machine's ephemeral range starts at %d", lo)
	srv, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	require.NoError(t, err)
	defer srv.Close()
	go func() {
		for {
			c, err := srv.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	seen := map[int]bool{}
	for range 50 {
		p, err := FreePort(Host)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, p, portFloor)
		assert.Less(t, p, lo, "port %d is in the ephemeral range", p)
		seen[p] = true
		c, err := net.Dial("tcp", srv.Addr().String()) // an outgoing connection takes an ephemeral port
		require.NoError(t, err)
		_, port, _ := net.SplitHostPort(c.LocalAddr().String())
		n, _ := strconv.Atoi(port)
		assert.GreaterOrEqual(t, n, lo, "the kernel's own pick is in the range (so the check above means something)")
		c.Close()
	}
	assert.Greater(t, len(seen), 40, "picks are spread, not one port again and again")

	client, controller, err := pickPorts(3, nil)
	require.NoError(t, err)
	for _, p := range append(client, controller...) {
		assert.Less(t, p, lo, "node port %d is in the ephemeral range", p)
	}
}
