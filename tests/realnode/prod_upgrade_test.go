//go:build realnode

package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// upgradePath is issue 28's path: the plan's release, its bug-fix release and
// the newest 4.x the project builds. scripts/test.sh builds the images of
// the last two ahead (UPGRADE_RELEASES; tests/scripts_test.go keeps the two
// lists in step); releaseImage builds whatever is missing.
var upgradePath = []string{config.DefaultKafkaVersion, "4.1.2", "4.4.0"}

// upgradeGroup is a consumer group whose committed offsets every step must keep.
const upgradeGroup = "umbrella-upgrade-offsets"

// releaseImage builds (cached by content) a release's jars and broker image,
// pushes the image to the node's registry and returns its reference.
func releaseImage(t *testing.T, version string) string {
	t.Helper()
	run := func(args ...string) string {
		cmd := exec.Command("bash", args...)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "UMBRELLA_KAFKA_VERSION="+version)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "UMBRELLA_KAFKA_VERSION=%s %s:\n%s", version, strings.Join(args, " "), stderr.String())
		return strings.TrimSpace(string(out))
	}
	run(filepath.Join("scripts", "tools.sh"), "kafka")
	run(filepath.Join("scripts", "images.sh"), "push-kafka", registry)
	return run(filepath.Join("scripts", "images.sh"), "ref", "kafka", registry)
}

// upgradeOverrides are rolledOverrides (where the stories before leave the
// stack) on another Kafka release: kafka.version, its image, and a
// kafka.metadataVersion unless metadata is "".
func upgradeOverrides(images map[string]string, version, metadata string) map[string]string {
	o := rolledOverrides()
	image := images[version]
	if image == "" { // a release the project does not build: the default's image
		image = images[config.DefaultKafkaVersion]
	}
	img, _ := json.Marshal(map[string]any{"name": image})
	o["image"] = string(img)
	k := map[string]any{"version": version}
	if metadata != "" {
		k["metadataVersion"] = metadata
	}
	b, _ := json.Marshal(k)
	o["kafka"] = string(b)
	return o
}

// features is what `kafka-features.sh describe` shows in a broker pod.
type features struct {
	// metadata is metadata.version's finalized level as Kafka names it
	// (4.1-IV1); kraft is kraft.version's (1).
	metadata, kraft string
}

// release is the release of the finalized metadata.version (4.1 of 4.1-IV1),
// as version-mapping names it.
func (f features) release() string { return strings.SplitN(f.metadata, "-", 2)[0] }

var finalizedLevel = regexp.MustCompile(`(?m)^Feature:\s+(\S+)\s.*FinalizedVersionLevel:\s+(\S+)`)

func describeFeatures(t *testing.T, k kafkaStack) features {
	t.Helper()
	out := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-features.sh "+plainToolBootstrap+" describe")
	var f features
	for _, m := range finalizedLevel.FindAllStringSubmatch(out, -1) {
		switch m[1] {
		case kafkaadmin.MetadataVersionFeature:
			f.metadata = m[2]
		case "kraft.version":
			f.kraft = m[2]
		}
	}
	require.NotEmpty(t, f.metadata, "kafka-features.sh describe:\n%s", out)
	return f
}

// metadataLevelName is Kafka's own number and release for a release's
// metadata.version (`kafka-features.sh version-mapping`: 33 and 4.4).
func metadataLevelName(t *testing.T, k kafkaStack, release string) (int, string) {
	t.Helper()
	out := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-features.sh "+plainToolBootstrap+" version-mapping --release-version "+release)
	m := regexp.MustCompile(`(?m)^metadata\.version=(\d+) \((\S+)\)`).FindStringSubmatch(out)
	require.NotNil(t, m, "version-mapping --release-version %s:\n%s", release, out)
	var level int
	_, err := fmt.Sscan(m[1], &level)
	require.NoError(t, err)
	return level, m[2]
}

