package localkafka

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
)

// unstartedCluster is a three-node cluster of the prod stack with one
// controller whose files can be written, without any JVM.
func unstartedCluster(t *testing.T, dynamic bool) *Cluster {
	t.Helper()
	prod, err := LoadStack(filepath.Join("..", ".."), "prod")
	require.NoError(t, err)
	spec := Plaintext(prod)
	spec.Controllers = 1
	dir := t.TempDir()
	c := &Cluster{opts: Options{Dir: dir, Spec: spec}, spec: spec, dynamic: dynamic}
	for id := range 3 {
		c.nodes = append(c.nodes, &node{id: id, clientPort: 19092 + id, controllerPort: 19192 + id})
	}
	c.net = c.loopbackNetwork(dir)
	return c
}

func nodeFile(t *testing.T, c *Cluster, id int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(nodeDir(c.opts.Dir, id), propertiesFile))
	require.NoError(t, err)
	return string(b)
}

func TestSetControllersRewritesRolesAndBootstrap(t *testing.T) {
	c := unstartedCluster(t, true)
	require.NoError(t, c.writeFiles())
	assert.Equal(t, components.DynamicServerProperties(c.Spec(), c.net, 1), nodeFile(t, c, 1))
	assert.Contains(t, nodeFile(t, c, 1), "\nprocess.roles=broker\n")
	assert.Equal(t, []string{"--standalone"}, c.formatArgs(0))
	assert.Equal(t, []string{"--no-initial-controllers"}, c.formatArgs(1))

	require.NoError(t, c.SetControllers(3))
	assert.Equal(t, 3, c.Spec().Controllers)
	for id := range 3 {
		text := nodeFile(t, c, id)
		assert.Contains(t, text, "\nprocess.roles=broker,controller\n", "node %d", id)
		assert.Contains(t, text, "\ncontroller.quorum.bootstrap.servers=127.0.0.1:19192,127.0.0.1:19193,127.0.0.1:19194\n", "node %d", id)
		assert.Contains(t, text, "CONTROLLER://127.0.0.1:"+strconv.Itoa(19192+id), "node %d", id)
		assert.NotContains(t, text, "controller.quorum.voters", "node %d", id)
	}

	require.NoError(t, c.SetControllers(1))
	assert.Contains(t, nodeFile(t, c, 2), "\nprocess.roles=broker\n", "back to broker-only")
}

func TestSetControllersRefusals(t *testing.T) {
	c := unstartedCluster(t, true)
	assert.EqualError(t, c.SetControllers(0), "localkafka: SetControllers(0): the cluster has nodes 0..2, so 1 to 3 controllers")
	assert.EqualError(t, c.SetControllers(4), "localkafka: SetControllers(4): the cluster has nodes 0..2, so 1 to 3 controllers")

	static := unstartedCluster(t, false)
	assert.EqualError(t, static.SetControllers(3), "localkafka: SetControllers(3): the nodes run a static quorum "+
		"(controller.quorum.voters), whose voters cannot change live: upgrade kraft.version to 1 and call UseDynamicQuorum first")
	assert.Nil(t, static.formatArgs(0), "a static quorum is formatted without quorum flags")
}

func TestUseDynamicQuorumRewritesTheStaticFiles(t *testing.T) {
	c := unstartedCluster(t, false)
	require.NoError(t, c.writeFiles())
	assert.Contains(t, nodeFile(t, c, 0), "\ncontroller.quorum.voters=0@127.0.0.1:19192\n")
	require.NoError(t, c.UseDynamicQuorum())
	assert.True(t, c.DynamicQuorum())
	assert.Equal(t, components.DynamicServerProperties(c.Spec(), c.net, 0), nodeFile(t, c, 0))
	assert.NotContains(t, nodeFile(t, c, 0), "controller.quorum.voters")
}
