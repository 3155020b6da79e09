package provider

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/twmb/franz-go/pkg/kadm"
)

// TestConfigOps guards the stale-key fix: the operations come from the
// previous state and every broker's view, so a broker that has not applied an
// earlier write yet cannot hide a key from the DELETE or a value from the SET.
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
			name:    "a key only one broker shows is deleted",
			desired: map[string]string{"retention.ms": "2000"},
			seen:    []map[string]string{{"retention.ms": "2000"}, {"retention.ms": "2000", "segment.ms": "60000"}},
			want:    []kadm.AlterConfig{del("segment.ms")},
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
