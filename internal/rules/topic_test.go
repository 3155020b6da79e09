package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPartitions(t *testing.T) {
	for n, want := range map[int]string{
		1:                 "",
		MaxPartitions:     "",
		0:                 "p = 0: must be at least 1; set partitions to 1 or more",
		MaxPartitions + 1: "p = 2147483648: exceeds 2147483647, the most partitions Kafka can give a topic (a 32-bit count); lower it; a few partitions per consumer is plenty",
	} {
		assert.Equal(t, want, Partitions("p", n), n)
	}
}

func TestReplicationFactor(t *testing.T) {
	for n, want := range map[int]string{
		1:                        "",
		MaxReplicationFactor:     "",
		0:                        "rf = 0: must be at least 1; set it to 3",
		MaxReplicationFactor + 1: "rf = 32768: exceeds 32767, the largest replication factor Kafka can store (a 16-bit number); set it to 3",
	} {
		assert.Equal(t, want, ReplicationFactor("rf", n, "set it to 3"), n)
	}
}

func TestReplicationFactorAboveBrokers(t *testing.T) {
	assert.Equal(t, "", ReplicationFactorAboveBrokers("rf", 3, 3, "lower it"))
	assert.Equal(t, "", ReplicationFactorAboveBrokers("rf", 3, 0, "lower it"), "a broker count below 1 has its own message")
	assert.Equal(t, "rf = 3: exceeds brokers (1): Kafka cannot place more copies than brokers; lower it",
		ReplicationFactorAboveBrokers("rf", 3, 1, "lower it"))
}
