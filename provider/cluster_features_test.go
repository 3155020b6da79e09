package provider

import (
	"strconv"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

func level(t *testing.T, release string) int16 {
	t.Helper()
	l, ok := kafkaadmin.MetadataLevel(release)
	require.True(t, ok, "release %s is in kafkaadmin.MetadataReleases", release)
	return l
}

// features is a cluster whose brokers support metadata.version up to the
// given levels (by broker id), finalized at finalized.
func features(finalized int16, maxByBroker ...int16) kafkaadmin.Features {
	f := kafkaadmin.Features{Finalized: map[string]int16{kafkaadmin.MetadataVersionFeature: finalized, "kraft.version": 1},
		Supported: map[int32]map[string]kafkaadmin.FeatureRange{}}
	for id, m := range maxByBroker {
		f.Supported[int32(id)] = map[string]kafkaadmin.FeatureRange{kafkaadmin.MetadataVersionFeature: {Min: 7, Max: m}}
	}
	return f
}

func TestClusterFeaturesCheck(t *testing.T) {
	args := func(sw, mv, mode string) ClusterFeaturesArgs {
		a := ClusterFeaturesArgs{SoftwareVersion: sw, Mode: mode}
		if mv != "" {
			a.MetadataVersion = &mv
		}
		return a
	}
	assert.Empty(t, checkClusterFeatures(nil, args("4.1.1", "", FeaturesGuard)), "a new stack")
	assert.Empty(t, checkClusterFeatures(ptr(args("4.1.1", "", FeaturesGuard)), args("4.1.2", "", FeaturesGuard)), "the software alone")
	assert.Empty(t, checkClusterFeatures(ptr(args("4.1.2", "", FeaturesFinalize)), args("4.1.2", "4.1", FeaturesFinalize)), "the metadata alone")
	assert.Empty(t, checkClusterFeatures(ptr(args("4.1.1", "latest", FeaturesFinalize)), args("4.4.0", "latest", FeaturesFinalize)),
		"latest kept through a software change (the finalize holds it for the next up)")

	reasons := func(fs []p.CheckFailure) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Reason)
		}
		return out
	}
	assert.Equal(t, []string{`metadataVersion = "4.4": changes in the same update as the software (4.1.2 -> 4.4.0): the metadata ` +
		`version would change while the roll is not over, with some brokers still on 4.1.2; leave metadataVersion unset ` +
		`(kafka.metadataVersion) as it was for this update; once every broker runs 4.4.0, change it in an update of its own`},
		reasons(checkClusterFeatures(ptr(args("4.1.2", "", FeaturesGuard)), args("4.4.0", "4.4", FeaturesGuard))))
	assert.Contains(t, reasons(checkClusterFeatures(ptr(args("4.1.2", "4.1", FeaturesGuard)), args("4.4.0", "latest", FeaturesGuard)))[0],
		`keep metadataVersion at "4.1" for this update`)
	assert.Equal(t, []string{
		`softwareVersion = "4.1": is not a Kafka release; give the release the pods run, e.g. 4.1.2`,
		`metadataVersion = "4.1-IV1": is not a Kafka release line with a metadata version (known: ` + knownReleases() +
			`); use latest, a release such as 4.1, or leave it unset to keep the cluster's`,
		`mode = "grow": is not a features mode; use "guard" (before the StatefulSet) or "finalize" (after it)`,
	}, reasons(checkClusterFeatures(nil, args("4.1", "4.1-IV1", "grow"))))
}

