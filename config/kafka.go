package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// KafkaVersions are the Apache Kafka releases a stack may run (kafka.version),
// oldest first: the ones scripts/images.sh can build a broker image for (its
// KAFKA_VERSIONS; tests/images_test.go keeps the two in step). Each is the
// newest patch of its line on Maven Central, and 4.1.1 is the plan's.
var KafkaVersions = []string{"4.1.1", "4.1.2", "4.2.2", "4.3.2", "4.4.0"}

// DefaultKafkaVersion is the plan's release.
const DefaultKafkaVersion = "4.1.1"

// ImageRevision is the project's own revision of a broker image, after the
// Kafka version in its tag (4.1.1-umbrella.1): raised when
// infrastructure/kafka/Dockerfile changes what a given Kafka version's image holds.
const ImageRevision = "umbrella.1"

// MetadataVersionLatest, as kafka.metadataVersion, asks for the newest
// metadata.version every broker and controller of the cluster supports.
const MetadataVersionLatest = "latest"

// ProjectImageFor is the project's broker image for a Kafka version, without
// a registry (umbrella/kafka:4.1.2-umbrella.1).
func ProjectImageFor(version string) string {
	return "umbrella/kafka:" + version + "-" + ImageRevision
}

// DefaultImageFor is the image a stack on that Kafka version runs when it
// leaves image.name unset.
func DefaultImageFor(version string) string {
	return DefaultImageRegistry + "/" + ProjectImageFor(version)
}

// KafkaSpec is the Kafka software a stack runs and the cluster's metadata
// version (the `kafka` config object).
type KafkaSpec struct {
	// Version is the Apache Kafka release the broker pods run. A change rolls
	// the pods one at a time, like any change to the pod template.
	Version string
	// MetadataVersion is the metadata.version the cluster should have
	// finalised: "" leaves it where it is (as formatted, or as last raised),
	// MetadataVersionLatest raises it to the newest every node supports, and a
	// release such as 4.1 sets it to that release's metadata version, as
	// `kafka-features.sh upgrade --release-version 4.1` does. It changes in an
	// up of its own, after the software roll, and Kafka itself judges any
	// lowering.
	MetadataVersion string
}

var (
	// metadataVersionPattern is a release as kafka-features.sh's
	// --release-version takes it: 4.1 (describe shows its level as 4.1-IV1).
	metadataVersionPattern = regexp.MustCompile(`^([0-9]+)\.([0-9]+)$`)
	// releaseTagPattern is an image tag that starts with a Kafka release
	// (4.1.1, 4.1.1-umbrella.1, 4.1.1-rc0): the version it says it holds.
	releaseTagPattern = regexp.MustCompile(`^([0-9]+\.[0-9]+\.[0-9]+)(?:[-_.+].*)?$`)
)

// buildKafka sets the Kafka software and metadata version. It runs before
// buildImage, whose defaults follow the version.
func buildKafka(p *problems, s *Spec, k *RawKafka) {
	s.Kafka = KafkaSpec{
		Version:         strings.TrimSpace(orStr(k.Version, DefaultKafkaVersion)),
		MetadataVersion: strings.TrimSpace(orStr(k.MetadataVersion, "")),
	}
	if !slices.Contains(KafkaVersions, s.Kafka.Version) {
		p.add("kafka.version", s.Kafka.Version,
			"is not a Kafka release this project builds a broker image for (builds: "+strings.Join(KafkaVersions, ", ")+")",
			"use one of those (a patch of your line is the safe step), or add the release to KAFKA_VERSIONS in scripts/images.sh and to config.KafkaVersions")
		s.Kafka.Version = DefaultKafkaVersion // one mistake, one message: the image defaults follow a known version
		return
	}
	mv := s.Kafka.MetadataVersion
	if mv == "" || mv == MetadataVersionLatest {
		return
	}
	m := metadataVersionPattern.FindStringSubmatch(mv)
	if m == nil {
		p.add("kafka.metadataVersion", mv, "is not a metadata version",
			"name a release as kafka-features.sh's --release-version does, such as 4.1 (where describe shows 4.1-IV1), "+
				"or "+MetadataVersionLatest+" for the newest every node supports, or leave it unset to keep the cluster's")
		return
	}
	if newerRelease(m[1]+"."+m[2], s.Kafka.Version) {
		p.add("kafka.metadataVersion", mv, fmt.Sprintf("belongs to Kafka %s.%s, newer than kafka.version %s can run", m[1], m[2], s.Kafka.Version),
			fmt.Sprintf("roll the software to a %s.%s release first (kafka.version, its own up), then raise the metadata version in the next", m[1], m[2]))
	}
}

// newerRelease reports whether release "major.minor" is newer than the
// release line of version "major.minor.patch".
func newerRelease(release, version string) bool {
	r, v := releaseNumbers(release), releaseNumbers(version)
	return r[0] > v[0] || (r[0] == v[0] && r[1] > v[1])
}

// releaseNumbers is the major and minor number of "major.minor[.patch]";
// the inputs are checked by the patterns above.
func releaseNumbers(s string) [2]int {
	parts := strings.SplitN(s, ".", 3)
	var out [2]int
	for i := 0; i < 2 && i < len(parts); i++ {
		out[i], _ = strconv.Atoi(parts[i])
	}
	return out
}

// checkImageVersion refuses an image whose tag names another Kafka release
// than kafka.version: the pods would run that image's software while the
// stack, its outputs and the metadata-version checks believe the setting.
// A tag that names no release (a digest, `stable-2`) is the operator's word.
func checkImageVersion(p *problems, field, ref, version string) {
	if strings.Contains(ref, "@") {
		return
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, tagged := strings.Cut(name, ":")
	if !tagged {
		return
	}
	m := releaseTagPattern.FindStringSubmatch(tag)
	if m == nil || m[1] == version {
		return
	}
	p.add(field, ref, fmt.Sprintf("is tagged for Kafka %s, but kafka.version is %s", m[1], version),
		fmt.Sprintf("leave %s unset to run the project's %s image (%s), or name your registry's %s image",
			field, version, DefaultImageFor(version), version))
}
