package components

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
)

// The guard carries the order a software change rolls the pods in (for its
// preview); the finalize step needs none.
func TestClusterFeaturesRollOrder(t *testing.T) {
	s := spec(t, 3, 3)
	assert.Equal(t, []string{"kafka-2", "kafka-1", "kafka-0"}, RollOrder(s))
	assert.Equal(t, pulumi.ToStringArray([]string{"kafka-2", "kafka-1", "kafka-0"}), BuildClusterFeatures(s, FeaturesGuard).RollOrder)
	assert.Nil(t, BuildClusterFeatures(s, FeaturesFinalize).RollOrder)
	assert.Equal(t, []string{"kafka-0"}, RollOrder(spec(t, 1, 1)))
}
