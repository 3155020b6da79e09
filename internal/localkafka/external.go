package localkafka

import (
	"net"
	"strconv"
)

// ExternalListenerName is the extra listener's name in server.properties.
const ExternalListenerName = "EXTERNAL"

// ExternalListener is a second client listener on every node, bound to a free
// loopback port, that advertises Advertise(id) instead of the loopback
// address. It lets a local cluster look like the in-cluster one to a client:
// with Advertise returning components.PodFQDN(namespace, id)+":9092", a
// client that bootstraps on this listener is told the pods' names, which do
// not resolve here, exactly as a deploy machine outside the cluster is. The
// nodes keep talking to each other (and their controllers) on the loopback
// listeners that components.ServerProperties renders; only clients that
// connect to ExternalAddr see the advertised names.
type ExternalListener struct {
	// Advertise returns node id's advertised host:port on this listener.
	Advertise func(id int) string
}

func externalPorts(o Options) int {
	if o.External == nil {
		return 0
	}
	return o.Nodes
}

// withExternal adds the external listener to a node's server.properties text.
func (c *Cluster) withExternal(props string, n *node) string {
	if c.opts.External == nil {
		return props
	}
	return withListeners(props, []listenerAdd{{ExternalListenerName, "PLAINTEXT", n.externalPort,
		c.opts.External.Advertise(n.id)}})
}

// ExternalAddr is node id's address on the external listener ("" without
// Options.External).
func (c *Cluster) ExternalAddr(id int) string {
	if c.opts.External == nil {
		return ""
	}
	return net.JoinHostPort(Host, strconv.Itoa(c.nodes[id].externalPort))
}

// ExternalBootstrap returns every node's external listener address, by node id.
func (c *Cluster) ExternalBootstrap() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, c.ExternalAddr(n.id))
	}
	return out
}
