package localkafka

import (
	"fmt"
	"syscall"
)

// Pause freezes node id's JVM with SIGSTOP: it keeps its connections and its
// registration but answers nothing and fetches nothing, as a broker stuck in
// a long GC pause or on a dead disk. Resume undoes it; a node paused longer
// than broker.session.timeout.ms is fenced by the controller meanwhile.
func (c *Cluster) Pause(id int) error { return c.signal(id, syscall.SIGSTOP) }

// Resume lets a paused node run again (SIGCONT).
func (c *Cluster) Resume(id int) error { return c.signal(id, syscall.SIGCONT) }

func (c *Cluster) signal(id int, sig syscall.Signal) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	pid, _, ok := n.running()
	if !ok {
		return fmt.Errorf("localkafka: node %d is not running", id)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("localkafka: node %d (pid %d): %s: %w", id, pid, sig, err)
	}
	return nil
}
