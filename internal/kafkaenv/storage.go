package kafkaenv

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// MetaFile is the file kafka-storage.sh format writes into every log directory.
const MetaFile = "meta.properties"

// LogDir is one data folder as the node found it: its meta.properties text,
// nil when the folder was never formatted.
type LogDir struct {
	Path string
	Meta *string
}

// Storage is what the node does with its folders before Kafka starts.
type Storage struct {
	// Format is false when every folder is already formatted for this cluster
	// and node: a restart, or a `docker compose down` and `up` on the same volume.
	Format bool
	// Args are kafka-storage.sh's arguments when Format is set.
	Args []string
}

// StoragePlan formats the log directories on the node's first start only, as
// apache/kafka's launch does (it runs format and ignores "already formatted"),
// and refuses what would otherwise stop Kafka with a stack trace: a folder
// formatted for another cluster id or node id, which is what a changed
// CLUSTER_ID or KAFKA_NODE_ID on an old volume looks like.
func StoragePlan(env Env, n *Node, config string, dirs []LogDir) (Storage, error) {
	formatted := 0
	for _, d := range dirs {
		if d.Meta == nil {
			continue
		}
		formatted++
		if err := checkMeta(env, n, d); err != nil {
			return Storage{}, err
		}
	}
	if formatted == len(dirs) {
		return Storage{}, nil
	}
	args := []string{"format", "--cluster-id", env[ClusterIDVar], "--config", config}
	if formatted > 0 {
		args = append(args, "--ignore-formatted")
	}
	if n.Controller && len(n.Voters) == 0 {
		args = append(args, "--standalone")
	}
	return Storage{Format: true, Args: args}, nil
}

func checkMeta(env Env, n *Node, d LogDir) error {
	meta := ParseProperties(*d.Meta)
	if id := meta["cluster.id"]; id != env[ClusterIDVar] {
		return errors.New(rules.Message(ClusterIDVar, env[ClusterIDVar],
			fmt.Sprintf("the data in %s belongs to cluster %q (its %s), and Kafka refuses to start on another cluster's data", d.Path, id, MetaFile),
			fmt.Sprintf("set CLUSTER_ID back to %s to keep the data, or remove the volume to start empty (`docker compose down -v`)", id)))
	}
	if id, ok := meta["node.id"]; ok && id != strconv.Itoa(n.ID) {
		return errors.New(rules.Message(VariableName(propNodeID), n.ID,
			fmt.Sprintf("the data in %s belongs to node %s (its %s)", d.Path, id, MetaFile),
			fmt.Sprintf("set KAFKA_NODE_ID back to %s, or remove the volume to start empty (`docker compose down -v`)", id)))
	}
	return nil
}
