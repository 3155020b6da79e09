package kafkaadmin

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Leaving sorts the registrations outside 0..n-1 by whether their broker
// still runs; the ones inside are never touched.
func TestLeavingRegistrations(t *testing.T) {
	regs := []BrokerRegistration{{ID: 0, Fenced: true}, {ID: 1}, {ID: 2}, {ID: 3, Fenced: true}, {ID: 4}}
	fenced, running := Leaving(regs, 3)
	assert.Equal(t, []int32{3}, fenced, "stopped, outside 0-2")
	assert.Equal(t, []int32{4}, running, "still running, outside 0-2")
	fenced, running = Leaving(regs, 5)
	assert.Empty(t, fenced, "broker 0 is fenced but inside the range: a restart, not a removal")
	assert.Empty(t, running)
}
