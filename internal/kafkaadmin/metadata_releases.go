package kafkaadmin

import (
	"fmt"
	"strconv"
	"strings"
)

// MetadataRelease is one Kafka release line and the metadata.version level
// that release finalises (`kafka-features.sh upgrade --release-version`).
type MetadataRelease struct {
	Release string
	Level   int16
}

// MetadataReleases are the release lines from 3.3 (the first production
// KRaft release) on, oldest first, with their metadata.version levels as
// Kafka's own FeatureCommand reports them (`kafka-features.sh version-mapping
// --release-version R`, run on the newest release's jars by
// scripts/metadata-releases.sh, which printed this table; tests/realkafka
// checks each line against those jars).
var MetadataReleases = []MetadataRelease{
	{Release: "3.3", Level: 7},
	{Release: "3.4", Level: 8},
	{Release: "3.5", Level: 11},
	{Release: "3.6", Level: 14},
	{Release: "3.7", Level: 19},
	{Release: "3.8", Level: 20},
	{Release: "3.9", Level: 21},
	{Release: "4.0", Level: 25},
	{Release: "4.1", Level: 27},
	{Release: "4.2", Level: 29},
	{Release: "4.3", Level: 30},
	{Release: "4.4", Level: 33},
}

// MetadataLevel is the metadata.version level of release "X.Y".
func MetadataLevel(release string) (int16, bool) {
	for _, r := range MetadataReleases {
		if r.Release == release {
			return r.Level, true
		}
	}
	return 0, false
}

// ReleaseLine is "X.Y" of a version "X.Y.Z".
func ReleaseLine(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// ReleaseOf is the newest release line whose metadata version level has
// reached ("4.4" for 33), "" below every release's.
func ReleaseOf(level int16) string {
	out := ""
	for _, r := range MetadataReleases {
		if r.Level <= level {
			out = r.Release
		}
	}
	return out
}

// MetadataName names a level as the newest release whose metadata version
// it has reached: "27 (4.1)", or "26 (after 4.0)" for a level between two
// releases' own.
func MetadataName(level int16) string {
	name := strconv.Itoa(int(level))
	release := ReleaseOf(level)
	if release == "" {
		return name
	}
	if own, _ := MetadataLevel(release); own == level {
		return fmt.Sprintf("%s (%s)", name, release)
	}
	return fmt.Sprintf("%s (after %s)", name, release)
}

// NewerVersion reports whether Kafka version a ("X.Y.Z", or "X.Y") is newer
// than b, comparing the numbers in turn; a part that is not a number counts
// as 0.
func NewerVersion(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		na, nb := versionPart(pa, i), versionPart(pb, i)
		if na != nb {
			return na > nb
		}
	}
	return false
}

func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, _ := strconv.Atoi(parts[i])
	return n
}
