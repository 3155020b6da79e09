package localkafka

import (
	"fmt"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
)

// Quorum changes on a running local cluster. The stack grows its quorum by
// raising controllers: pods 0..controllers-1 become combined broker+controller
// nodes after a restart, and the voters are then added through the Kafka API
// (provider EnsureVoters). SetControllers and UseDynamicQuorum rewrite the
// nodes' server.properties the same way; the caller restarts the nodes it
// wants to pick the change up (Restart keeps a node's data: storage is never
// formatted again).

// serverProperties is node id's server.properties text before the external
// and security listeners are added: the stack's static quorum, or the dynamic
// form with Options.DynamicQuorum / UseDynamicQuorum.
func (c *Cluster) serverProperties(id int) string {
	c.specMu.Lock()
	s, dynamic := c.spec, c.dynamic
	c.specMu.Unlock()
	if dynamic {
		return components.DynamicServerProperties(s, c.net, id)
	}
	return components.ServerProperties(s, c.net, id)
}

// formatArgs are node id's quorum flags for kafka-storage format: none for a
// static quorum (the voters come from controller.quorum.voters), the new
// cluster's bootstrap flags for a dynamic one. Storage already formatted is
// skipped (--ignore-formatted), so these only matter at the first Start.
func (c *Cluster) formatArgs(id int) []string {
	c.specMu.Lock()
	s, dynamic := c.spec, c.dynamic
	c.specMu.Unlock()
	if !dynamic {
		return nil
	}
	// The cluster's first voters are the controllers it was started with.
	q := *s
	q.Quorum = config.NewClusterQuorum(c.opts.Spec.Controllers)
	return components.FormatArgs(&q, c.net, id)
}

// DynamicQuorum reports whether the nodes' files describe a dynamic quorum.
func (c *Cluster) DynamicQuorum() bool {
	c.specMu.Lock()
	defer c.specMu.Unlock()
	return c.dynamic
}

// SetControllers makes nodes 0..n-1 combined broker+controller nodes and the
// rest broker-only in every node's server.properties, as raising or lowering
// the stack's controllers does, with controller.quorum.bootstrap.servers
// listing the n controllers. Running nodes are not touched: Restart a node
// for it to run with its new roles. Only a dynamic quorum can change its
// controllers this way; a static one is migrated first (UseDynamicQuorum,
// after kraft.version 1).
func (c *Cluster) SetControllers(n int) error {
	if n < 1 || n > len(c.nodes) {
		return fmt.Errorf("localkafka: SetControllers(%d): the cluster has nodes 0..%d, so 1 to %d controllers",
			n, len(c.nodes)-1, len(c.nodes))
	}
	c.specMu.Lock()
	if !c.dynamic {
		c.specMu.Unlock()
		return fmt.Errorf("localkafka: SetControllers(%d): the nodes run a static quorum (controller.quorum.voters), whose "+
			"voters cannot change live: upgrade kraft.version to 1 and call UseDynamicQuorum first", n)
	}
	s := *c.spec
	s.Controllers = n
	c.spec = &s
	c.specMu.Unlock()
	return c.writeFiles()
}

// UseDynamicQuorum rewrites every node's server.properties from the static
// form (controller.quorum.voters) to the dynamic one
// (controller.quorum.bootstrap.servers), the second step of migrating a static
// cluster once kraft.version is 1. Restart each node to apply it.
func (c *Cluster) UseDynamicQuorum() error {
	c.specMu.Lock()
	c.dynamic = true
	c.specMu.Unlock()
	return c.writeFiles()
}

// ControllerPort is node id's controller listener port (bound only while the
// node runs as a controller).
func (c *Cluster) ControllerPort(id int) int { return c.nodes[id].controllerPort }
