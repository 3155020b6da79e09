//go:build realkafka

package provider

import (
	"context"
	"os/exec"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// upgradeReleases are the releases the software roll moves through: the
// plan's, its bug-fix release, and the newest 4.x the project builds.
var upgradeReleases = []string{"4.1.1", "4.1.2", "4.4.0"}

// releaseLibs builds (cached) and returns each release's jars.
func releaseLibs(t *testing.T, versions ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range versions {
		cmd := exec.Command("bash", "../scripts/tools.sh", "kafka")
		cmd.Env = append(cmd.Environ(), "UMBRELLA_KAFKA_VERSION="+v)
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "UMBRELLA_KAFKA_VERSION=%s scripts/tools.sh kafka: %s", v, b)
		libs, err := localkafka.FindVersionLibs(v)
		require.NoError(t, err)
		out[v] = libs
	}
	return out
}

func featuresProps(software, metadata, mode string) property.Map {
	m := map[string]property.Value{"softwareVersion": property.New(software), "mode": property.New(mode)}
	if metadata != "" {
		m["metadataVersion"] = property.New(metadata)
	}
	return property.NewMap(m)
}

// featuresResource is one ClusterFeatures on the test server, with its last
// recorded inputs and state.
type featuresResource struct {
	t      *testing.T
	s      *testServer
	name   string
	inputs property.Map
	state  property.Map
}

func newFeatures(t *testing.T, s *testServer, name, software, metadata, mode string) *featuresResource {
	t.Helper()
	f := &featuresResource{t: t, s: s, name: name}
	in := checked(t, s, resURN(ClusterFeaturesToken, name), featuresProps(software, metadata, mode))
	resp, err := s.Create(p.CreateRequest{Urn: resURN(ClusterFeaturesToken, name), Properties: in})
	require.NoError(t, err)
	f.inputs, f.state = in, resp.Properties
	return f
}

// check runs Check with the recorded inputs as the old ones.
func (f *featuresResource) check(software, metadata string) ([]p.CheckFailure, property.Map) {
	f.t.Helper()
	resp, err := f.s.Check(p.CheckRequest{Urn: resURN(ClusterFeaturesToken, f.name), State: f.inputs,
		Inputs: featuresProps(software, metadata, f.inputs.Get("mode").AsString())})
	require.NoError(f.t, err)
	return resp.Failures, resp.Inputs
}

// update previews then runs an update to these inputs, as `pulumi up` does;
// with previewOnly it stops after the preview. It returns the error of the
// step that failed.
func (f *featuresResource) update(software, metadata string, previewOnly bool) error {
	f.t.Helper()
	failures, in := f.check(software, metadata)
	require.Empty(f.t, failures)
	for _, dry := range []bool{true, false} {
		if !dry && previewOnly {
			return nil
		}
		resp, err := f.s.Update(p.UpdateRequest{ID: f.name, Urn: resURN(ClusterFeaturesToken, f.name), State: f.state,
			OldInputs: f.inputs, Inputs: in, DryRun: dry})
		if err != nil {
			return err
		}
		if !dry {
			f.inputs, f.state = in, resp.Properties
		}
	}
	return nil
}

func (f *featuresResource) finalized() int16 {
	return int16(f.state.Get("finalizedMetadataLevel").AsNumber())
}

