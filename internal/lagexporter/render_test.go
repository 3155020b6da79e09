package lagexporter

import (
	"bytes"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The whole exposition, byte for byte: families in a fixed order with HELP
// and TYPE, series sorted by group then topic whatever the input order, label
// values escaped (backslash, quote, newline), Empty group at 0 members.
func TestRenderExposition(t *testing.T) {
	s := Snapshot{Up: true, Took: 1250 * time.Millisecond, Groups: []GroupLag{
		{Group: "orders", State: "Stable", Members: 2, Topics: []TopicLag{{"orders.v1", 7}, {"audit", 0}}},
		{Group: `we"ird\group` + "\nx", State: "Empty", Members: 0, Topics: []TopicLag{{"t", 12}}},
		{Group: "billing", State: "Empty", Members: 0},
	}}
	var b bytes.Buffer
	require.NoError(t, Render(&b, s))
	assert.Equal(t, `# HELP umbrella_consumergroup_lag Records the consumer group has not committed yet, per topic: the sum over the topic's partitions of max(0, end offset - committed offset), read from the brokers (a partition never committed counts from its log start offset).
# TYPE umbrella_consumergroup_lag gauge
umbrella_consumergroup_lag{group="orders",topic="audit"} 0
umbrella_consumergroup_lag{group="orders",topic="orders.v1"} 7
umbrella_consumergroup_lag{group="we\"ird\\group\nx",topic="t"} 12
# HELP umbrella_consumergroup_members Members of the consumer group; 0 when the group is Empty or Dead.
# TYPE umbrella_consumergroup_members gauge
umbrella_consumergroup_members{group="billing"} 0
umbrella_consumergroup_members{group="orders"} 2
umbrella_consumergroup_members{group="we\"ird\\group\nx"} 0
# HELP umbrella_lag_exporter_up Whether the last collection read every group and topic (1) or not (0).
# TYPE umbrella_lag_exporter_up gauge
umbrella_lag_exporter_up 1
# HELP umbrella_lag_exporter_collect_seconds How long the last collection took, in seconds.
# TYPE umbrella_lag_exporter_collect_seconds gauge
umbrella_lag_exporter_collect_seconds 1.25
`, b.String())
	assert.Equal(t, "orders.v1", s.Groups[0].Topics[0].Topic, "Render sorts a copy, not the caller's slices")

	var again bytes.Buffer
	require.NoError(t, Render(&again, s))
	assert.Equal(t, b.String(), again.String(), "deterministic")
}

// With no groups (a failed collection), every family keeps its HELP and TYPE
// and only up and the duration have a sample.
func TestRenderDown(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Render(&b, Snapshot{Took: 3 * time.Millisecond}))
	assert.Equal(t, `# HELP umbrella_consumergroup_lag Records the consumer group has not committed yet, per topic: the sum over the topic's partitions of max(0, end offset - committed offset), read from the brokers (a partition never committed counts from its log start offset).
# TYPE umbrella_consumergroup_lag gauge
# HELP umbrella_consumergroup_members Members of the consumer group; 0 when the group is Empty or Dead.
# TYPE umbrella_consumergroup_members gauge
# HELP umbrella_lag_exporter_up Whether the last collection read every group and topic (1) or not (0).
# TYPE umbrella_lag_exporter_up gauge
umbrella_lag_exporter_up 0
# HELP umbrella_lag_exporter_collect_seconds How long the last collection took, in seconds.
# TYPE umbrella_lag_exporter_collect_seconds gauge
umbrella_lag_exporter_collect_seconds 0.003
`, b.String())
}

// Prometheus's own parser and linter (promtool check metrics) accept the
// exposition, escapes included. Skipped where promtool is not installed.
func TestRenderPassesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not on PATH")
	}
	var b bytes.Buffer
	require.NoError(t, Render(&b, Snapshot{Up: true, Took: time.Second, Groups: []GroupLag{
		{Group: `a"b\c` + "\n", Members: 1, Topics: []TopicLag{{"t1", 3}, {"t0", 0}}},
		{Group: "z", State: "Dead"},
	}}))
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &b
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool check metrics: %s", out)
	assert.Empty(t, string(out), "no lint findings")
}
