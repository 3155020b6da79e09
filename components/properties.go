package components

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// Network says where each node listens and how it is reached. The StatefulSet uses
// KubernetesNetwork; the local real-Kafka test harness passes loopback addresses,
// so both run server.properties from the same builder.
type Network struct {
	// Host is the address other nodes and clients use for node id.
	Host func(id int) string
	// ClientPort and ControllerPort are node id's ports.
	ClientPort     func(id int) int
	ControllerPort func(id int) int
	// BindHost is the listener bind address ("" = all interfaces).
	BindHost string
	// LogDir is node id's data directory.
	LogDir func(id int) string
}

// KubernetesNetwork is the in-cluster network: each pod advertises its headless
// Service name and listens on the fixed ports on all interfaces.
func KubernetesNetwork(namespace string) Network {
	return Network{
		Host:           func(id int) string { return PodFQDN(namespace, id) },
		ClientPort:     func(int) int { return ClientPort },
		ControllerPort: func(int) int { return ControllerPort },
		LogDir:         func(int) string { return LogDirPath },
	}
}

// Property is one server.properties line.
type Property struct{ Key, Value string }

// Voters returns controller.quorum.voters: id@host:port for every controller, sorted
// by id so the generated text never changes order between runs.
func Voters(s *config.Spec, net Network) string {
	ids := s.ControllerIDs()
	sort.Ints(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("%d@%s:%d", id, net.Host(id), net.ControllerPort(id))
	}
	return strings.Join(parts, ",")
}

// ProcessRoles is node id's process.roles: the first Controllers pods are combined
// broker+controller (the static quorum), the rest broker-only.
func ProcessRoles(s *config.Spec, id int) string {
	if s.IsController(id) {
		return "broker,controller"
	}
	return "broker"
}

// NodeProperties returns node id's complete server.properties, sorted by key.
func NodeProperties(s *config.Spec, net Network, id int) []Property {
	bind := func(port int) string { return fmt.Sprintf("%s:%d", net.BindHost, port) }
	listeners := []string{ClientListener + "://" + bind(net.ClientPort(id))}
	advertised := []string{fmt.Sprintf("%s://%s:%d", ClientListener, net.Host(id), net.ClientPort(id))}
	if s.IsController(id) {
		listeners = append(listeners, ControllerListener+"://"+bind(net.ControllerPort(id)))
		// Advertise the controller endpoint by name: an unspecified host would be
		// advertised as 0.0.0.0, which Kafka rejects for controllers.
		advertised = append(advertised, fmt.Sprintf("%s://%s:%d", ControllerListener, net.Host(id), net.ControllerPort(id)))
	}
	rf := s.Broker.DefaultReplicationFactor
	internalMinISR := s.Broker.MinInsyncReplicas
	if internalMinISR > rf {
		internalMinISR = rf
	}
	props := map[string]string{
		"advertised.listeners":                             strings.Join(advertised, ","),
		"auto.create.topics.enable":                        strconv.FormatBool(s.Broker.AutoCreateTopics),
		"compression.type":                                 s.Broker.CompressionType,
		"controller.listener.names":                        ControllerListener,
		"controller.quorum.voters":                         Voters(s, net),
		"default.replication.factor":                       strconv.Itoa(rf),
		"inter.broker.listener.name":                       ClientListener,
		"listener.security.protocol.map":                   ClientListener + ":PLAINTEXT," + ControllerListener + ":PLAINTEXT",
		"listeners":                                        strings.Join(listeners, ","),
		"log.dirs":                                         net.LogDir(id),
		"log.retention.bytes":                              strconv.FormatInt(s.Broker.RetentionBytes, 10),
		"log.retention.hours":                              strconv.Itoa(s.Broker.RetentionHours),
		"min.insync.replicas":                              strconv.Itoa(s.Broker.MinInsyncReplicas),
		"node.id":                                          strconv.Itoa(id),
		"num.partitions":                                   strconv.Itoa(s.Broker.NumPartitions),
		"offsets.topic.replication.factor":                 strconv.Itoa(rf),
		"process.roles":                                    ProcessRoles(s, id),
		"share.coordinator.state.topic.min.isr":            strconv.Itoa(internalMinISR),
		"share.coordinator.state.topic.replication.factor": strconv.Itoa(rf),
		"transaction.state.log.min.isr":                    strconv.Itoa(internalMinISR),
		"transaction.state.log.replication.factor":         strconv.Itoa(rf),
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Property, len(keys))
	for i, k := range keys {
		out[i] = Property{Key: k, Value: props[k]}
	}
	return out
}

// ServerProperties renders node id's server.properties text.
func ServerProperties(s *config.Spec, net Network, id int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# server.properties for node %d (%s) of the %s Kafka cluster, stack %s.\n",
		id, ProcessRoles(s, id), config.Project, s.Stack)
	b.WriteString("# Generated by umbrella-streaming from stack config; edits are overwritten.\n")
	for _, p := range NodeProperties(s, net, id) {
		fmt.Fprintf(&b, "%s=%s\n", p.Key, p.Value)
	}
	return b.String()
}

// ConfigChecksum hashes the settings every broker shares (node 0's file stands for
// them), so a change of retention rolls the brokers but adding a broker does not.
func ConfigChecksum(s *config.Spec) string {
	h := sha256.New()
	h.Write([]byte(ServerProperties(s, KubernetesNetwork(s.Namespace), 0)))
	h.Write([]byte(StartScriptText))
	h.Write([]byte(ReadyScriptText))
	h.Write([]byte(Log4jProperties))
	h.Write([]byte(ExporterRulesYAML))
	return hex.EncodeToString(h.Sum(nil))[:16]
}
