package localkafka

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// fakeNode starts a process that passes for node 0's Kafka under dir (its
// command line names the server class and the node's properties file), in
// its own session like a real node, and writes its pid file. script is what
// the shell runs.
func fakeNode(t *testing.T, dir, script string) *exec.Cmd {
	require.NoError(t, os.MkdirAll(nodeDir(dir, 0), 0o755))
	cmd := exec.Command("sh", "-c", script, ServerClass, filepath.Join(nodeDir(dir, 0), propertiesFile))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	require.NoError(t, writePid(dir, 0, cmd.Process.Pid))
	return cmd
}

// TestStopDirWaitsForSIGTERM guards StopDir's wait: a node that ends on
// SIGTERM is reported stopped and its pid file removed, without the grace
// period running out.
func TestStopDirWaitsForSIGTERM(t *testing.T) {
	dir := t.TempDir()
	// Not a lone command: dash runs the last simple command of -c in its own
	// process (exec), and the node's command line would become "sleep 30"
	// at a moment load decides (failed the cold CI of 2026-12-06).
	cmd := fakeNode(t, dir, "sleep 30; :")
	// The kernel ends the parent's wait for a started process (Go's Start
	// returns) before exec has set up the new command line: for a moment,
	// longer under load, /proc/PID/cmdline is empty (failed the cold CI of
	// 2026-12-07). A node is reported once its command line is there.
	var running map[int]int
	require.NoError(t, poll.Until(context.Background(), 10*time.Millisecond, 5*time.Second,
		func(context.Context) (bool, error) {
			var err error
			running, err = RunningNodes(dir)
			return len(running) > 0, err
		}), "the node's command line appears")
	require.Equal(t, map[int]int{0: cmd.Process.Pid}, running)

	start := time.Now()
	stopped, err := StopDir(dir, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, []int{0}, stopped)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.NoFileExists(t, filepath.Join(nodeDir(dir, 0), pidFile))
}

// TestStopDirKillsANodeThatIgnoresSIGTERM guards the second wait: after the
// grace period the node gets SIGKILL, and StopDir waits until it is gone.
func TestStopDirKillsANodeThatIgnoresSIGTERM(t *testing.T) {
	dir := t.TempDir()
	trapped := filepath.Join(dir, "trapped")
	fakeNode(t, dir, "trap '' TERM; : >"+trapped+"; while :; do sleep 0.05; done")
	require.NoError(t, poll.Until(context.Background(), 10*time.Millisecond, 5*time.Second,
		func(context.Context) (bool, error) {
			_, err := os.Stat(trapped)
			return err == nil, nil
		}), "the shell installs its trap")

	start := time.Now()
	stopped, err := StopDir(dir, 300*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, []int{0}, stopped)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "SIGKILL only after the grace period")
	running, err := RunningNodes(dir)
	require.NoError(t, err)
	assert.Empty(t, running)
}
