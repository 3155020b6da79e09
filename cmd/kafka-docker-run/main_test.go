package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaenv"
)

// The command's shape on a folder tree: what it writes, that it formats once,
// and what it execs. Kafka itself is a stand-in here; the compose story
// (tests/compose) runs the real image.
func TestRunFormatsOnceThenExecsKafka(t *testing.T) {
	root := t.TempDir()
	p := paths{Config: filepath.Join(root, "config"), Mounted: filepath.Join(root, "mnt"), Secrets: filepath.Join(root, "secrets"),
		Bin: filepath.Join(root, "bin"), Log4j: filepath.Join(root, "log4j2.yaml")}
	data := filepath.Join(root, "data")
	for _, d := range []string{p.Config, p.Mounted, p.Bin, data} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	base, err := os.ReadFile("../../infrastructure/kafka/base/config/log4j2.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p.Log4j, base, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(p.Mounted, "tools-log4j2.yaml"), []byte("mine\n"), 0o644))
	calls := filepath.Join(root, "storage-calls")
	// The stand-in records its arguments and writes the meta.properties Kafka would.
	storage := "#!/bin/bash\necho \"$*\" >> " + calls + "\nprintf 'cluster.id=%s\\nnode.id=1\\n' \"$3\" > " + data + "/meta.properties\n"
	require.NoError(t, os.WriteFile(filepath.Join(p.Bin, "kafka-storage.sh"), []byte(storage), 0o755))

	var execd []string
	execKafka = func(argv0 string, argv []string, envv []string) error {
		execd = append(argv, envv...)
		return nil
	}
	t.Cleanup(func() { execKafka = nil })
	env := kafkaenv.Env{"KAFKA_NODE_ID": "1", "KAFKA_PROCESS_ROLES": "broker,controller", "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
		"KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093", "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://localhost:9092",
		"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT", "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
		"KAFKA_LOG_DIRS": data, "CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qk", "KAFKA_LOG4J_LOGGERS": "kafka.controller=WARN"}

	for i := 0; i < 2; i++ {
		require.NoError(t, run(p, env, nil))
	}
	got, err := os.ReadFile(calls)
	require.NoError(t, err)
	assert.Equal(t, "format --cluster-id MkU3OEVBNTcwNTJENDM2Qk --config "+filepath.Join(p.Config, "server.properties")+"\n", string(got),
		"formatted on the first start only")
	props, err := os.ReadFile(filepath.Join(p.Config, "server.properties"))
	require.NoError(t, err)
	assert.Contains(t, string(props), "\nnode.id=1\n")
	log4j, err := os.ReadFile(filepath.Join(p.Config, "log4j2.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(base)+"      - name: kafka.controller\n        level: WARN\n", string(log4j))
	tools, err := os.ReadFile(filepath.Join(p.Config, "tools-log4j2.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "mine\n", string(tools), "the mounted folder's other files are copied")
	require.NotEmpty(t, execd)
	assert.Equal(t, []string{filepath.Join(p.Bin, "kafka-server-start.sh"), filepath.Join(p.Config, "server.properties")}, execd[:2])
	assert.Contains(t, strings.Join(execd, "\n"), "KAFKA_JMX_OPTS=-Dcom.sun.management.jmxremote=true")

	// Another cluster id on the same data stops before Kafka, naming CLUSTER_ID.
	env["CLUSTER_ID"] = "5L6g3nShT-eMCtK--X86sw"
	err = run(p, env, nil)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), `CLUSTER_ID = "5L6g3nShT-eMCtK--X86sw": the data in `+data+` belongs to cluster "MkU3OEVBNTcwNTJENDM2Qk"`), err.Error())
}
