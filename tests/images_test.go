package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

const baseBinDir = "../infrastructure/kafka/base/bin"

// kafka41MainClasses is, per bin script of our kafka-base image, the main class
// Apache Kafka 4.1's script of the same name runs (several moved from core's
// kafka.admin/kafka.tools to org.apache.kafka.tools in 4.0; ConfigCommand and
// StorageTool did not). tests/realkafka checks each class exists in the jars.
var kafka41MainClasses = map[string]string{
	"kafka-server-start.sh":        "kafka.Kafka",
	"kafka-storage.sh":             "kafka.tools.StorageTool",
	"kafka-topics.sh":              "org.apache.kafka.tools.TopicCommand",
	"kafka-configs.sh":             "kafka.admin.ConfigCommand",
	"kafka-metadata-quorum.sh":     "org.apache.kafka.tools.MetadataQuorumCommand",
	"kafka-console-producer.sh":    "org.apache.kafka.tools.ConsoleProducer",
	"kafka-console-consumer.sh":    "org.apache.kafka.tools.consumer.ConsoleConsumer",
	"kafka-broker-api-versions.sh": "org.apache.kafka.tools.BrokerApiVersionsCommand",
	"kafka-features.sh":            "org.apache.kafka.tools.FeatureCommand",
	"kafka-reassign-partitions.sh": "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
	"kafka-get-offsets.sh":         "org.apache.kafka.tools.GetOffsetShell",
	"kafka-consumer-groups.sh":     "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
	"kafka-acls.sh":                "org.apache.kafka.tools.AclCommand",
	"kafka-leader-election.sh":     "org.apache.kafka.tools.LeaderElectionCommand",
	"kafka-log-dirs.sh":            "org.apache.kafka.tools.LogDirsCommand",
	"kafka-delete-records.sh":      "org.apache.kafka.tools.DeleteRecordsCommand",
	"kafka-cluster.sh":             "org.apache.kafka.tools.ClusterTool",
	"kafka-dump-log.sh":            "kafka.tools.DumpLogSegments",
}

// execClass matches the line that hands a main class to kafka-run-class.sh.
var execClass = regexp.MustCompile(`(?m)^exec "\$(?:\(dirname "\$0"\)|base_dir)/kafka-run-class\.sh" (?:"\$\{extra_args\[@\]\}" )?([A-Za-z0-9_.]+) "\$@"$`)

func TestBaseImageBinScriptsRunKafka41MainClasses(t *testing.T) {
	entries, err := os.ReadDir(baseBinDir)
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(baseBinDir, e.Name()))
		require.NoError(t, err)
		info, err := e.Info()
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o755), info.Mode().Perm(), "%s: mode", e.Name())
		assert.True(t, strings.HasPrefix(string(b), "#!/bin/bash\n"), "%s: starts with #!/bin/bash like upstream", e.Name())
		if e.Name() == "kafka-run-class.sh" {
			continue
		}
		m := execClass.FindAllStringSubmatch(string(b), -1)
		require.Len(t, m, 1, "%s: exactly one exec of kafka-run-class.sh with a main class", e.Name())
		got[e.Name()] = m[0][1]
	}
	assert.Equal(t, kafka41MainClasses, got)
}

// Guards upstream's defaults that our pods' start.sh relies on: the GC log and
// process name from EXTRA_ARGS, a 1 GiB heap, and broker logging to the console.
func TestServerStartKeepsUpstreamDefaults(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(baseBinDir, "kafka-server-start.sh"))
	require.NoError(t, err)
	s := string(b)
	assert.Contains(t, s, `EXTRA_ARGS="-name kafkaServer -loggc"`)
	assert.Contains(t, s, `KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}"`)
	assert.Contains(t, s, `-Dlog4j2.configurationFile=$base_dir/../config/log4j2.yaml`)
	cfg, err := os.ReadFile("../infrastructure/kafka/base/config/log4j2.yaml")
	require.NoError(t, err)
	assert.Contains(t, string(cfg), "target: SYSTEM_OUT")
}