// groupOffsets are upgradeGroup's committed offsets (topic/partition ->
// offset), as kafka-consumer-groups.sh describes them.
func groupOffsets(t *testing.T, k kafkaStack) map[string]string {
	t.Helper()
	out := k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-consumer-groups.sh "+plainToolBootstrap+" --describe --group "+upgradeGroup)
	offsets := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^`+upgradeGroup+`\s+(\S+)\s+(\d+)\s+(\d+)\s`).FindAllStringSubmatch(out, -1) {
		offsets[m[1]+"/"+m[2]] = m[3]
	}
	require.NotEmpty(t, offsets, "committed offsets of %s:\n%s", upgradeGroup, out)
	return offsets
}

// runningRelease is the Kafka release each broker pod runs: the version of
// the kafka-server jar its image holds, read in the pod.
func runningRelease(t *testing.T, k kafkaStack) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i := 0; i < 3; i++ {
		pod := components.PodName(i)
		jar := k.exec(t, pod, "ls /opt/kafka/libs/ | grep -E '^kafka-server-[0-9.]+\\.jar$'")
		out[pod] = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(jar), "kafka-server-"), ".jar")
	}
	return out
}

// clusterState is what a refused preview must leave as it was.
type clusterState struct {
	uids     []string
	features features
	offsets  map[string]string
}

func readClusterState(t *testing.T, k kafkaStack) clusterState {
	t.Helper()
	return clusterState{uids: podUIDs(t, 3), features: describeFeatures(t, k), offsets: groupOffsets(t, k)}
}

// refusedAtPreview previews overrides and requires the engine to refuse
// them with every one of want in the message.
func refusedAtPreview(t *testing.T, ctx context.Context, stateDir string, overrides map[string]string, what string, want ...string) {
	t.Helper()
	st := openStack(t, ctx, "prod", stateDir, overrides)
	_, err := st.Preview(ctx)
	require.Error(t, err, "%s is refused at preview", what)
	for _, w := range want {
		assert.Contains(t, err.Error(), w, "%s: the refusal", what)
	}
	t.Logf("FIGURE refused at preview, %s: %s", what, refusalLine(err.Error(), want[0]))
}

// refusalLine is the line of the engine's output that carries the refusal.
func refusalLine(out, want string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, want) {
			return strings.TrimSpace(l)
		}
	}
	return "(no line with " + want + ")"
}

// kafkaUpgradeStory is issue 28 on real pods through the engine, with the
// connectors producing acks=all throughout: the software rolls 4.1.1 ->
// 4.1.2 -> 4.4.0, each an up of one config change, rolls back to 4.1.2 and
// up again while metadata.version is still 4.1's, then an up of its own
// finalises the metadata version; the unsafe changes are refused at preview
// with nothing changed, a consumer group keeps its committed offsets
// throughout, and kafka-features.sh in a pod agrees with the outputs.
func kafkaUpgradeStory(t *testing.T, ctx context.Context, k kafkaStack, stateDir string) {
	images := map[string]string{}
	for _, v := range upgradePath {
		images[v] = releaseImage(t, v)
	}
	from, bugfix, newest := upgradePath[0], upgradePath[1], upgradePath[2]
	require.Equal(t, devImage(), images[from], "the stories so far ran the default release's image")
	newestRelease := kafkaadmin.ReleaseLine(newest)
	fromLevel, fromName := metadataLevelName(t, k, kafkaadmin.ReleaseLine(from))
	k.exec(t, "kafka-0", "/opt/kafka/bin/kafka-consumer-groups.sh "+plainToolBootstrap+" --group "+upgradeGroup+
		" --topic "+loadTopic+" --reset-offsets --to-latest --execute")
	before := readClusterState(t, k)
	require.Equal(t, fromName, before.features.release(), "formatted by %s: its metadata.version (%s)", from, before.features.metadata)
	require.Equal(t, "1", before.features.kraft, "kraft.version: the dynamic quorum")

	refusedAtPreview(t, ctx, stateDir, upgradeOverrides(images, "4.0.2", ""), "a release the project does not build",
		`kafka.version = "4.0.2"`, "is not a Kafka release this project builds")
	refusedAtPreview(t, ctx, stateDir, upgradeOverrides(images, newest, newestRelease), "the metadata version raised in the same update as the software",
		"changes in the same update as the software ("+from+" -> "+newest+")")
	assert.Equal(t, before, readClusterState(t, k), "refused previews changed nothing")

	run := startProducerTo(t, k, "upgrade", loadTopic, 20*time.Minute, "--rate", "300/s", "--stop-file", loadgenStopFile)
	run.waitAcked(t, faultAfterAcked)
	steps := []struct{ name, version string }{
		{"upgrade " + from + " -> " + bugfix, bugfix},
		{"upgrade " + bugfix + " -> " + newest, newest},
		{"roll back " + newest + " -> " + bugfix + " (metadata.version still " + fromName + ")", bugfix},
		{"upgrade " + bugfix + " -> " + newest + " again", newest},
	}
	for _, step := range steps {
		st := openStack(t, ctx, "prod", stateDir, upgradeOverrides(images, step.version, ""))
		_, diags, err := st.PreviewDiagnostics(ctx)
		require.NoError(t, err, "%s is previewed, not refused", step.name)
		plan := featuresLine(diags, "guard")
		assert.Contains(t, plan, "roll one at a time", "%s: the preview lists the roll: %q", step.name, diags)
		t.Logf("FIGURE preview %s: %s", step.name, plan)
		up, f := watchedUp(t, ctx, st, step.name)
		for pod, v := range runningRelease(t, k) {
			assert.Equal(t, step.version, v, "%s: %s runs Kafka %s", step.name, pod, step.version)
		}
		assert.Equal(t, step.version, up.Outputs["kafkaVersion"].Value, "%s: the kafkaVersion output", step.name)
		assert.Equal(t, before.features.metadata, describeFeatures(t, k).metadata, "%s: metadata.version stays until its own up", step.name)
		assert.Equal(t, before.offsets, groupOffsets(t, k), "%s: the group's committed offsets", step.name)
		t.Logf("FIGURE %s: up %.1fs, roll of three brokers %.1fs, longest broker restart %.1fs, longest stretch under min ISR %.1fs",
			step.name, f.upTook.Seconds(), f.roll.Seconds(), f.longestRestart.Seconds(), f.res.longestUnderMinISR.Seconds())
	}

	// Asked of the pods' own software, which now knows the newest release.
	newestLevel, newestName := metadataLevelName(t, k, newestRelease)
	st := openStack(t, ctx, "prod", stateDir, upgradeOverrides(images, newest, config.MetadataVersionLatest))
	_, diags, err := st.PreviewDiagnostics(ctx)
	require.NoError(t, err, "finalising is previewed, not refused")
	plan := featuresLine(diags, "finalize")
	want := fmt.Sprintf("will raise it to %s", kafkaadmin.MetadataName(int16(newestLevel)))
	assert.Contains(t, plan, want, "the preview shows the current and target levels: %q", diags)
	t.Logf("FIGURE preview finalise: %s", plan)
	uids := podUIDs(t, 3)
	start := time.Now()
	up, err := st.Up(ctx)
	require.NoError(t, err, "up: metadata.version latest")
	finalised := upgradeOverrides(images, newest, config.MetadataVersionLatest)
	releaseOverrides = map[string]string{"image": finalised["image"], "kafka": finalised["kafka"]}
	t.Logf("FIGURE finalise metadata.version %d -> %d: up %.1fs", fromLevel, newestLevel, time.Since(start).Seconds())
	assert.Equal(t, uids, podUIDs(t, 3), "finalising restarts no pod")
	previewsNoChange(t, ctx, st, "metadata.version finalised")
	run.stop(t)
	s := run.wait(t)
	v := verifyProduced(t, k, run, s)
	t.Logf("FIGURE Kafka %s -> %s -> %s -> %s -> %s, then metadata.version %s -> %s, under load: longest produce stall %d ms; acknowledged %d, read back %d, lost %d, duplicated %d",
		from, bugfix, newest, bugfix, newest, fromName, newestName, s.LongestStallMs, v.Acked, v.ReadBack(), v.Lost, v.Duplicated)

	after := readClusterState(t, k)
	assert.Equal(t, newestName, after.features.release(), "kafka-features.sh describe: metadata.version finalised (%s)", after.features.metadata)
	assert.Equal(t, kafkaadmin.MetadataName(int16(newestLevel)), up.Outputs["metadataVersion"].Value,
		"the metadataVersion output agrees with Kafka's describe (%s) and version-mapping (%d)", after.features.metadata, newestLevel)
	assert.Equal(t, "1", after.features.kraft, "kraft.version stays")
	assert.Equal(t, before.offsets, after.offsets, "the group's committed offsets at the end")
	finalize := featuresResourceOutputs(t, ctx, st, "finalize")
	assert.EqualValues(t, newestLevel, finalize["finalizedMetadataLevel"], "ClusterFeatures finalize: finalizedMetadataLevel")
	assert.EqualValues(t, 1, finalize["kraftVersion"], "ClusterFeatures finalize: kraftVersion agrees with describe")

	refusedAtPreview(t, ctx, stateDir, upgradeOverrides(images, bugfix, config.MetadataVersionLatest), "a software downgrade once the metadata version is finalised",
		"Kafka "+bugfix+" cannot run this cluster", "its finalized metadata.version is "+kafkaadmin.MetadataName(int16(newestLevel)))
	refusedAtPreview(t, ctx, stateDir, upgradeOverrides(images, newest, kafkaadmin.ReleaseLine(from)), "a metadata.version lowering Kafka refuses",
		"Kafka refused it: ")
	assert.Equal(t, after, readClusterState(t, k), "refused previews changed nothing")
}

// featuresLine is the ClusterFeatures log line of a preview for a mode.
func featuresLine(diags []string, mode string) string {
	for _, d := range diags {
		if strings.Contains(d, "ClusterFeatures "+mode) {
			return d
		}
	}
	return fmt.Sprintf("(no ClusterFeatures %s line)", mode)
}

// featuresResourceOutputs are the recorded outputs of the stack's
// ClusterFeatures in a mode (the checkpoint's).
func featuresResourceOutputs(t *testing.T, ctx context.Context, st *deploy.Stack, mode string) map[string]any {
	t.Helper()
	dep, err := st.Export(ctx)
	require.NoError(t, err)
	var doc struct {
		Resources []struct {
			URN, Type string
			Outputs   map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(dep.Deployment, &doc))
	for _, r := range doc.Resources {
		if r.Type == "umbrellakafka:index:ClusterFeatures" && strings.HasSuffix(r.URN, "-"+mode) {
			return r.Outputs
		}
	}
	t.Fatalf("no ClusterFeatures %s in the stack's checkpoint", mode)
	return nil
}
