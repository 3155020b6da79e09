package topicconfig

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTableIsSortedAndUnique(t *testing.T) {
	names := Names()
	assert.True(t, sort.StringsAreSorted(names), "Lookup searches the table by name")
	seen := map[string]bool{}
	for _, n := range names {
		assert.False(t, seen[n], "%s twice", n)
		seen[n] = true
		d, ok := Lookup(n)
		require.True(t, ok, n)
		assert.Equal(t, n, d.Name)
	}
	assert.Len(t, names, 33, "Kafka 4.1.1's LogConfig has 33 public topic configs")
	_, ok := Lookup("message.format.version")
	assert.False(t, ok, "removed in Kafka 4.0")
	_, ok = Lookup("internal.segment.bytes")
	assert.False(t, ok, "test-only internal config")
}

// Each verdict is what Kafka 4.1.1's LogConfig.validate said for the same value
// (run against the jars while writing the table); the messages are ours.
func TestCheckAgreesWithKafkasValidators(t *testing.T) {
	for _, c := range []struct {
		name, value, problem, fix string
	}{
		{"cleanup.policy", "", "", ""},
		{"cleanup.policy", "delete,delete", "", ""},
		{"cleanup.policy", " compact , delete ", "", ""},
		{"cleanup.policy", "Delete", `has the item "Delete", which Kafka does not accept in cleanup.policy (allowed items, case-sensitive: compact, delete)`, "use a comma-separated list of compact, delete"},
		{"cleanup.policy", "compact,", `has the item "", which Kafka does not accept in cleanup.policy (allowed items, case-sensitive: compact, delete)`, "use a comma-separated list of compact, delete"},
		{"compression.type", " gzip ", "", ""},
		{"compression.type", "GZIP", "is not a value Kafka accepts for compression.type (allowed, case-sensitive: uncompressed, zstd, lz4, snappy, gzip, producer)", "write it gzip"},
		{"compression.type", "none", "is not a value Kafka accepts for compression.type (allowed, case-sensitive: uncompressed, zstd, lz4, snappy, gzip, producer)", "use one of the allowed values"},
		{"message.timestamp.type", "LogAppendTime", "", ""},
		{"message.timestamp.type", "createtime", "is not a value Kafka accepts for message.timestamp.type (allowed, case-sensitive: CreateTime, LogAppendTime)", "write it CreateTime"},
		{"preallocate", "TRUE", "", ""},
		{"preallocate", " true ", "", ""},
		{"preallocate", "yes", "is not true or false (Kafka's preallocate is a boolean)", "use true or false"},
		{"preallocate", "1", "is not true or false (Kafka's preallocate is a boolean)", "use true or false"},
		{"retention.ms", "+5", "", ""},
		{"retention.ms", " 5 ", "", ""},
		{"retention.ms", "-1", "", ""},
		{"retention.ms", "-2", "is out of range (Kafka's retention.ms is a long (64-bit) of at least -1)", "use a whole number of at least -1"},
		{"retention.ms", "1e3", "is not a whole number (Kafka's retention.ms is a long (64-bit) of at least -1)", "use a whole number of at least -1"},
		{"retention.ms", "7d", "is not a whole number (Kafka's retention.ms is a long (64-bit) of at least -1)", "use a whole number of at least -1"},
		{"retention.ms", "9223372036854775808", "does not fit in 64 bits (Kafka's retention.ms is a long (64-bit) of at least -1)", "use a whole number of at least -1"},
		{"retention.bytes", "-5", "", ""},
		{"segment.bytes", "1048576", "", ""},
		{"segment.bytes", "1048575", "is out of range (Kafka's segment.bytes is an int (32-bit) from 1048576 to 2147483647)", "use a whole number from 1048576 to 2147483647"},
		{"segment.bytes", "2147483647", "", ""},
		{"segment.bytes", "2147483648", "is out of range (Kafka's segment.bytes is an int (32-bit) from 1048576 to 2147483647)", "use a whole number from 1048576 to 2147483647"},
		{"min.cleanable.dirty.ratio", "1e-1", "", ""},
		{"min.cleanable.dirty.ratio", "1", "", ""},
		{"min.cleanable.dirty.ratio", "1.01", "is out of range (Kafka's min.cleanable.dirty.ratio is a decimal from 0 to 1)", "use a decimal number from 0 to 1"},
		{"min.cleanable.dirty.ratio", "NaN", "is not a decimal number (Kafka's min.cleanable.dirty.ratio is a decimal from 0 to 1)", "use a decimal number from 0 to 1, e.g. 0.5"}, // Kafka takes NaN; we do not
		{"compression.gzip.level", "-1", "", ""},
		{"compression.gzip.level", "9", "", ""},
		{"compression.gzip.level", "0", "is out of range (Kafka's compression.gzip.level is an int (32-bit) from 1 to 9, or -1)", "use a whole number from 1 to 9, or -1"},
		{"compression.gzip.level", "10", "is out of range (Kafka's compression.gzip.level is an int (32-bit) from 1 to 9, or -1)", "use a whole number from 1 to 9, or -1"},
		{"compression.zstd.level", "-131072", "", ""},
		{"compression.zstd.level", "23", "is out of range (Kafka's compression.zstd.level is an int (32-bit) from -131072 to 22)", "use a whole number from -131072 to 22"},
		{"local.retention.ms", "-2", "", ""},
		{"local.retention.ms", "-3", "is out of range (Kafka's local.retention.ms is a long (64-bit) of at least -2)", "use a whole number of at least -2"},
		{"min.insync.replicas", "0", "is out of range (Kafka's min.insync.replicas is an int (32-bit) from 1 to 2147483647)", "use a whole number from 1 to 2147483647"},
		{"min.insync.replicas", "two", "is not a whole number (Kafka's min.insync.replicas is an int (32-bit) from 1 to 2147483647)", "use a whole number from 1 to 2147483647"},
		{"max.message.bytes", "0", "", ""},
		{"follower.replication.throttled.replicas", "*", "", ""},
		{"follower.replication.throttled.replicas", "", "", ""},
		{"follower.replication.throttled.replicas", "0:1, 1:2", "", ""},
		{"follower.replication.throttled.replicas", "x", "is not '*' or a list of partition:broker pairs (Kafka's follower.replication.throttled.replicas)", "write it like 0:101,1:102, or * for every replica"},
		{"leader.replication.throttled.replicas", "*,0:1", "is not '*' or a list of partition:broker pairs (Kafka's leader.replication.throttled.replicas)", "write it like 0:101,1:102, or * for every replica"},
		{"leader.replication.throttled.replicas", "-1:2", "is not '*' or a list of partition:broker pairs (Kafka's leader.replication.throttled.replicas)", "write it like 0:101,1:102, or * for every replica"},
		{"leader.replication.throttled.replicas", "0 : 1", "is not '*' or a list of partition:broker pairs (Kafka's leader.replication.throttled.replicas)", "write it like 0:101,1:102, or * for every replica"},
	} {
		d, ok := Lookup(c.name)
		require.True(t, ok, c.name)
		problem, fix := d.Check(c.value)
		assert.Equal(t, c.problem, problem, "%s=%q", c.name, c.value)
		assert.Equal(t, c.fix, fix, "%s=%q", c.name, c.value)
	}
}
