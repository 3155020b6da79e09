package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
)

// runMainEnv makes the test binary run main() instead of the tests, so a test
// can start the real command as a child process and signal it.
const runMainEnv = "KAFKA_LAG_EXPORTER_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// command starts this binary as kafka-lag-exporter with args.
func command(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), runMainEnv+"=1"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// freeAddr is a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// The built command: the bootstrap from the environment, /healthz and
// /metrics served, and SIGTERM ends it with exit 0 after a graceful shutdown.
func TestSIGTERMShutsDownGracefully(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	require.NoError(t, err)
	defer c.Close()
	addr := freeAddr(t)
	cmd, stderr := command(t, []string{"LAG_EXPORTER_BOOTSTRAP=" + strings.Join(c.ListenAddrs(), ",")},
		"--listen", addr, "--interval", "1s")
	require.NoError(t, cmd.Start())
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill() // only the child this test started
			<-exited
		}
	})

	var metrics string
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		metrics = string(b)
		return strings.Contains(metrics, "\numbrella_lag_exporter_up 1\n")
	}, 20*time.Second, 100*time.Millisecond, "stderr: %s", stderr)
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
		require.NoError(t, waitErr, "exit 0; stderr: %s", stderr)
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit 15 s after SIGTERM; stderr: %s", stderr)
	}
	assert.Contains(t, stderr.String(), "kafka-lag-exporter: shutting down\n")
	_, err = http.Get("http://" + addr + "/metrics")
	assert.Error(t, err, "nothing listens any more")
}

// A bad flag ends the command at once with exit 2 and the message.
func TestBadFlagExitsTwo(t *testing.T) {
	cmd, stderr := command(t, nil, "--bootstrap", "127.0.0.1:9092", "--interval", "100ms")
	err := cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "err %v", err)
	assert.Equal(t, 2, exit.ExitCode())
	assert.Equal(t, "kafka-lag-exporter: --interval 100ms is below the minimum 1s: give 1s or more (the default is 15s)\n",
		stderr.String())
}
