//go:build realkafka

package realkafka

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// The metadata.version level of every release line the program names is the
// one Kafka's own FeatureCommand reports on the newest release's jars
// (scripts/metadata-releases.sh), so a preview's "27 (4.1)" and a stack's
// metadataVersion: 4.1 mean what kafka-features.sh means by them.
func TestMetadataReleasesAreKafkasOwn(t *testing.T) {
	out, err := exec.Command("bash", projectDir+"/scripts/metadata-releases.sh").Output()
	require.NoError(t, err, "scripts/metadata-releases.sh")
	var got []kafkaadmin.MetadataRelease
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		release, lvl, ok := strings.Cut(line, " ")
		require.True(t, ok, "a line %q", line)
		n, err := strconv.Atoi(lvl)
		require.NoError(t, err, "a line %q", line)
		got = append(got, kafkaadmin.MetadataRelease{Release: release, Level: int16(n)})
	}
	assert.Equal(t, kafkaadmin.MetadataReleases, got, "regenerate the table with scripts/metadata-releases.sh go")
	require.NotEmpty(t, got)
	for i := 1; i < len(got); i++ {
		assert.Greater(t, got[i].Level, got[i-1].Level, "levels rise with the releases (%s, %s)", got[i-1].Release, got[i].Release)
	}
}
