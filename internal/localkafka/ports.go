package localkafka

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Ports for servers started later (a broker, a JVM agent, Prometheus, a node
// restarted on its old ports) are picked outside the kernel's ephemeral range.
// A port from net.Listen(":0") is in that range, and once released the kernel
// may hand it to the very next outgoing connection or ":0" listener of any
// process here, so the server's later bind can fail (seen on restarts). Below
// the range only an explicit bind takes a port, and the other pickers choose at
// random among some twenty thousand.

// portFloor is the lowest port picked: above the well-known and usual service
// ports.
const portFloor = 10000

// ephemeralLow is the first port of the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), 32768 if it cannot be read.
func ephemeralLow() int {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if lo, err := strconv.Atoi(f[0]); err == nil {
				return lo
			}
		}
	}
	return 32768
}

// listenFree listens on a free port of host outside the ephemeral range; the
// caller holds the listener until every port it needs is chosen.
func listenFree(host string) (net.Listener, error) {
	lo := ephemeralLow()
	if lo-portFloor < 1000 { // a machine whose ephemeral range starts low: take the kernel's pick
		return net.Listen("tcp", net.JoinHostPort(host, "0"))
	}
	var err error
	for range 200 {
		var l net.Listener
		if l, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(portFloor+rand.IntN(lo-portFloor)))); err == nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("localkafka: no free port on %s between %d and %d after 200 tries: %w", host, portFloor, lo-1, err)
}

// FreePort returns a port of host that is free now and outside the ephemeral
// range, for a server the caller starts next.
func FreePort(host string) (int, error) {
	l, err := listenFree(host)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pickPorts returns each node's client and controller port: the fixed client
// ports given (checked free) and free loopback ports outside the ephemeral
// range for the rest (ports.go: a node restarts on the same ports). All
// listeners stay open until every port is chosen, so no port is picked twice.
func pickPorts(nodes int, fixed []int) (client, controller []int, err error) {
	var open []net.Listener
	defer func() {
		for _, l := range open {
			l.Close()
		}
	}()
	listen := func(port int) (int, error) {
		var l net.Listener
		var err error
		if port != 0 {
			l, err = net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(port)))
		} else {
			l, err = listenFree(Host) // outside the ephemeral range (ports.go)
		}
		if err != nil {
			if port != 0 {
				return 0, fmt.Errorf("localkafka: client port %d on %s is taken (another local cluster? stop it "+
					"with go run ./cmd/localkafka stop): %w", port, Host, err)
			}
			return 0, fmt.Errorf("localkafka: picking a free port on %s: %w", Host, err)
		}
		open = append(open, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	client = make([]int, nodes)
	controller = make([]int, nodes)
	for i := range client {
		want := 0
		if i < len(fixed) {
			want = fixed[i]
		}
		if client[i], err = listen(want); err != nil {
			return nil, nil, err
		}
		if controller[i], err = listen(0); err != nil {
			return nil, nil, err
		}
	}
	return client, controller, nil
}
