// Package loadgen is a load generator that counts exactly, for durability
// tests that break a real Kafka cluster while it writes: a broker SIGKILLed,
// a rolling restart, a controller failover.
//
// A run has two halves. Produce writes records whose value is
// "<run-id>:<seq>", seq 0, 1, 2, … each used once, with an acks=all,
// idempotent franz-go producer that never gives up on a retriable error: a
// broker loss shows up as a stall (StallTracker measures the longest one), not
// as a lost record. It ends with a Summary: how many records were sent,
// acknowledged, failed (with each error's text) and still pending, and the
// acknowledged seqs as Ranges, which stay a handful of pairs however long the
// run. Verify reads the whole topic back, from each partition's start to the
// high watermark it finds when it begins, and Compare tells which
// acknowledged seqs are missing (lost) and which were stored more than once
// (duplicated).
//
// The arithmetic (Ranges, StallTracker, Tally, Compare) is pure and takes
// explicit times, so it is tested without a broker; Produce and Verify are the
// thin parts that talk to Kafka. Main is the command line of
// cmd/kafka-loadgen. The package depends on franz-go only, so the command
// builds as a static binary that runs inside a pod.
package loadgen
