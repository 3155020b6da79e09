//go:build realkafka

package realkafka

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

const baseDir = "../../infrastructure/kafka/base"

// kafkaHome lays out our kafka-base image's /opt/kafka in a temp folder: the
// repo's bin/ and config/, and libs/ linked to the Kafka jars.
func kafkaHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, sub := range []string{"bin", "config"} {
		require.NoError(t, os.CopyFS(filepath.Join(home, sub), os.DirFS(filepath.Join(baseDir, sub))))
	}
	require.NoError(t, os.Symlink(kafkaLibs(t), filepath.Join(home, "libs")))
	// CopyFS drops the executable bit.
	scripts, err := filepath.Glob(filepath.Join(home, "bin", "*"))
	require.NoError(t, err)
	for _, s := range scripts {
		require.NoError(t, os.Chmod(s, 0o755))
	}
	return home
}

// jarClasses is the set of class files in the jars, as "a.b.C".
func jarClasses(t *testing.T, libs string) map[string]bool {
	t.Helper()
	jars, err := filepath.Glob(filepath.Join(libs, "*.jar"))
	require.NoError(t, err)
	classes := map[string]bool{}
	for _, j := range jars {
		r, err := zip.OpenReader(j)
		require.NoError(t, err)
		for _, f := range r.File {
			if name, ok := strings.CutSuffix(f.Name, ".class"); ok {
				classes[strings.ReplaceAll(name, "/", ".")] = true
			}
		}
		r.Close()
	}
	return classes
}

var scriptClass = regexp.MustCompile(`(?m)^exec .*/kafka-run-class\.sh" .*?([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+) "\$@"$`)

// Every bin script of the base image names a main class the Kafka 4.1.1 jars
// hold, and runs it: `--version` prints the release, as with upstream's scripts
// (the argparse4j tools have no --version; their --help exits as upstream's).
func TestBaseImageBinScriptsRunOnTheJars(t *testing.T) {
	home := kafkaHome(t)
	classes := jarClasses(t, filepath.Join(home, "libs"))
	cases := map[string]struct {
		args     []string
		exitCode int
		want     string // in the combined output
	}{
		"kafka-server-start.sh":        {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-storage.sh":             {[]string{"--help"}, 0, "usage: kafka-storage"},
		"kafka-topics.sh":              {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-configs.sh":             {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-metadata-quorum.sh":     {[]string{"--help"}, 0, "usage: kafka-metadata-quorum"},
		"kafka-console-producer.sh":    {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-console-consumer.sh":    {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-broker-api-versions.sh": {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-features.sh":            {[]string{"--help"}, 1, "usage: kafka-features"},
		"kafka-reassign-partitions.sh": {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-get-offsets.sh":         {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-consumer-groups.sh":     {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-acls.sh":                {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-leader-election.sh":     {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-log-dirs.sh":            {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-delete-records.sh":      {[]string{"--version"}, 0, localkafka.KafkaVersion},
		"kafka-cluster.sh":             {[]string{"--help"}, 1, "usage: kafka-cluster"},
		"kafka-dump-log.sh":            {[]string{"--version"}, 0, localkafka.KafkaVersion},
	}
	scripts, err := filepath.Glob(filepath.Join(home, "bin", "kafka-*.sh"))
	require.NoError(t, err)
	require.Len(t, scripts, len(cases)+1, "a new script needs a case here")
	for _, path := range scripts {
		name := filepath.Base(path)
		if name == "kafka-run-class.sh" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			c, ok := cases[name]
			require.True(t, ok, "no case for %s", name)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			m := scriptClass.FindStringSubmatch(string(b))
			require.NotNil(t, m, "%s names no main class", name)
			assert.True(t, classes[m[1]], "%s runs %s, which is not in the Kafka %s jars", name, m[1], localkafka.KafkaVersion)

			cmd := exec.Command(path, c.args...)
			// Small, quick-starting JVMs (which also exercises the *_OPTS overrides).
			cmd.Env = append(os.Environ(), "LOG_DIR="+filepath.Join(home, "logs"), "KAFKA_HEAP_OPTS=-Xmx128m",
				"KAFKA_JVM_PERFORMANCE_OPTS=-XX:+UseSerialGC -XX:TieredStopAtLevel=1")
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, c.exitCode, code, "%s %v exit code; output:\n%s", name, c.args, out)
			assert.Contains(t, string(out), c.want)
		})
	}

	// kafka-storage.sh makes a cluster id the way the pods' start script expects.
	out, err := exec.Command(filepath.Join(home, "bin", "kafka-storage.sh"), "random-uuid").Output()
	require.NoError(t, err)
	assert.Regexp(t, `^[A-Za-z0-9_-]{22}\n$`, string(out))

	// Without a class, kafka-run-class.sh prints upstream's usage and fails.
	out, err = exec.Command(filepath.Join(home, "bin", "kafka-run-class.sh"), "-loggc").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "USAGE: ")
	assert.Contains(t, string(out), "kafka-run-class.sh [-daemon] [-name servicename] [-loggc] classname [opts]")
}
