package kafkaadmin

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFeaturesSupportedByAll(t *testing.T) {
	f := Features{Supported: map[int32]map[string]FeatureRange{
		0: {MetadataVersionFeature: {Min: 7, Max: 30}},
		1: {MetadataVersionFeature: {Min: 7, Max: 27}, "kraft.version": {Min: 0, Max: 1}},
		2: {MetadataVersionFeature: {Min: 8, Max: 30}},
	}}
	r, without := f.SupportedByAll(MetadataVersionFeature)
	assert.Equal(t, FeatureRange{Min: 8, Max: 27}, r, "the highest minimum and the lowest maximum")
	assert.Empty(t, without)
	assert.Equal(t, []string{"broker 1 (up to 27)"}, f.Below(MetadataVersionFeature, 30))
	assert.Empty(t, f.Below(MetadataVersionFeature, 27))
	_, without = f.SupportedByAll("kraft.version")
	assert.Equal(t, []int32{0, 2}, without)
	assert.Equal(t, []int32{0, 1, 2}, f.Brokers())
}

func TestMetadataNames(t *testing.T) {
	saved := MetadataReleases
	t.Cleanup(func() { MetadataReleases = saved })
	MetadataReleases = []MetadataRelease{{"4.0", 25}, {"4.1", 27}}
	assert.Equal(t, "27 (4.1)", MetadataName(27))
	assert.Equal(t, "26 (after 4.0)", MetadataName(26))
	assert.Equal(t, "30 (after 4.1)", MetadataName(30))
	assert.Equal(t, "7", MetadataName(7))
	assert.Equal(t, "4.1", ReleaseOf(30))
	assert.Equal(t, "", ReleaseOf(7))
	l, ok := MetadataLevel("4.1")
	assert.True(t, ok)
	assert.Equal(t, int16(27), l)
	_, ok = MetadataLevel("4.2")
	assert.False(t, ok)
	assert.Equal(t, "4.1", ReleaseLine("4.1.2"))
	assert.Equal(t, "4.4", ReleaseLine("4.4.0"))
}

func TestNewerVersion(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		newer bool
	}{
		{"4.4.0", "4.1.2", true},
		{"4.1.2", "4.4.0", false},
		{"4.1.2", "4.1.1", true},
		{"4.1.1", "4.1.1", false},
		{"4.10.0", "4.9.9", true}, // numbers, not text
		{"4.2", "4.1.9", true},
		{"4.1", "4.1.0", false},
	} {
		assert.Equal(t, c.newer, NewerVersion(c.a, c.b), "%s newer than %s", c.a, c.b)
	}
}
