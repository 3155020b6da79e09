package rules

import "fmt"

// Partitions returns the message for field holding a topic's partition count
// n when it is below 1 or above MaxPartitions (a count Kafka carries as a
// 32-bit number), or "" when n is within both.
func Partitions(field string, n int) string {
	switch {
	case n < 1:
		return Message(field, n, "must be at least 1", "set partitions to 1 or more")
	case n > MaxPartitions:
		return Message(field, n, fmt.Sprintf("exceeds %d, the most partitions Kafka can give a topic (a 32-bit count)", MaxPartitions),
			"lower it; a few partitions per consumer is plenty")
	}
	return ""
}

// ReplicationFactor returns the message for field holding a replication
// factor n when it is below 1 or above MaxReplicationFactor (a factor Kafka
// stores as a 16-bit number), ending with fix, or "" when n is within both.
// Whether the cluster has n brokers is ReplicationFactorAboveBrokers' rule.
func ReplicationFactor(field string, n int, fix string) string {
	switch {
	case n < 1:
		return Message(field, n, "must be at least 1", fix)
	case n > MaxReplicationFactor:
		return Message(field, n, fmt.Sprintf("exceeds %d, the largest replication factor Kafka can store (a 16-bit number)", MaxReplicationFactor), fix)
	}
	return ""
}

// ReplicationFactorAboveBrokers returns the message for field holding a
// replication factor rf above the brokers of a cluster, ending with fix, or ""
// when rf fits or brokers is below 1 (a broker count that is itself wrong
// has its own message).
func ReplicationFactorAboveBrokers(field string, rf, brokers int, fix string) string {
	if brokers < 1 || rf <= brokers {
		return ""
	}
	return Message(field, rf, fmt.Sprintf("exceeds brokers (%d): Kafka cannot place more copies than brokers", brokers), fix)
}

// TopicReplicasAboveBrokers is the message the Kafka layer (the planner and
// the provider's Topic) gives a replication factor rf above the brokers the
// cluster has, the brokers it counted being the limit: Kafka places at most
// one copy of a partition per broker.
func TopicReplicasAboveBrokers(rf, brokers int) string {
	return fmt.Sprintf("replicationFactor = %d exceeds brokers (%d): lower replicationFactor or add brokers", rf, brokers)
}
