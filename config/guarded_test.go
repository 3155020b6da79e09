package config

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeGuardedFields returns the first-column fields of the table under the
// README's "### Guarded changes" heading, up to the next heading.
func readmeGuardedFields(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "\n### Guarded changes\n")
	require.True(t, ok, "README.md has no \"### Guarded changes\" section")
	if i := strings.Index(section, "\n#"); i >= 0 {
		section = section[:i]
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|")
	var fields []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		fields = append(fields, m[1])
	}
	sort.Strings(fields)
	return fields
}

// Guards the one-table rule: a field added to (or dropped from) config.Guarded
// without the README, or the other way round, fails here.
func TestREADMEListsExactlyTheGuardedFields(t *testing.T) {
	fields := readmeGuardedFields(t)
	require.NotEmpty(t, fields, "no table rows parsed from README.md's Guarded changes section")
	assert.Equal(t, GuardedFields(), fields)
}

func TestGuardedTableIsCompleteAndSorted(t *testing.T) {
	fields := GuardedFields()
	assert.True(t, sort.StringsAreSorted(fields), "config.Guarded is kept sorted by field: %v", fields)
	for _, g := range Guarded {
		assert.NotEmpty(t, g.Why, g.Field)
		assert.NotEmpty(t, g.ByHand, g.Field)
		require.NotNil(t, g.Value, g.Field)
	}
	s, err := Build("prod", Raw{ClusterID: sp("MjPBEhmLSH-4IwmCODRzPg"), Brokers: ip(3), Controllers: ip(3),
		Broker:        &RawBroker{MinInsyncReplicas: ip(2), DefaultReplicationFactor: ip(3)},
		TopicDefaults: &RawTopic{ReplicationFactor: ip(3)},
		Storage:       &RawStorage{Size: sp("100Gi"), StorageClass: sp("fast")}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"broker.minInsyncReplicas": "2", "brokers": "3", "clusterId": "MjPBEhmLSH-4IwmCODRzPg",
		"controllers": "3", "security.mode": "none", "storage.size": "100Gi", "storage.storageClass": "fast"}, GuardedValues(s))
}

// Only a decrease of brokers is refused (before the live check); every other
// guarded field refuses any change.
func TestGuardedRefusesOnlyBrokerDecreases(t *testing.T) {
	byField := map[string]GuardedField{}
	for _, g := range Guarded {
		byField[g.Field] = g
	}
	b := byField[BrokersField]
	assert.True(t, b.Checked)
	assert.True(t, b.Refuses("4", "3"))
	assert.False(t, b.Refuses("3", "4"), "raising brokers adds broker-only pods")
	assert.False(t, b.Refuses("3", "3"))
	c := byField["controllers"]
	assert.True(t, c.Refuses("1", "3"))
	assert.True(t, c.Refuses("3", "1"))
	assert.False(t, c.Checked)
}

// An unset storage class is recorded as a marker (the engine drops "" from the
// outputs, which read back as never deployed); an older "" still counts as it.
func TestGuardedStorageClassRecordsTheClusterDefault(t *testing.T) {
	var g GuardedField
	for _, f := range Guarded {
		if f.Field == "storage.storageClass" {
			g = f
		}
	}
	s := &Spec{}
	assert.Equal(t, ClusterDefaultStorageClass, g.Value(s))
	assert.False(t, g.Refuses("", ClusterDefaultStorageClass))
	assert.True(t, g.Refuses(ClusterDefaultStorageClass, "fast"))
	assert.True(t, g.Refuses("", "fast"))
}

// A stack deployed before security.mode was recorded ran plaintext: its
// guard records say Unrecorded, and any change of the mode is refused.
func TestGuardedSecurityModeRefusesAnyChange(t *testing.T) {
	var g GuardedField
	for _, f := range Guarded {
		if f.Field == SecurityModeField {
			g = f
		}
	}
	require.NotNil(t, g.Value)
	assert.Equal(t, SecurityNone, g.Unrecorded)
	assert.True(t, g.Refuses(SecurityNone, SecurityScram))
	assert.True(t, g.Refuses(SecurityScram, SecurityNone))
	assert.False(t, g.Refuses(SecurityScram, SecurityScram))
	assert.False(t, g.Checked, "no live check can make a listener change safe")
	assert.Contains(t, g.Advice(), "guardOverrides: [security.mode]")
	assert.Equal(t, SecurityScram, g.Value(&Spec{Security: SecuritySpec{Mode: SecurityScram}}))
}
