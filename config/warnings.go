package config

import "fmt"

// Warnings returns the legal but risky settings of a valid spec, one message
// each in the shape of a problem ("field = value: risk; fix"). The program logs
// them as warnings, so every preview shows them; they do not stop a
// deployment. What is refused and what is only warned about, and why, is in
// README.md ("What the preview refuses").
//
// min.insync.replicas equal to a replication factor above 1 is a warning: it
// is a real trade-off (no acknowledged write with fewer than every copy) that
// an operator may choose, but it makes every broker restart, including each
// step of the program's own rolling update, block acks=all writes. With a
// replication factor of 1 there is no replica to lose, so nothing is said.
func Warnings(s *Spec) []string {
	var w problems
	warnBrokerMinISR(&w, s)
	for _, t := range s.Topics {
		warnTopicMinISR(&w, s, t)
	}
	return w.list
}

// minISRFix is the fix for min.insync.replicas = rf: one replica of slack, or
// one more replica.
func minISRFix(rf int, where string) string {
	return fmt.Sprintf("lower min.insync.replicas to %d (%s) so one broker can be down, or raise the replication factor to %d", rf-1, where, rf+1)
}

// warnBrokerMinISR: the cluster-wide min.insync.replicas also governs Kafka's
// internal topics (consumer offsets, transactions), which are created with
// broker.defaultReplicationFactor copies.
func warnBrokerMinISR(w *problems, s *Spec) {
	rf := s.Broker.DefaultReplicationFactor
	if rf > 1 && s.Broker.MinInsyncReplicas == rf {
		w.add("broker.minInsyncReplicas", s.Broker.MinInsyncReplicas,
			fmt.Sprintf("equals broker.defaultReplicationFactor (%d): acks=all writes need every copy in sync, so while any one broker is down "+
				"(a crash, a node drain, each step of a rolling update) consumer offset commits, transactions and writes to topics without their own "+
				"min.insync.replicas fail with NOT_ENOUGH_REPLICAS", rf),
			minISRFix(rf, "broker.minInsyncReplicas"))
	}
}

// warnTopicMinISR: a topic's effective min.insync.replicas is its own config,
// else the broker's.
func warnTopicMinISR(w *problems, s *Spec, t TopicSpec) {
	minISR := topicMinISR(s, t)
	if t.ReplicationFactor > 1 && minISR == t.ReplicationFactor {
		w.add("topics."+t.Name+".replicationFactor", t.ReplicationFactor,
			fmt.Sprintf("equals min.insync.replicas (%d): acks=all writes to %s need every replica in sync, so they fail with NOT_ENOUGH_REPLICAS "+
				"while any one broker is down (a crash, a node drain, each step of a rolling update)", minISR, t.Name),
			minISRFix(t.ReplicationFactor, "topicOverrides."+t.Name+".config or broker.minInsyncReplicas"))
	}
}