func TestClusterFeaturesPlan(t *testing.T) {
	l41, l44 := level(t, "4.1"), level(t, "4.4")
	in := func(sw, mv, mode string) ClusterFeaturesArgs {
		a := ClusterFeaturesArgs{SoftwareVersion: sw, Mode: mode}
		if mv != "" {
			a.MetadataVersion = &mv
		}
		return a
	}

	// Rolling back the software while the metadata version is still the old
	// release's is allowed; once it was raised, the guard refuses.
	_, err := planFeatures(in("4.1.1", "", FeaturesGuard), features(l41, l44, l44, l44), true)
	assert.NoError(t, err, "roll back to 4.1.1 with metadata.version still 4.1's")
	_, err = planFeatures(in("4.1.2", "", FeaturesGuard), features(l44, l44, l44, l44), true)
	require.Error(t, err)
	assert.Equal(t, "Kafka 4.1.2 cannot run this cluster: its finalized metadata.version is "+kafkaadmin.MetadataName(l44)+
		", and Kafka 4.1 supports up to "+kafkaadmin.MetadataName(l41)+"; a software change does not lower a finalized "+
		"metadata version: keep kafka.version at a 4.4 release or newer", err.Error())

	// The finalize: latest is the newest every broker supports, held while
	// the software changes in the same update.
	fp, err := planFeatures(in("4.4.0", "latest", FeaturesFinalize), features(l41, l44, l44, l44), true)
	require.NoError(t, err)
	assert.False(t, fp.change)
	assert.True(t, fp.held)
	assert.Contains(t, fp.String(), "held there, since this update changes the software: the next up sets it")
	fp, err = planFeatures(in("4.4.0", "latest", FeaturesFinalize), features(l41, l44, l44, l44), false)
	require.NoError(t, err)
	assert.Equal(t, featuresPlan{finalized: l41, supported: l44, target: l44, change: true}, fp)
	assert.Equal(t, "metadata.version now "+kafkaadmin.MetadataName(l41)+", every broker supports up to "+
		kafkaadmin.MetadataName(l44)+"; will raise it to "+kafkaadmin.MetadataName(l44), fp.String())
	fp, err = planFeatures(in("4.4.0", "latest", FeaturesFinalize), features(l44, l44, l44, l44), false)
	require.NoError(t, err)
	assert.False(t, fp.change, "a second run changes nothing")
	assert.Contains(t, fp.String(), "; no change")

	// A release above what one broker supports names it (mid-roll by hand).
	_, err = planFeatures(in("4.4.0", "4.4", FeaturesFinalize), features(l41, l44, l41, l44), false)
	require.Error(t, err)
	assert.Equal(t, "metadataVersion 4.4 is level "+strconv.Itoa(int(l44))+", above what broker 1 (up to "+strconv.Itoa(int(l41))+") support: roll "+
		"every broker to a 4.4 release first (kafka.version), then raise it", err.Error())

	// Lowering is planned; Kafka judges it (validateOnly at preview).
	fp, err = planFeatures(in("4.4.0", "4.1", FeaturesFinalize), features(l44, l44, l44, l44), false)
	require.NoError(t, err)
	assert.Equal(t, featuresPlan{finalized: l44, supported: l44, target: l41, change: true}, fp)
	assert.Contains(t, fp.String(), "will lower it to "+kafkaadmin.MetadataName(l41))
}

func TestClusterFeaturesDiffSeesDrift(t *testing.T) {
	l41, l44 := level(t, "4.1"), level(t, "4.4")
	latest, r41 := "latest", "4.1"
	st := ClusterFeaturesState{ClusterFeaturesArgs: ClusterFeaturesArgs{SoftwareVersion: "4.4.0", MetadataVersion: &latest, Mode: FeaturesFinalize},
		FinalizedMetadataLevel: int(l41), SupportedMetadataLevel: int(l44)}
	assert.True(t, metadataDrift(st, st.ClusterFeaturesArgs), "latest after a software roll: the next up raises it")
	st.FinalizedMetadataLevel = int(l44)
	assert.False(t, metadataDrift(st, st.ClusterFeaturesArgs))
	in := st.ClusterFeaturesArgs
	in.MetadataVersion = &r41
	assert.True(t, metadataDrift(st, in), "an explicit release the cluster is not at")
}

// The guard's preview of a software change lists the pods in the order they
// roll, and says whether it is an upgrade or a roll back.
func TestRollPlan(t *testing.T) {
	in := ClusterFeaturesArgs{SoftwareVersion: "4.4.0", Mode: FeaturesGuard, RollOrder: []string{"kafka-2", "kafka-1", "kafka-0"}}
	assert.Equal(t, "Kafka 4.1.2 -> 4.4.0 (upgrade): the pods roll one at a time, each once the last serves again: "+
		"kafka-2, kafka-1, kafka-0; metadata.version stays as it is until an update of its own changes it", rollPlan("4.1.2", in))
	in.SoftwareVersion, in.RollOrder = "4.1.2", nil
	assert.Contains(t, rollPlan("4.4.0", in), "Kafka 4.4.0 -> 4.1.2 (roll back): the pods roll one at a time, each once the last serves again: highest ordinal first;")
}
