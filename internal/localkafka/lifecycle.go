package localkafka

// A node's JVM: its command line, starting it, and killing, stopping and
// restarting it, one node or the whole cluster.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// jvmArgs is a node's java command line.
func (c *Cluster) jvmArgs(id int) []string {
	d := nodeDir(c.opts.Dir, id)
	args := strings.Fields(c.opts.HeapOpts)
	args = append(args,
		// C1 only: on 2 cores C2's compile threads compete with startup
		// (a 3-node start measured 22-23 s with C2, 16 s without);
		// throughput is not what a local cluster is for.
		"-XX:TieredStopAtLevel=1",
		"-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile="+filepath.Join(d, log4jFile),
		"-Dkafka.logs.dir="+d)
	args = append(args, c.opts.ExtraJVMOpts...)
	return append(args, "-cp", classpath(c.NodeLibs(id)), ServerClass, filepath.Join(d, propertiesFile))
}

// SetNodeLibs makes node id run the Kafka jars in libs from its next start
// (Restart): a software upgrade or rollback, one node at a time, as a
// StatefulSet rolls its pods onto a new image.
func (c *Cluster) SetNodeLibs(id int, libs string) error {
	if _, err := c.node(id); err != nil {
		return err
	}
	if err := checkLibs(libs); err != nil {
		return err
	}
	c.specMu.Lock()
	defer c.specMu.Unlock()
	if c.nodeLibs == nil {
		c.nodeLibs = map[int]string{}
	}
	c.nodeLibs[id] = libs
	return nil
}

// NodeLibs are the jars node id runs (or will at its next start).
func (c *Cluster) NodeLibs(id int) string {
	c.specMu.Lock()
	defer c.specMu.Unlock()
	if l, ok := c.nodeLibs[id]; ok {
		return l
	}
	return c.libs
}

// startProcess starts node n's JVM in its own session, output appended to
// console.log, and records its pid.
func (c *Cluster) startProcess(n *node) error {
	d := nodeDir(c.opts.Dir, n.id)
	console, err := os.OpenFile(filepath.Join(d, consoleFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer console.Close()
	args := c.jvmArgs(n.id)
	fmt.Fprintf(console, "=== localkafka: starting node %d at %s: %s %s\n", n.id, time.Now().Format(time.RFC3339),
		c.opts.Java, strings.Join(args, " "))
	cmd := exec.Command(c.opts.Java, args...)
	cmd.Dir = d
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if !c.opts.Detach {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("localkafka: node %d: starting %s: %w", n.id, c.opts.Java, err)
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.pid, n.exited, n.state = cmd.Process.Pid, exited, ""
	n.mu.Unlock()
	if err := writePid(c.opts.Dir, n.id, cmd.Process.Pid); err != nil {
		_ = signalNode(cmd.Process.Pid, syscall.SIGKILL)
		return err
	}
	go func() {
		err := cmd.Wait()
		state := "exited with status 0"
		if err != nil {
			state = err.Error()
		}
		n.mu.Lock()
		n.state = state
		n.mu.Unlock()
		removePid(c.opts.Dir, n.id)
		close(exited)
	}()
	return nil
}

// running returns the node's pid and exit channel if its process runs.
func (n *node) running() (pid int, exited chan struct{}, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exited == nil {
		return 0, nil, false
	}
	select {
	case <-n.exited:
		return 0, nil, false
	default:
		return n.pid, n.exited, true
	}
}

// exitState says how the node's last process ended ("" while it runs).
func (n *node) exitState() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

// Kill sends SIGKILL to node id (a crash: no controlled shutdown) and waits
// until the process has exited.
func (c *Cluster) Kill(id int) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	return c.signalAndWait(n, syscall.SIGKILL, 10*time.Second)
}

// StopNode shuts node id down with SIGTERM (a controlled shutdown: the
// controller moves its leaderships and shrinks its ISRs first) and kills it
// if it has not exited after the stop timeout.
func (c *Cluster) StopNode(id int) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	return c.stopNode(n)
}

func (c *Cluster) stopNode(n *node) error {
	err := c.signalAndWait(n, syscall.SIGTERM, c.opts.StopTimeout)
	if err == nil {
		return nil
	}
	if errKill := c.signalAndWait(n, syscall.SIGKILL, 10*time.Second); errKill != nil {
		return errKill
	}
	return nil
}

// signalAndWait signals the node's process group and waits up to timeout for
// the process to exit. A node that does not run is not an error.
func (c *Cluster) signalAndWait(n *node, sig syscall.Signal, timeout time.Duration) error {
	pid, exited, ok := n.running()
	if !ok {
		return nil
	}
	if err := signalNode(pid, sig); err != nil {
		return fmt.Errorf("localkafka: node %d (pid %d): %s: %w", n.id, pid, sig, err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("localkafka: node %d (pid %d) still runs %s after %s (%s)", n.id, pid, timeout, sig,
			c.Logs(n.id))
	}
}

// Restart starts node id again (stopping it first if it runs) and waits until
// it is back: answering on its own client port and listed by the cluster.
func (c *Cluster) Restart(ctx context.Context, id int) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	if err := c.stopNode(n); err != nil {
		return err
	}
	if err := c.startProcess(n); err != nil {
		return err
	}
	return c.waitReady(ctx, []int{id})
}

// Stop ends every node: SIGTERM to all at once, SIGKILL to those still
// running after the stop timeout. It returns once no node process runs.
// Calling it again does nothing.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var wg sync.WaitGroup
		errs := make([]error, len(c.nodes))
		for i, n := range c.nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = c.stopNode(n)
			}()
		}
		wg.Wait()
		if c.admin != nil {
			c.admin.Close()
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}
