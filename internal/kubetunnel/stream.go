package kubetunnel

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
)

// streamConn is a net.Conn over one port-forward data stream. It is one end
// of a net.Pipe (which gives it working deadlines, which franz-go sets on
// every read and write) whose other end is pumped to and from the stream.
type streamConn struct {
	net.Conn
	local, remote tunnelAddr

	mu      sync.Mutex
	failure error // why the stream ended, if not a plain close
	gotData bool
}

// tunnelAddr names a stream's ends in errors and logs.
type tunnelAddr string

func (a tunnelAddr) Network() string { return "kubernetes-portforward" }
func (a tunnelAddr) String() string  { return string(a) }

func newStreamConn(conn httpstream.Connection, errStream, data httpstream.Stream, addr, target string) *streamConn {
	outer, inner := net.Pipe()
	c := &streamConn{Conn: outer, local: tunnelAddr("portforward->" + target), remote: tunnelAddr(addr)}
	var once sync.Once
	done := make(chan struct{})
	cleanup := func() {
		once.Do(func() {
			close(done)
			inner.Close()
			data.Reset()
			errStream.Reset()
			conn.RemoveStreams(errStream, data)
		})
	}
	errDone := make(chan struct{})
	go func() {
		// The other side writes a message here when it could not forward
		// (no such port, nothing listening in the pod), then closes.
		msg, _ := io.ReadAll(errStream)
		if m := strings.TrimSpace(string(msg)); m != "" {
			c.fail(&tunnelError{addr: addr, msg: fmt.Sprintf("pod %s: %s", target, m)})
			cleanup()
		}
		close(errDone)
	}()
	go func() {
		_, err := io.Copy(inner, data)
		if err == nil {
			// The data stream ended: give the error stream a moment to say why.
			select {
			case <-errDone:
			case <-time.After(time.Second):
			}
		} else if !errors.Is(err, io.ErrClosedPipe) {
			c.fail(&tunnelError{addr: addr, msg: fmt.Sprintf("the port-forward stream to pod %s broke", target), err: err})
		}
		cleanup()
	}()
	go func() {
		_, err := io.Copy(data, inner)
		if err != nil && !errors.Is(err, io.ErrClosedPipe) && !errors.Is(err, io.EOF) {
			c.fail(&tunnelError{addr: addr, msg: fmt.Sprintf("the port-forward stream to pod %s broke", target), err: err})
		}
		cleanup()
	}()
	go func() {
		select {
		case <-conn.CloseChan():
			c.fail(&tunnelError{addr: addr, msg: fmt.Sprintf("the connection to the API server for pod %s closed", target)})
			cleanup()
		case <-done:
		}
	}()
	return c
}

func (c *streamConn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failure == nil {
		c.failure = err
	}
}

// ended turns the pipe's end-of-stream into the reason the stream ended. A
// stream that ends before the broker said anything is a failed forward, not
// an EOF from Kafka: franz-go would take an EOF on a first read for a TLS or
// SASL mismatch and give up.
func (c *streamConn) ended(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failure != nil {
		return c.failure
	}
	if !c.gotData && errors.Is(err, io.EOF) {
		return &tunnelError{addr: string(c.remote), noAnswer: true, msg: fmt.Sprintf("the stream to pod %s closed before "+
			"the broker answered (is the broker listening on that port?)", strings.TrimPrefix(string(c.local), "portforward->"))}
	}
	return err
}

// Read reads from the stream.
func (c *streamConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.gotData = true
		c.mu.Unlock()
	}
	if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe)) {
		return n, c.ended(err)
	}
	return n, err
}

// Write writes to the stream.
func (c *streamConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil && errors.Is(err, io.ErrClosedPipe) {
		c.mu.Lock()
		f := c.failure
		c.mu.Unlock()
		if f != nil {
			return n, f
		}
		// The stream ended: report it like a reset TCP connection, which franz-go retries.
		return n, &tunnelError{addr: string(c.remote), msg: "the port-forward stream closed", err: err}
	}
	return n, err
}

// LocalAddr names the tunnel.
func (c *streamConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr is the broker address that was dialed.
func (c *streamConn) RemoteAddr() net.Addr { return c.remote }
