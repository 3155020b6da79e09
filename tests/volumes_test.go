package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/program"
)

// The retainedVolumes output names the PVCs removed brokers left, and stays
// the same on the next update that changes nothing.
func TestRetainedVolumes(t *testing.T) {
	spec := func(brokers int) *config.Spec { return &config.Spec{Brokers: brokers} }
	prev := func(brokers string, retained ...string) program.Previous {
		return program.Previous{Guarded: map[string]string{"brokers": brokers}, RetainedVolumes: retained}
	}
	assert.Equal(t, []string{}, program.RetainedVolumes(program.Previous{}, spec(3)), "a new stack")
	assert.Equal(t, []string{}, program.RetainedVolumes(prev("3"), spec(5)), "raising brokers leaves nothing behind")
	assert.Equal(t, []string{"data-kafka-3", "data-kafka-4"}, program.RetainedVolumes(prev("5"), spec(3)), "5 -> 3")
	assert.Equal(t, []string{"data-kafka-3", "data-kafka-4"}, program.RetainedVolumes(prev("3", "data-kafka-3", "data-kafka-4"), spec(3)),
		"the next update keeps naming them")
	assert.Equal(t, []string{"data-kafka-4"}, program.RetainedVolumes(prev("3", "data-kafka-3", "data-kafka-4"), spec(4)),
		"raising brokers reuses the first")
	assert.Equal(t, []string{"data-kafka-1", "data-kafka-2", "data-kafka-3", "data-kafka-4"},
		program.RetainedVolumes(prev("3", "data-kafka-3", "data-kafka-4"), spec(1)))
	assert.Equal(t, []string{}, program.RetainedVolumes(prev("3", "data-kafka-3", "data-kafka-4"), spec(5)), "all reused")
}
