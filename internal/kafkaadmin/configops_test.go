package kafkaadmin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/twmb/franz-go/pkg/kadm"
)

// TestConfigOps guards the stale-key fix: the operations come from the
// previous state and every broker's view, so a broker that has not applied an
// earlier write yet cannot hide a key from the DELETE or a value from the SET.
// Keys only Kafka has are left alone, and values compare by meaning.
func TestConfigOps(t *testing.T) {
	set := func(k, v string) kadm.AlterConfig {
		return kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)}
	}
	del := func(k string) kadm.AlterConfig { return kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k} }
	tests := []struct {
		name    string
		old     map[string]string
		desired map[string]string
		seen    []map[string]string
		want    []kadm.AlterConfig
	}{
		{name: "nothing set, nothing desired", seen: []map[string]string{{}, {}}},
		{
			name:    "every broker already shows desired",
			old:     map[string]string{"retention.ms": "1000"},
			desired: map[string]string{"retention.ms": "1000"},
			seen:    []map[string]string{{"retention.ms": "1000"}, {"retention.ms": "1000"}},
		},
		{
			name:    "add, change and remove, sorted by key",
			old:     map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"},
			desired: map[string]string{"retention.ms": "2000", "segment.ms": "60000"},
			seen:    []map[string]string{{"retention.ms": "1000", "cleanup.policy": "compact"}},
			want:    []kadm.AlterConfig{del("cleanup.policy"), set("retention.ms", "2000"), set("segment.ms", "60000")},
		},
		{
			name:    "a lagging broker still shows the old value",
			old:     map[string]string{"retention.ms": "1000"},
			desired: map[string]string{"retention.ms": "2000"},
			seen:    []map[string]string{{"retention.ms": "2000"}, {"retention.ms": "1000"}},
			want:    []kadm.AlterConfig{set("retention.ms", "2000")},
		},
		{
			// Item 2 of issue 14: a key neither the state nor the inputs has was set
			// outside Pulumi (an operator's retention, a reassignment throttle); the
			// preview cannot show it, so the update leaves it alone.
			name:    "keys set outside Pulumi are left alone",
			desired: map[string]string{"retention.ms": "2000"},
			seen: []map[string]string{{"retention.ms": "2000"}, {"retention.ms": "2000", "segment.ms": "60000",
				"leader.replication.throttled.replicas": "0:1"}},
		},
		{
			// Item 1 of issue 14: Kafka shows values in its canonical form; a value
			// that means the same is no change.
			name: "values Kafka shows in its canonical form are no change",
			old:  map[string]string{"cleanup.policy": "compact, delete"},
			desired: map[string]string{"cleanup.policy": "compact, delete", "preallocate": "TRUE",
				"retention.ms": " +0604800000 ", "min.cleanable.dirty.ratio": ".50", "compression.type": " lz4 "},
			seen: []map[string]string{{"cleanup.policy": "compact,delete", "preallocate": "true",
				"retention.ms": "604800000", "min.cleanable.dirty.ratio": "0.5", "compression.type": "lz4"}},
		},
		{
			name:    "a list in another order or a different number is a change",
			desired: map[string]string{"cleanup.policy": "delete,compact", "retention.ms": "604800001"},
			seen:    []map[string]string{{"cleanup.policy": "compact,delete", "retention.ms": "604800000"}},
			want:    []kadm.AlterConfig{set("cleanup.policy", "delete,compact"), set("retention.ms", "604800001")},
		},
		{
			name: "a key in the previous state that no broker shows yet is deleted",
			old:  map[string]string{"max.message.bytes": "2097152"},
			seen: []map[string]string{{}},
			want: []kadm.AlterConfig{del("max.message.bytes")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, configOps(tt.old, tt.desired, tt.seen))
		})
	}
}
