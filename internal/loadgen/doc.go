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
// GroupConsume (kafka-loadgen consume) plays a platform service's consumer
// for the lag tests: it joins a consumer group with the classic protocol,
// consumes a topic from the group's committed offsets (the earliest offset
// where there is none), autocommits every second and commits once more when
// SIGTERM or its duration ends it, so a broker-side lag exporter sees lag 0
// and one member while it runs, and the lag grow with no member once it is
// gone. It prints the group's lag as the brokers report it on a progress
// line, and the committed offsets in its summary.
//
// The arithmetic (Ranges, StallTracker, Tally, Compare) is pure and takes
// explicit times, so it is tested without a broker; Produce, Verify and
// GroupConsume are the thin parts that talk to Kafka. Main is the command line of
// cmd/kafka-loadgen. The package depends on franz-go only, so the command
// builds as a static binary that runs inside a pod.
package loadgen
