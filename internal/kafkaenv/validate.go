package kafkaenv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// Properties the checks read.
const (
	propRoles       = "process.roles"
	propNodeID      = "node.id"
	propListeners   = "listeners"
	propAdvertised  = "advertised.listeners"
	propProtocolMap = "listener.security.protocol.map"
	propControllers = "controller.listener.names"
	propInterBroker = "inter.broker.listener.name"
	propVoters      = "controller.quorum.voters"
	propBootstrap   = "controller.quorum.bootstrap.servers"
	propLogDirs     = "log.dirs"
	propLogDir      = "log.dir"
	propMetadataDir = "metadata.log.dir"
)

// Node is what Validate learned about the node: its id, roles and listeners.
type Node struct {
	ID                  int
	Broker, Controller  bool
	Listeners           []Listener
	Advertised          []Listener
	ControllerListeners []string
	Voters              []Voter
	Bootstrap           []string
}

// Validate checks a node's configuration the way Kafka would refuse it at
// start, and the mistakes Kafka accepts but no client survives (a listener
// nobody is told about). Each message names the variable to edit.
func Validate(env Env, cfg *Config) (*Node, error) {
	if id := env[ClusterIDVar]; !rules.ValidClusterID(id) {
		return nil, errors.New(rules.Message(ClusterIDVar, id, rules.ClusterIDProblem,
			rules.ClusterIDFix+" (or leave CLUSTER_ID unset for the image's default); a volume formatted with another id needs that id back, or `docker compose down -v`"))
	}
	n := &Node{}
	for _, check := range []func(*Config, *Node) error{checkRoles, checkNodeID, checkListeners, checkControllers, checkQuorum, checkAdvertised, checkLogDirs} {
		if err := check(cfg, n); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func problem(cfg *Config, prop, what, fix string) error {
	v, _ := cfg.Get(prop)
	return errors.New(rules.Message(cfg.Field(prop), v, what, fix))
}

func checkRoles(cfg *Config, n *Node) error {
	v, _ := cfg.Get(propRoles)
	roles := splitList(v)
	if len(roles) == 0 {
		return problem(cfg, propRoles, "missing: Kafka 4 runs only in KRaft mode, where every node is a broker, a controller or both",
			"set KAFKA_PROCESS_ROLES=broker,controller for a single node")
	}
	for _, r := range roles {
		switch strings.TrimSpace(r) {
		case "broker":
			n.Broker = true
		case "controller":
			n.Controller = true
		default:
			return problem(cfg, propRoles, fmt.Sprintf("%q is not a role", r), "use broker, controller or broker,controller")
		}
	}
	return nil
}

func checkNodeID(cfg *Config, n *Node) error {
	v, ok := cfg.Get(propNodeID)
	id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if !ok || err != nil || id < 0 {
		return problem(cfg, propNodeID, "not a node id (a whole number from 0 to 2147483647)", "set KAFKA_NODE_ID, e.g. KAFKA_NODE_ID=1")
	}
	n.ID = int(id)
	return nil
}

func checkListeners(cfg *Config, n *Node) error {
	v, _ := cfg.Get(propListeners)
	ls, err := ParseListeners(v)
	if err != nil {
		return problem(cfg, propListeners, err.Error(), "write each listener as NAME://host:port, comma-separated")
	}
	if len(ls) == 0 {
		return problem(cfg, propListeners, "missing: the node would listen nowhere",
			"set KAFKA_LISTENERS (e.g. PLAINTEXT://:9092,CONTROLLER://:9093), or KAFKA_ADVERTISED_LISTENERS to derive it from")
	}
	pm, _ := cfg.Get(propProtocolMap)
	protocols, err := ParseProtocolMap(pm)
	if err != nil {
		return problem(cfg, propProtocolMap, err.Error(), "write NAME:PROTOCOL pairs, comma-separated")
	}
	ports := map[string]string{}
	for _, l := range ls {
		if protocols[l.Name] == "" && !SecurityProtocols[l.Name] {
			return problem(cfg, propProtocolMap, fmt.Sprintf("has no protocol for listener %s, which %s opens", l.Name, cfg.Field(propListeners)),
				fmt.Sprintf("add %s:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL) to KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", l.Name))
		}
		key := l.Host + ":" + strconv.Itoa(l.Port)
		if other := ports[key]; other != "" && l.Port != 0 {
			return problem(cfg, propListeners, fmt.Sprintf("listeners %s and %s use the same port %d", other, l.Name, l.Port), "give each listener its own port")
		}
		ports[key] = l.Name
	}
	n.Listeners = ls
	return nil
}

func checkControllers(cfg *Config, n *Node) error {
	v, _ := cfg.Get(propControllers)
	names := splitList(strings.ToUpper(v))
	if len(names) == 0 {
		return problem(cfg, propControllers, "missing: KRaft needs the name of the listener controllers talk on",
			"set KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER and open it in KAFKA_LISTENERS (e.g. CONTROLLER://:9093)")
	}
	if n.Controller && !hasListener(n.Listeners, names[0]) {
		return problem(cfg, propControllers, fmt.Sprintf("listener %s is not in %s, so this controller cannot serve the quorum", names[0], cfg.Field(propListeners)),
			fmt.Sprintf("add %s://:9093 (or another port) to KAFKA_LISTENERS", names[0]))
	}
	n.ControllerListeners = names
	return nil
}

func checkQuorum(cfg *Config, n *Node) error {
	v, _ := cfg.Get(propVoters)
	voters, err := ParseVoters(v)
	if err != nil {
		return problem(cfg, propVoters, err.Error(), "write each voter as id@host:port, comma-separated")
	}
	b, _ := cfg.Get(propBootstrap)
	n.Voters, n.Bootstrap = voters, splitList(b)
	if len(voters) == 0 && len(n.Bootstrap) == 0 {
		return problem(cfg, propVoters, "missing, and so is controller.quorum.bootstrap.servers: the node cannot find the KRaft quorum",
			"set KAFKA_CONTROLLER_QUORUM_VOTERS (e.g. 1@kafka:9093: the node id, the host and the controller port)")
	}
	if n.Controller && len(voters) > 0 && !hasVoter(voters, n.ID) {
		return problem(cfg, propVoters, fmt.Sprintf("does not list this controller's own id %d (%s)", n.ID, cfg.Field(propNodeID)),
			fmt.Sprintf("add %d@<this node's host>:<controller port>, or make KAFKA_NODE_ID one of the listed ids", n.ID))
	}
	if n.Controller && len(voters) == 0 && len(n.Bootstrap) > 1 {
		return problem(cfg, propBootstrap, "lists several controllers but controller.quorum.voters is unset: the image cannot tell which controllers form the first quorum",
			"set KAFKA_CONTROLLER_QUORUM_VOTERS (a static quorum), or format the storage yourself with kafka-storage.sh")
	}
	return nil
}

// checkAdvertised catches what Kafka accepts but clients cannot use: a broker
// listener left out of advertised.listeners answers metadata requests with no
// address for the broker, so a client connecting there hangs.
func checkAdvertised(cfg *Config, n *Node) error {
	if !n.Broker {
		return nil
	}
	v, set := cfg.Get(propAdvertised)
	adv, err := ParseListeners(v)
	if err != nil {
		return problem(cfg, propAdvertised, err.Error(), "write each listener as NAME://host:port with the host clients reach it by")
	}
	if !set {
		adv = nil
		for _, l := range n.Listeners {
			if !contains(n.ControllerListeners, l.Name) {
				adv = append(adv, l)
			}
		}
	}
	for _, a := range adv {
		if !hasListener(n.Listeners, a.Name) {
			return problem(cfg, propAdvertised, fmt.Sprintf("advertises %s, which %s does not open", a.Name, cfg.Field(propListeners)),
				fmt.Sprintf("add %s://:%d to KAFKA_LISTENERS, or remove it from KAFKA_ADVERTISED_LISTENERS", a.Name, a.Port))
		}
		if set && (a.Host == "" || a.Host == "0.0.0.0" || a.Host == "::") {
			return problem(cfg, propAdvertised, fmt.Sprintf("advertises %s with no host clients can reach", a),
				fmt.Sprintf("use the host clients connect to, e.g. %s://kafka:%d inside compose or %s://localhost:%d from the host", a.Name, a.Port, a.Name, a.Port))
		}
	}
	for _, l := range n.Listeners {
		if set && !contains(n.ControllerListeners, l.Name) && !hasListener(adv, l.Name) {
			return problem(cfg, propAdvertised, fmt.Sprintf("does not advertise listener %s, which %s opens (%s): a client connecting there gets no address for the broker back and hangs", l.Name, cfg.Field(propListeners), l),
				fmt.Sprintf("add %s://<host clients use>:%d to KAFKA_ADVERTISED_LISTENERS (the compose file has EXTERNAL://localhost:19092), or remove %s from KAFKA_LISTENERS", l.Name, l.Port, l.Name))
		}
	}
	n.Advertised = adv
	ib, ok := cfg.Get(propInterBroker)
	if !ok {
		ib = "PLAINTEXT"
	}
	if !hasListener(adv, strings.ToUpper(ib)) {
		return problem(cfg, propInterBroker, fmt.Sprintf("listener %s is not among the advertised listeners (%s), so brokers cannot reach each other", strings.ToUpper(ib), JoinListeners(adv)),
			"set KAFKA_INTER_BROKER_LISTENER_NAME to an advertised listener's name (the compose file uses PLAINTEXT)")
	}
	return nil
}

func checkLogDirs(cfg *Config, _ *Node) error {
	if len(LogDirs(cfg)) == 0 {
		return problem(cfg, propLogDirs, "empty: the node has nowhere to keep its data", "set KAFKA_LOG_DIRS to the data folder (the compose file mounts /var/lib/kafka/data)")
	}
	return nil
}

// LogDirs are the folders Kafka keeps data in: log.dirs, else log.dir, else
// Kafka's default; and metadata.log.dir when it is set apart.
func LogDirs(cfg *Config) []string {
	v, ok := cfg.Get(propLogDirs)
	if !ok {
		if v, ok = cfg.Get(propLogDir); !ok {
			v = "/tmp/kafka-logs"
		}
	}
	dirs := splitList(v)
	if m, ok := cfg.Get(propMetadataDir); ok && strings.TrimSpace(m) != "" && !contains(dirs, strings.TrimSpace(m)) {
		dirs = append(dirs, strings.TrimSpace(m))
	}
	return dirs
}

func hasListener(ls []Listener, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

func hasVoter(vs []Voter, id int) bool {
	for _, v := range vs {
		if v.ID == id {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
