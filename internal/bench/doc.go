// Package bench measures, against a real local Kafka 4.1.1 cluster
// (localkafka), the two figures issues 3 and 5 asked for. It prints figures
// and asserts nothing: the numbers depend on the machine and on whatever else
// runs on it, so every table carries the load average it was taken under.
//
// Topics (issue 3) sets the umbrellakafka provider driven by the real Pulumi
// engine against the raw floor, one batched kadm call per phase for the same
// N topics, and splits the engine's figure into its two parts by measuring,
// in the same run, the engine with a provider that does nothing (noop.go)
// and the provider with no engine (its gRPC surface called in-process with
// the engine's default parallelism).
//
// Throughput (issue 5) runs Kafka's own ProducerPerformance,
// ConsumerPerformance and EndToEndLatency tools against a cluster, so the
// prod stack's broker configuration can be set against Kafka's defaults on
// the same three nodes.
//
// Nothing here runs under `go test ./...`: the package has no tests, and the
// benchmarks run from the command in cmd/umbrella-bench
// (scripts/bench.sh).
package bench
