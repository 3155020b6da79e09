package components

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
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
	// InternalPort is node id's INTERNAL listener port; only a secure stack
	// has one (nil is fine for a plaintext stack).
	InternalPort func(id int) int
	// BindHost is the listener bind address ("" = all interfaces).
	BindHost string
	// LogDir is node id's data directory.
	LogDir func(id int) string
	// TLSDir holds TLSKeystoreFile and TLSTruststoreFile on a secure stack.
	TLSDir string
}

// KubernetesNetwork is the in-cluster network: each pod advertises its headless
// Service name and listens on the fixed ports on all interfaces.
func KubernetesNetwork(namespace string) Network {
	return Network{
		Host:           func(id int) string { return PodFQDN(namespace, id) },
		ClientPort:     func(int) int { return ClientPort },
		ControllerPort: func(int) int { return ControllerPort },
		InternalPort:   func(int) int { return InternalPort },
		LogDir:         func(int) string { return LogDirPath },
		TLSDir:         TLSMountPath,
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

// listener is one server.properties listener of a node.
type listener struct {
	name, protocol string
	port           int
}

// nodeListeners are node id's listeners in the order they are written: the
// client listener, INTERNAL on a secure stack, then CONTROLLER on a voter.
func nodeListeners(s *config.Spec, net Network, id int) []listener {
	var out []listener
	if s.Secure() {
		out = append(out, listener{SecureClientListener, "SASL_SSL", net.ClientPort(id)},
			listener{InternalListener, "SSL", net.InternalPort(id)})
	} else {
		out = append(out, listener{ClientListener, "PLAINTEXT", net.ClientPort(id)})
	}
	if s.IsController(id) {
		out = append(out, listener{ControllerListener, controllerProtocol(s), net.ControllerPort(id)})
	}
	return out
}

// controllerProtocol is the CONTROLLER listener's security protocol.
func controllerProtocol(s *config.Spec) string {
	if s.Secure() {
		return "SSL"
	}
	return "PLAINTEXT"
}

// protocolMap is listener.security.protocol.map: every listener name a node
// may connect to, the controllers' included on broker-only nodes.
func protocolMap(s *config.Spec) string {
	if s.Secure() {
		return SecureClientListener + ":SASL_SSL," + InternalListener + ":SSL," + ControllerListener + ":SSL"
	}
	return ClientListener + ":PLAINTEXT," + ControllerListener + ":PLAINTEXT"
}

// interBrokerListener is the listener brokers replicate over.
func interBrokerListener(s *config.Spec) string {
	if s.Secure() {
		return InternalListener
	}
	return ClientListener
}

// securityProperties are the settings a secure stack adds: TLS from PEM
// files under net.TLSDir, identity by certificate on INTERNAL and CONTROLLER
// (CN=<name> is User:<name>), SCRAM-SHA-512 alone on CLIENT, and the
// StandardAuthorizer denying whatever no ACL allows, except to the brokers
// and the deployer. None on a plaintext stack.
func securityProperties(s *config.Spec, net Network) map[string]string {
	if !s.Secure() {
		return nil
	}
	client := "listener.name." + strings.ToLower(SecureClientListener) + "."
	return map[string]string{
		"allow.everyone.if.no.acl.found":                                            "false",
		"authorizer.class.name":                                                     StandardAuthorizer,
		client + "sasl.enabled.mechanisms":                                          ScramMechanism,
		client + strings.ToLower(ScramMechanism) + ".sasl.jaas.config":              ScramLoginModule,
		"listener.name." + strings.ToLower(ControllerListener) + ".ssl.client.auth": "required",
		"listener.name." + strings.ToLower(InternalListener) + ".ssl.client.auth":   "required",
		"ssl.keystore.location":                                                     path.Join(net.TLSDir, TLSKeystoreFile),
		"ssl.keystore.type":                                                         "PEM",
		"ssl.principal.mapping.rules":                                               PrincipalMappingRules,
		"ssl.truststore.location":                                                   path.Join(net.TLSDir, TLSTruststoreFile),
		"ssl.truststore.type":                                                       "PEM",
		"super.users":                                                               "User:" + BrokerPrincipalName + ";User:" + DeployerPrincipalName,
	}
}

// NodeProperties returns node id's complete server.properties, sorted by key.
func NodeProperties(s *config.Spec, net Network, id int) []Property {
	bind := func(port int) string { return fmt.Sprintf("%s:%d", net.BindHost, port) }
	var listeners, advertised []string
	for _, l := range nodeListeners(s, net, id) {
		listeners = append(listeners, l.name+"://"+bind(l.port))
		// Advertise every endpoint by name: an unspecified host would be
		// advertised as 0.0.0.0, which Kafka rejects for controllers.
		advertised = append(advertised, fmt.Sprintf("%s://%s:%d", l.name, net.Host(id), l.port))
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
		"inter.broker.listener.name":                       interBrokerListener(s),
		"listener.security.protocol.map":                   protocolMap(s),
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
	for k, v := range securityProperties(s, net) {
		props[k] = v
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
	h.Write([]byte(NodeServerProperties(s, KubernetesNetwork(s.Namespace), 0)))
	h.Write([]byte(StartScriptText))
	h.Write([]byte(ReadyScriptText))
	h.Write([]byte(Log4jProperties))
	h.Write([]byte(ExporterRulesYAML))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// AdminPropertiesText is the client config of Kafka's CLI tools run inside a
// broker pod of a secure stack (kafka-topics.sh --bootstrap-server
// localhost:9094 --command-config <ConfigMountPath>/admin.properties): TLS to
// the INTERNAL listener with the broker's own certificate, whose principal is
// a super user. The broker certificate names localhost, so the host name
// check holds.
func AdminPropertiesText() string { return AdminProperties(KubernetesNetwork(config.DefaultNamespace)) }

// AdminProperties is AdminPropertiesText for the PEM files under net.TLSDir.
func AdminProperties(net Network) string {
	return "# Kafka CLI tools inside a broker pod: TLS to the INTERNAL listener as the broker principal.\n" +
		"security.protocol=SSL\n" +
		"ssl.keystore.type=PEM\n" +
		"ssl.keystore.location=" + path.Join(net.TLSDir, TLSKeystoreFile) + "\n" +
		"ssl.truststore.type=PEM\n" +
		"ssl.truststore.location=" + path.Join(net.TLSDir, TLSTruststoreFile) + "\n"
}