// TestRealKafkaSoftwareUpgradeAndMetadataVersion is issue 28 on real Kafka
// jars, on the loopback: three nodes roll 4.1.1 -> 4.1.2 -> 4.4.0 one at a
// time under an acks=all producer, with the ClusterFeatures guard before
// each roll and the finalize after it; a rollback while the metadata version
// is still the old release's works; the metadata version is raised in an
// update of its own; then a software downgrade is refused, and Kafka itself
// refuses lowering the metadata version at preview, changing nothing. A
// consumer group's committed offsets stay as they were throughout.
func TestRealKafkaSoftwareUpgradeAndMetadataVersion(t *testing.T) {
	libs := releaseLibs(t, upgradeReleases...)
	lk, cl := quorumCluster(t, true)
	s := server(t, lk.Bootstrap(), nil)
	ctx := context.Background()
	l41, ok := kafkaadmin.MetadataLevel("4.1")
	require.True(t, ok)
	l44, ok := kafkaadmin.MetadataLevel("4.4")
	require.True(t, ok)

	// A group's committed offsets, read back after every step.
	kc, err := kgo.NewClient(kgo.SeedBrokers(lk.Bootstrap()...))
	require.NoError(t, err)
	t.Cleanup(kc.Close)
	adm := kadm.NewClient(kc)
	offsets := kadm.Offsets{}
	for part := int32(0); part < 3; part++ {
		offsets.Add(kadm.Offset{Topic: quorumTopic, Partition: part, At: int64(10 + part), LeaderEpoch: -1})
	}
	err = adm.CommitAllOffsets(ctx, "email-processor", offsets)
	require.NoError(t, err)
	assertOffsets := func(step string) {
		t.Helper()
		got, err := adm.FetchOffsets(ctx, "email-processor")
		require.NoError(t, err, step)
		for part := int32(0); part < 3; part++ {
			o, ok := got.Lookup(quorumTopic, part)
			require.True(t, ok, "%s: partition %d", step, part)
			assert.Equal(t, int64(10+part), o.At, "%s: email-processor's offset of partition %d", step, part)
		}
	}

	guard := newFeatures(t, s, "features-guard", "4.1.1", "", FeaturesGuard)
	fin := newFeatures(t, s, "features-finalize", "4.1.1", "", FeaturesFinalize)
	assert.Equal(t, l41, fin.finalized(), "a 4.1.1 cluster is formatted at 4.1's metadata version")

	load := producing(t, lk, "upgrade")
	roll := func(version string) {
		t.Helper()
		quorumStep(t, "software roll to Kafka "+version+" (nodes 2, 1, 0)", func() {
			require.NoError(t, guard.update(version, "", false), "guard before the roll to %s", version)
			for _, id := range []int{2, 1, 0} {
				require.NoError(t, lk.SetNodeLibs(id, libs[version]))
				start := time.Now()
				restartNodes(t, lk, id)
				t.Logf("FIGURE upgrade node %d -> Kafka %s: back in %.1f s", id, version, time.Since(start).Seconds())
			}
			require.NoError(t, fin.update(version, "", false), "finalize after the roll to %s", version)
		})
		assertOffsets("after the roll to " + version)
	}
	roll("4.1.2")
	assert.Equal(t, l41, fin.finalized(), "a software roll leaves the metadata version")

	// The metadata version cannot change in the same update as the software.
	failures, _ := fin.check("4.4.0", "latest")
	require.Len(t, failures, 1)
	assert.Contains(t, failures[0].Reason, "changes in the same update as the software (4.1.2 -> 4.4.0)")

	roll("4.4.0")
	assert.Equal(t, l41, fin.finalized())
	assert.Equal(t, float64(l44), fin.state.Get("supportedMetadataLevel").AsNumber(), "every broker runs 4.4.0 now")

	// Rolled back while the metadata version is still 4.1's: allowed.
	roll("4.1.2")
	roll("4.4.0")

	quorumStep(t, "metadata.version raised to latest in an update of its own", func() {
		require.NoError(t, fin.update("4.4.0", "latest", false))
	})
	assert.Equal(t, l44, fin.finalized())
	f, err := cl.DescribeFeatures(ctx)
	require.NoError(t, err)
	assert.Equal(t, l44, f.Finalized[kafkaadmin.MetadataVersionFeature], "Kafka's own answer agrees with the outputs")
	d, err := s.Diff(p.DiffRequest{ID: "features-finalize", Urn: resURN(ClusterFeaturesToken, "features-finalize"),
		State: fin.state, Inputs: fin.inputs})
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "a second up changes nothing")

	// Now the old software cannot run the cluster: the guard refuses at
	// preview, and nothing rolls.
	err = guard.update("4.1.2", "", true)
	require.Error(t, err)
	t.Logf("software downgrade after the raise: %v", err)
	assert.ErrorContains(t, err, "Kafka 4.1.2 cannot run this cluster")
	// Lowering the metadata version: Kafka judges it at preview.
	// (Kafka 4.4.0 answers INVALID_UPDATE_VERSION: metadata changes lie
	// between 4.1's level and 4.4's, measured 2026-12-06.)
	err = fin.update("4.4.0", "4.1", true)
	require.Error(t, err, "lowering metadata.version 4.4 -> 4.1 at preview")
	t.Logf("metadata.version 4.4 -> 4.1 at preview: %v", err)
	assert.ErrorContains(t, err, "Kafka refused it: ")
	assert.ErrorContains(t, err, "Unsupported metadata.version downgrade")
	f, err = cl.DescribeFeatures(ctx)
	require.NoError(t, err)
	assert.Equal(t, l44, f.Finalized[kafkaadmin.MetadataVersionFeature], "a preview changes nothing")
	assertOffsets("at the end")
	load.finish()
}
