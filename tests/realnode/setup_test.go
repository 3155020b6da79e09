//go:build realnode

package realnode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The registry's port is picked free, then bound seconds later by the
// registry scripts/node.sh starts (issue 24 item 11): a port another process
// took meanwhile costs a retry on a new port, not the tier.
func TestRegistryPortTakenBeforeTheBindIsRetried(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0") // another process's, held throughout
	require.NoError(t, err)
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port

	t.Run("the real registry exits saying so when its port is taken", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "registry.yaml")
		require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, "version: 0.1\nstorage:\n  filesystem: {rootdirectory: %s}\nhttp:\n  addr: 127.0.0.1:%d\n",
			dir, takenPort), 0o644))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "registry", "serve", cfg).CombinedOutput()
		require.Error(t, err, "the registry must not serve on a taken port:\n%s", out)
		require.NoError(t, ctx.Err(), "the registry exited on its own")
		assert.True(t, addressInUse(string(out)), "registryBindFailed recognises the registry's own words:\n%s", out)
	})

	t.Run("a start that could not bind is retried on a new port", func(t *testing.T) {
		picks := []int{takenPort}
		pick := func() (int, error) {
			if len(picks) > 0 {
				p := picks[0]
				picks = picks[1:]
				return p, nil
			}
			return freePort()
		}
		var tried []int
		out, err := onFreePort(3, pick, func(port int) (string, error) {
			tried = append(tried, port)
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)) // the registry's bind
			if err != nil {
				return "", err
			}
			l.Close()
			return fmt.Sprint(port), nil
		}, func(err error) bool { return errors.Is(err, syscall.EADDRINUSE) })
		require.NoError(t, err)
		require.Len(t, tried, 2, "one retry")
		assert.Equal(t, takenPort, tried[0])
		assert.NotEqual(t, takenPort, tried[1])
		assert.Equal(t, fmt.Sprint(tried[1]), out)
	})

	t.Run("any other failure is not retried", func(t *testing.T) {
		calls := 0
		_, err := onFreePort(3, freePort, func(int) (string, error) {
			calls++
			return "", errors.New("the node did not come up")
		}, func(error) bool { return false })
		require.Error(t, err)
		assert.Equal(t, 1, calls)
	})
}
