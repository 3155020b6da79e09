package kafkaenv

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// check runs the run step's checks on the compose file's environment with one
// edit (value "" with drop removes the variable).
func check(t *testing.T, edit map[string]string, drop ...string) error {
	t.Helper()
	env := composeEnv(t)
	for k, v := range edit {
		env[k] = v
	}
	for _, k := range drop {
		delete(env, k)
	}
	env, _, err := Prepare(env, nil, noSecrets)
	if err != nil {
		return err
	}
	_, cfg := Build(env, nil, "")
	_, err = Validate(env, cfg)
	return err
}

// The edits a developer plausibly makes to the compose file, each refused with
// the variable, its value and the fix.
func TestValidateComposeEdits(t *testing.T) {
	for _, c := range []struct {
		name string
		edit map[string]string
		drop []string
		want string
	}{
		{"EXTERNAL removed from the advertised listeners (Kafka starts; host clients hang)",
			map[string]string{"KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://kafka:9092"}, nil,
			`KAFKA_ADVERTISED_LISTENERS = "PLAINTEXT://kafka:9092": does not advertise listener EXTERNAL, which KAFKA_LISTENERS opens (EXTERNAL://:19092): a client connecting there gets no address for the broker back and hangs; add EXTERNAL://<host clients use>:19092 to KAFKA_ADVERTISED_LISTENERS (the compose file has EXTERNAL://localhost:19092), or remove EXTERNAL from KAFKA_LISTENERS`},
		{"a cluster id that is not 22 base64url characters",
			map[string]string{"CLUSTER_ID": "my-laptop-cluster"}, nil,
			`CLUSTER_ID = "my-laptop-cluster": not a Kafka cluster id (22 characters of [A-Za-z0-9_-] encoding 16 bytes, not all zero); generate one with ` + "`kafka-storage.sh random-uuid`" + ` (or leave CLUSTER_ID unset for the image's default); a volume formatted with another id needs that id back, or ` + "`docker compose down -v`"},
		{"a listener with no protocol",
			map[string]string{"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"}, nil,
			`KAFKA_LISTENER_SECURITY_PROTOCOL_MAP = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT": has no protocol for listener EXTERNAL, which KAFKA_LISTENERS opens; add EXTERNAL:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL) to KAFKA_LISTENER_SECURITY_PROTOCOL_MAP`},
		{"an advertised listener that is not opened",
			map[string]string{"KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093"}, nil,
			`KAFKA_ADVERTISED_LISTENERS = "PLAINTEXT://kafka:9092,EXTERNAL://localhost:19092": advertises EXTERNAL, which KAFKA_LISTENERS does not open; add EXTERNAL://:19092 to KAFKA_LISTENERS, or remove it from KAFKA_ADVERTISED_LISTENERS`},
		{"0.0.0.0 advertised",
			map[string]string{"KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://kafka:9092,EXTERNAL://0.0.0.0:19092"}, nil,
			`KAFKA_ADVERTISED_LISTENERS = "PLAINTEXT://kafka:9092,EXTERNAL://0.0.0.0:19092": advertises EXTERNAL://0.0.0.0:19092 with no host clients can reach; use the host clients connect to, e.g. EXTERNAL://kafka:19092 inside compose or EXTERNAL://localhost:19092 from the host`},
		{"a listener list that does not parse",
			map[string]string{"KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER:9093"}, nil,
			`KAFKA_LISTENERS = "PLAINTEXT://:9092,CONTROLLER:9093": "CONTROLLER:9093" is not NAME://host:port (e.g. PLAINTEXT://kafka:9092; an empty host listens on every interface); write each listener as NAME://host:port, comma-separated`},
		{"two listeners on one port",
			map[string]string{"KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093,EXTERNAL://:9092"}, nil,
			`KAFKA_LISTENERS = "PLAINTEXT://:9092,CONTROLLER://:9093,EXTERNAL://:9092": listeners PLAINTEXT and EXTERNAL use the same port 9092; give each listener its own port`},
		{"the node id removed", nil, []string{"KAFKA_NODE_ID"},
			`KAFKA_NODE_ID = "": not a node id (a whole number from 0 to 2147483647); set KAFKA_NODE_ID, e.g. KAFKA_NODE_ID=1`},
		{"a node id the voters do not list", map[string]string{"KAFKA_NODE_ID": "2"}, nil,
			`KAFKA_CONTROLLER_QUORUM_VOTERS = "1@kafka:9093": does not list this controller's own id 2 (KAFKA_NODE_ID); add 2@<this node's host>:<controller port>, or make KAFKA_NODE_ID one of the listed ids`},
		{"the voters removed", nil, []string{"KAFKA_CONTROLLER_QUORUM_VOTERS"},
			`KAFKA_CONTROLLER_QUORUM_VOTERS = "": missing, and so is controller.quorum.bootstrap.servers: the node cannot find the KRaft quorum; set KAFKA_CONTROLLER_QUORUM_VOTERS (e.g. 1@kafka:9093: the node id, the host and the controller port)`},
		{"a voter without a port", map[string]string{"KAFKA_CONTROLLER_QUORUM_VOTERS": "1@kafka"}, nil,
			`KAFKA_CONTROLLER_QUORUM_VOTERS = "1@kafka": "1@kafka" is not id@host:port (e.g. 1@kafka:9093); write each voter as id@host:port, comma-separated`},
		{"the roles removed (ZooKeeper mode is gone)", nil, []string{"KAFKA_PROCESS_ROLES"},
			`KAFKA_PROCESS_ROLES = "": missing: Kafka 4 runs only in KRaft mode, where every node is a broker, a controller or both; set KAFKA_PROCESS_ROLES=broker,controller for a single node`},
		{"a misspelt role", map[string]string{"KAFKA_PROCESS_ROLES": "broker,controler"}, nil,
			`KAFKA_PROCESS_ROLES = "broker,controler": "controler" is not a role; use broker, controller or broker,controller`},
		{"the controller listener not opened", map[string]string{"KAFKA_CONTROLLER_LISTENER_NAMES": "CTRL"}, nil,
			`KAFKA_CONTROLLER_LISTENER_NAMES = "CTRL": listener CTRL is not in KAFKA_LISTENERS, so this controller cannot serve the quorum; add CTRL://:9093 (or another port) to KAFKA_LISTENERS`},
		{"the listeners removed on a combined node (derived from the advertised ones, which hold no controller)", nil, []string{"KAFKA_LISTENERS"},
			`KAFKA_CONTROLLER_LISTENER_NAMES = "CONTROLLER": listener CONTROLLER is not in KAFKA_LISTENERS, so this controller cannot serve the quorum; add CONTROLLER://:9093 (or another port) to KAFKA_LISTENERS`},
		{"the controller listener names removed", nil, []string{"KAFKA_CONTROLLER_LISTENER_NAMES"},
			`KAFKA_CONTROLLER_LISTENER_NAMES = "": missing: KRaft needs the name of the listener controllers talk on; set KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER and open it in KAFKA_LISTENERS (e.g. CONTROLLER://:9093)`},
		{"the inter-broker listener not advertised", map[string]string{"KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL"}, nil,
			`KAFKA_INTER_BROKER_LISTENER_NAME = "INTERNAL": listener INTERNAL is not among the advertised listeners (PLAINTEXT://kafka:9092,EXTERNAL://localhost:19092), so brokers cannot reach each other; set KAFKA_INTER_BROKER_LISTENER_NAME to an advertised listener's name (the compose file uses PLAINTEXT)`},
		{"the data folder emptied", map[string]string{"KAFKA_LOG_DIRS": " "}, nil,
			`KAFKA_LOG_DIRS = "": empty: the node has nowhere to keep its data; set KAFKA_LOG_DIRS to the data folder (the compose file mounts /var/lib/kafka/data)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.EqualError(t, check(t, c.edit, c.drop...), c.want)
		})
	}
}

// The advertised listeners left unset: Kafka advertises the listeners (not the
// controller's), so nothing is hidden; and the other valid shapes pass.
func TestValidateAccepts(t *testing.T) {
	assert.NoError(t, check(t, nil, "KAFKA_ADVERTISED_LISTENERS"))
	assert.NoError(t, check(t, map[string]string{"CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qg"}))
	// A broker-only node needs no controller listener of its own.
	assert.NoError(t, check(t, map[string]string{"KAFKA_PROCESS_ROLES": "broker", "KAFKA_NODE_ID": "2",
		"KAFKA_LISTENERS": "PLAINTEXT://:9092,EXTERNAL://:19092"}))
}

// A mounted file's mistake names the property and the file, not a variable.
func TestValidateNamesTheMountedFile(t *testing.T) {
	mounted := "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@localhost:9093\n" +
		"listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n" +
		"listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\nadvertised.listeners=PLAINTEXT://0.0.0.0:9092\n"
	env := Env{"CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qg"}
	_, cfg := Build(env, &mounted, "/mnt/shared/config/server.properties")
	_, err := Validate(env, cfg)
	assert.EqualError(t, err, `advertised.listeners (/mnt/shared/config/server.properties) = "PLAINTEXT://0.0.0.0:9092": advertises PLAINTEXT://0.0.0.0:9092 with no host clients can reach; use the host clients connect to, e.g. PLAINTEXT://kafka:9092 inside compose or PLAINTEXT://localhost:9092 from the host`)
}

func TestStoragePlan(t *testing.T) {
	env := Env{"CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qk"}
	node := &Node{ID: 1, Broker: true, Controller: true, Voters: []Voter{{1, "kafka", 9093}}}
	meta := func(cluster, id string) *string {
		s := "#\n#Sat Dec 06 12:00:00 UTC 2026\nnode.id=" + id + "\ndirectory.id=abc\nversion=1\ncluster.id=" + cluster + "\n"
		return &s
	}
	const conf = "/opt/kafka/config/server.properties"

	plan, err := StoragePlan(env, node, conf, []LogDir{{Path: "/data"}})
	require.NoError(t, err)
	assert.Equal(t, Storage{Format: true, Args: []string{"format", "--cluster-id", "MkU3OEVBNTcwNTJENDM2Qk", "--config", conf}}, plan)

	plan, err = StoragePlan(env, node, conf, []LogDir{{Path: "/data", Meta: meta("MkU3OEVBNTcwNTJENDM2Qk", "1")}})
	require.NoError(t, err)
	assert.Equal(t, Storage{}, plan, "a formatted volume is kept as it is")

	plan, err = StoragePlan(env, node, conf, []LogDir{{Path: "/a", Meta: meta("MkU3OEVBNTcwNTJENDM2Qk", "1")}, {Path: "/b"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"format", "--cluster-id", "MkU3OEVBNTcwNTJENDM2Qk", "--config", conf, "--ignore-formatted"}, plan.Args)

	_, err = StoragePlan(env, node, conf, []LogDir{{Path: "/var/lib/kafka/data", Meta: meta("5L6g3nShT-eMCtK--X86sw", "1")}})
	assert.EqualError(t, err, `CLUSTER_ID = "MkU3OEVBNTcwNTJENDM2Qk": the data in /var/lib/kafka/data belongs to cluster "5L6g3nShT-eMCtK--X86sw" (its meta.properties), and Kafka refuses to start on another cluster's data; set CLUSTER_ID back to 5L6g3nShT-eMCtK--X86sw to keep the data, or remove the volume to start empty (`+"`docker compose down -v`)")

	_, err = StoragePlan(env, node, conf, []LogDir{{Path: "/var/lib/kafka/data", Meta: meta("MkU3OEVBNTcwNTJENDM2Qk", "3")}})
	assert.EqualError(t, err, `KAFKA_NODE_ID = 1: the data in /var/lib/kafka/data belongs to node 3 (its meta.properties); set KAFKA_NODE_ID back to 3, or remove the volume to start empty (`+"`docker compose down -v`)")

	// A dynamic quorum of one (bootstrap servers, no voters) formats standalone.
	dynamic := &Node{ID: 1, Controller: true, Bootstrap: []string{"localhost:9093"}}
	plan, err = StoragePlan(env, dynamic, conf, []LogDir{{Path: "/data"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"format", "--cluster-id", "MkU3OEVBNTcwNTJENDM2Qk", "--config", conf, "--standalone"}, plan.Args)
}

func TestLogDirs(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"log.dirs=/a, /b\nlog.dir=/c", []string{"/a", "/b"}},
		{"log.dir=/c", []string{"/c"}},
		{"", []string{"/tmp/kafka-logs"}},
		{"log.dirs=/a\nmetadata.log.dir=/m", []string{"/a", "/m"}},
		{"log.dirs=/a\nmetadata.log.dir=/a", []string{"/a"}},
	} {
		cfg := newConfig()
		cfg.load(c.text, "f")
		assert.Equal(t, c.want, LogDirs(cfg), c.text)
	}
}

// The image's own log4j2.yaml takes KAFKA_LOG4J_LOGGERS as extra loggers.
func TestLog4jLoggers(t *testing.T) {
	b, err := os.ReadFile("../../infrastructure/kafka/base/config/log4j2.yaml")
	require.NoError(t, err)
	base := string(b)
	out, err := Log4j(Env{}, base)
	require.NoError(t, err)
	assert.Equal(t, base, out)

	out, err = Log4j(Env{LoggersVar: "kafka.controller=warn, org.apache.kafka.raft=DEBUG"}, base)
	require.NoError(t, err)
	assert.Equal(t, base+"      - name: kafka.controller\n        level: WARN\n      - name: org.apache.kafka.raft\n        level: DEBUG\n", out)

	_, err = Log4j(Env{LoggersVar: "kafka.controller:WARN"}, base)
	assert.EqualError(t, err, `KAFKA_LOG4J_LOGGERS = "kafka.controller:WARN": "kafka.controller:WARN" is not logger=LEVEL; write logger=LEVEL pairs, comma-separated, e.g. kafka.controller=WARN,kafka.log.LogCleaner=DEBUG`)
	_, err = Log4j(Env{LoggersVar: "a=INFO"}, "Configuration:\n  name: x\n")
	assert.EqualError(t, err, `KAFKA_LOG4J_LOGGERS = "a=INFO": the log4j2.yaml in use does not end with a Loggers.Logger list to add to; set the loggers in your own log4j2.yaml under /mnt/shared/config instead`)
}

func TestLaunchEnv(t *testing.T) {
	env := LaunchEnv(Env{"KAFKA_JMX_PORT": "9101"}, "198.19.100.2")
	assert.Equal(t, "9101", env["JMX_PORT"])
	assert.Equal(t, "-Dcom.sun.management.jmxremote=true -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false -Djava.rmi.server.hostname=198.19.100.2 -Dcom.sun.management.jmxremote.local.only=false -Dcom.sun.management.jmxremote.rmi.port=9101 -Dcom.sun.management.jmxremote.port=9101", env["KAFKA_JMX_OPTS"])
	env = LaunchEnv(Env{"KAFKA_JMX_OPTS": "-Dx"}, "h")
	assert.Equal(t, "-Dx", env["KAFKA_JMX_OPTS"])
	assert.NotContains(t, env, "JMX_PORT")
}
