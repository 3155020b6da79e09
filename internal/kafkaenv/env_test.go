package kafkaenv

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// composeEnv is the kafka service's environment in the compose file we ship,
// as Compose passes it (every value a string).
func composeEnv(t *testing.T) Env {
	t.Helper()
	b, err := os.ReadFile("../../infrastructure/kafka/docker-compose.yml")
	require.NoError(t, err)
	var f struct {
		Services map[string]struct {
			Environment map[string]any `yaml:"environment"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(b, &f))
	env := Env{}
	for k, v := range f.Services["kafka"].Environment {
		env[k] = fmt.Sprint(v)
	}
	require.NotEmpty(t, env, "the compose file's kafka service has no environment")
	return env
}

func noSecrets(name string) (string, error) { return "", errors.New("no secrets here") }

// The compose file we ship turns into exactly this server.properties: sorted by
// variable, so the same file gives the same bytes.
func TestBuildComposeFile(t *testing.T) {
	env, notes, err := Prepare(composeEnv(t), nil, noSecrets)
	require.NoError(t, err)
	assert.Empty(t, notes)
	text, cfg := Build(env, nil, "")
	assert.Equal(t, `# From the container's KAFKA_* variables (later lines win).
advertised.listeners=PLAINTEXT://kafka:9092,EXTERNAL://localhost:19092
auto.create.topics.enable=false
compression.type=producer
controller.listener.names=CONTROLLER
controller.quorum.voters=1@kafka:9093
default.replication.factor=1
group.initial.rebalance.delay.ms=0
inter.broker.listener.name=PLAINTEXT
listeners=PLAINTEXT://:9092,CONTROLLER://:9093,EXTERNAL://:19092
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT
log.dirs=/var/lib/kafka/data
log.retention.bytes=-1
log.retention.hours=168
min.insync.replicas=1
node.id=1
num.partitions=1
offsets.topic.replication.factor=1
process.roles=broker,controller
transaction.state.log.min.isr=1
transaction.state.log.replication.factor=1
`, text)
	assert.Equal(t, "KAFKA_ADVERTISED_LISTENERS", cfg.Field("advertised.listeners"))
	node, err := Validate(env, cfg)
	require.NoError(t, err)
	assert.Equal(t, &Node{ID: 1, Broker: true, Controller: true,
		Listeners:           []Listener{{"PLAINTEXT", "", 9092}, {"CONTROLLER", "", 9093}, {"EXTERNAL", "", 19092}},
		Advertised:          []Listener{{"PLAINTEXT", "kafka", 9092}, {"EXTERNAL", "localhost", 19092}},
		ControllerListeners: []string{"CONTROLLER"},
		Voters:              []Voter{{1, "kafka", 9093}},
	}, node)
}

// A mounted server.properties comes first; a variable for the same property
// follows it and wins.
func TestBuildMountedFileThenVariables(t *testing.T) {
	mounted := "# mine\nnode.id = 7\nlog.dirs: /data\nnum.partitions 3"
	text, cfg := Build(Env{"KAFKA_NODE_ID": "2", "PATH": "/bin"}, &mounted, "/mnt/shared/config/server.properties")
	assert.Equal(t, mounted+"\n# From the container's KAFKA_* variables (later lines win).\nnode.id=2\n", text)
	v, _ := cfg.Get("node.id")
	assert.Equal(t, "2", v)
	v, _ = cfg.Get("num.partitions")
	assert.Equal(t, "3", v)
	assert.Equal(t, "KAFKA_NODE_ID", cfg.Field("node.id"))
	assert.Equal(t, "log.dirs (/mnt/shared/config/server.properties)", cfg.Field("log.dirs"))
}

// With no variable and no file, the node runs the image's default, which passes
// its own checks.
func TestBuildNothingGivesTheDefault(t *testing.T) {
	env, notes, err := Prepare(Env{"PATH": "/bin"}, nil, noSecrets)
	require.NoError(t, err)
	assert.Equal(t, []string{`CLUSTER_ID not set: using the image's default "5L6g3nShT-eMCtK--X86sw" (as apache/kafka does); set your own from ` + "`kafka-storage.sh random-uuid`"}, notes)
	text, cfg := Build(env, nil, "")
	assert.Equal(t, DefaultServerProperties, text)
	assert.Equal(t, "process.roles ("+DefaultSource+")", cfg.Field("process.roles"))
	node, err := Validate(env, cfg)
	require.NoError(t, err)
	assert.Equal(t, 1, node.ID)
}

func TestPrepare(t *testing.T) {
	t.Run("arguments override variables", func(t *testing.T) {
		env, _, err := Prepare(Env{"CLUSTER_ID": "x", "KAFKA_NODE_ID": "1"}, []string{"KAFKA_NODE_ID=2", "EMPTY="}, noSecrets)
		require.NoError(t, err)
		assert.Equal(t, Env{"CLUSTER_ID": "x", "KAFKA_NODE_ID": "2", "EMPTY": ""}, env)
	})
	t.Run("an argument that is not an assignment", func(t *testing.T) {
		_, _, err := Prepare(Env{}, []string{"kafka-server-start.sh"}, noSecrets)
		assert.EqualError(t, err, `argument = "kafka-server-start.sh": not a NAME=value assignment; the image's run step takes only variable assignments, as apache/kafka's does (e.g. KAFKA_NODE_ID=2); to run another program, set the container's entrypoint`)
	})
	t.Run("listeners derived from the advertised ones", func(t *testing.T) {
		env, notes, err := Prepare(Env{"CLUSTER_ID": "x", "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://kafka:9092,EXTERNAL://localhost:19092"}, nil, noSecrets)
		require.NoError(t, err)
		assert.Equal(t, "PLAINTEXT://0.0.0.0:9092,EXTERNAL://0.0.0.0:19092", env["KAFKA_LISTENERS"])
		assert.Equal(t, []string{"KAFKA_LISTENERS not set: listening on PLAINTEXT://0.0.0.0:9092,EXTERNAL://0.0.0.0:19092 (KAFKA_ADVERTISED_LISTENERS with every host 0.0.0.0, as apache/kafka does)"}, notes)
	})
	t.Run("no derivation on a controller-only node", func(t *testing.T) {
		env, _, err := Prepare(Env{"CLUSTER_ID": "x", "KAFKA_PROCESS_ROLES": "controller", "KAFKA_ADVERTISED_LISTENERS": ""}, nil, noSecrets)
		require.NoError(t, err)
		assert.NotContains(t, env, "KAFKA_LISTENERS")
		assert.NotContains(t, env, "KAFKA_ADVERTISED_LISTENERS")
	})
	t.Run("a controller-only node advertising", func(t *testing.T) {
		_, _, err := Prepare(Env{"KAFKA_PROCESS_ROLES": "controller", "KAFKA_ADVERTISED_LISTENERS": "CONTROLLER://c:9093"}, nil, noSecrets)
		assert.EqualError(t, err, `KAFKA_ADVERTISED_LISTENERS = "CONTROLLER://c:9093": a controller-only node (KAFKA_PROCESS_ROLES = "controller") serves no clients and advertises no listener; remove KAFKA_ADVERTISED_LISTENERS, or add broker to KAFKA_PROCESS_ROLES`)
	})
}

func TestPrepareSSLFiles(t *testing.T) {
	secrets := map[string]string{"key_creds": "kpw\n", "ks_creds": "kspw", "ts_creds": "tspw"}
	read := func(name string) (string, error) {
		if s, ok := secrets[name]; ok {
			return s, nil
		}
		return "", errors.New("no such file")
	}
	base := Env{"CLUSTER_ID": "x", "KAFKA_ADVERTISED_LISTENERS": "SSL://kafka:9093", "KAFKA_SSL_KEYSTORE_FILENAME": "ks.jks",
		"KAFKA_SSL_KEY_CREDENTIALS": "key_creds", "KAFKA_SSL_KEYSTORE_CREDENTIALS": "ks_creds"}
	env, _, err := Prepare(base, nil, read)
	require.NoError(t, err)
	assert.Equal(t, "/etc/kafka/secrets/ks.jks", env["KAFKA_SSL_KEYSTORE_LOCATION"])
	assert.Equal(t, "kpw", env["KAFKA_SSL_KEY_PASSWORD"])
	assert.Equal(t, "kspw", env["KAFKA_SSL_KEYSTORE_PASSWORD"])
	assert.NotContains(t, env, "KAFKA_SSL_TRUSTSTORE_LOCATION")

	withAuth := base.clone()
	withAuth["KAFKA_SSL_CLIENT_AUTH"] = "required"
	_, _, err = Prepare(withAuth, nil, read)
	assert.EqualError(t, err, `KAFKA_SSL_TRUSTSTORE_FILENAME = "": required: KAFKA_ADVERTISED_LISTENERS has an SSL listener; set it to a file name under /etc/kafka/secrets and mount that folder (as for apache/kafka)`)
	withAuth["KAFKA_SSL_TRUSTSTORE_FILENAME"] = "ts.jks"
	withAuth["KAFKA_SSL_TRUSTSTORE_CREDENTIALS"] = "missing"
	_, _, err = Prepare(withAuth, nil, read)
	assert.EqualError(t, err, `KAFKA_SSL_TRUSTSTORE_CREDENTIALS = "missing": cannot read /etc/kafka/secrets/missing: no such file; mount the folder holding it at /etc/kafka/secrets`)
}

func TestPrepareSASLNote(t *testing.T) {
	_, notes, err := Prepare(Env{"CLUSTER_ID": "x", "KAFKA_ADVERTISED_LISTENERS": "SASL_PLAINTEXT://k:9092", "KAFKA_LISTENERS": "SASL_PLAINTEXT://:9092"}, nil, noSecrets)
	require.NoError(t, err)
	assert.Len(t, notes, 1)
	assert.Contains(t, notes[0], "neither KAFKA_OPTS")
	_, notes, err = Prepare(Env{"CLUSTER_ID": "x", "KAFKA_ADVERTISED_LISTENERS": "SASL_PLAINTEXT://k:9092", "KAFKA_LISTENERS": "SASL_PLAINTEXT://:9092",
		"KAFKA_LISTENER_NAME_SASL__PLAINTEXT_PLAIN_SASL_JAAS_CONFIG": "x"}, nil, noSecrets)
	require.NoError(t, err)
	assert.Empty(t, notes)
}

func TestParseProperties(t *testing.T) {
	got := ParseProperties("# c\n! c\n  a=1\nb : 2\nc 3\nd=x\\\n   y\ne\\=f=g\nh=\\u0041\\t\nempty\n")
	assert.Equal(t, map[string]string{"a": "1", "b": "2", "c": "3", "d": "xy", "e=f": "g", "h": "A\t", "empty": ""}, got)
}