func TestImageScriptsAreShellcheckClean(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	require.NoError(t, err, "shellcheck is required (apt-get install shellcheck)")
	scripts, err := filepath.Glob(baseBinDir + "/*")
	require.NoError(t, err)
	require.Len(t, scripts, len(kafka41MainClasses)+1)
	out, err := exec.Command(sc, append([]string{"../scripts/images.sh"}, scripts...)...).CombinedOutput()
	assert.NoError(t, err, "shellcheck:\n%s", out)
}

// The Dockerfile stays buildable with plain Docker (the official base by default)
// and the wrapper image scripts/images.sh pushes is the one the program names.
func TestImagesScriptNamesTheProgramsImage(t *testing.T) {
	df, err := os.ReadFile("../infrastructure/kafka/Dockerfile")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^ARG KAFKA_BASE_IMAGE=apache/kafka:4\.1\.1\nFROM \$\{KAFKA_BASE_IMAGE\}$`, string(df))

	out, err := exec.Command("bash", "../scripts/images.sh", "names", "127.0.0.1:5000").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, []string{
		"127.0.0.1:5000/umbrella/pause:1.0.0",
		"127.0.0.1:5000/umbrella/kafka-base:4.1.1",
		"127.0.0.1:5000/" + config.ProjectImage,
		"127.0.0.1:5000/" + config.LagExporterImage, // kafka-loadgen, which carries the lag exporter
		"127.0.0.1:5000/umbrella/prometheus:3.16.0",
		"127.0.0.1:5000/umbrella/prometheus-operator:0.85.0",
		"127.0.0.1:5000/umbrella/prometheus-config-reloader:0.85.0",
	}, strings.Split(strings.TrimSpace(string(out)), "\n"))

	cmd := exec.Command("bash", "../scripts/images.sh", "push")
	cmd.Env = append(os.Environ(), "UMBRELLA_REGISTRY=")
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Equal(t, "[images] ERROR: no registry: pass one (e.g. 127.0.0.1:5000) or set UMBRELLA_REGISTRY\n", string(out))
}

// The Kafka releases a stack may name (config.KafkaVersions) are exactly the
// ones scripts/tools.sh and scripts/images.sh build, and each release's images
// are tagged as the program names them; a release outside the list is refused
// by both scripts, naming the list.
func TestImageScriptsBuildEveryKafkaVersionTheConfigAccepts(t *testing.T) {
	list := regexp.MustCompile(`(?m)^KAFKA_VERSIONS=\(([^)]*)\)`)
	for _, script := range []string{"../scripts/tools.sh", "../scripts/images.sh"} {
		b, err := os.ReadFile(script)
		require.NoError(t, err)
		m := list.FindSubmatch(b)
		require.NotNil(t, m, "%s sets KAFKA_VERSIONS", script)
		assert.Equal(t, config.KafkaVersions, strings.Fields(string(m[1])), script)
	}
	for _, v := range config.KafkaVersions {
		cmd := exec.Command("bash", "../scripts/images.sh", "ref", "kafka", "registry.umbrella.internal")
		cmd.Env = append(os.Environ(), "UMBRELLA_KAFKA_VERSION="+v)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Equal(t, config.DefaultImageFor(v), strings.TrimSpace(string(out)), "Kafka %s", v)
	}
	for _, script := range []string{"../scripts/tools.sh", "../scripts/images.sh"} {
		cmd := exec.Command("bash", script, "list")
		cmd.Env = append(os.Environ(), "UMBRELLA_KAFKA_VERSION=4.0.0")
		out, err := cmd.CombinedOutput()
		require.Error(t, err, "%s with Kafka 4.0.0: %s", script, out)
		assert.Contains(t, string(out), "UMBRELLA_KAFKA_VERSION=4.0.0 is not a release this project builds ("+
			strings.Join(config.KafkaVersions, " ")+"); use one of those", script)
	}
}
