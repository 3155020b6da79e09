#!/usr/bin/env bash
# scripts/bench.sh — the benchmarks of issues 3 and 5 against real local Kafka 4.1.1 clusters
# (internal/bench, cmd/umbrella-bench). Prints figures, asserts nothing.
#
#   1. Topics: N = 50, 200, 500 umbrellakafka Topics (3 partitions, RF 3) through the real Pulumi
#      engine (create up, no-op up, refresh, destroy; create/destroy again with
#      PULUMI_SKIP_CHECKPOINTS=true) next to one batched kadm call per phase, on a 3-node
#      localkafka running the prod stack's spec; plus the engine with a do-nothing provider and
#      the provider with no engine, to show where the time goes; plus (issue 26) the floor the
#      provider can be held to: the engine's do-nothing floor + the same creates and deletes made
#      by a plain kafkaadmin client (CreateTopic + WaitCreated, DeleteTopic + WaitGone: every
#      broker shows it) at the engine's -parallel, with the ratio against the goal of 1.3× and
#      the part of the rest each step costs.
#   2. Throughput: Kafka's ProducerPerformance (acks=all, gzip, 1 KiB records), ConsumerPerformance
#      and EndToEndLatency on the prod spec's brokers, then on a 3-node cluster with Kafka's default
#      broker settings.
#
# Usage:
#   scripts/bench.sh                       both benchmarks (~8-10 min on 2 cores; longer under load)
#   scripts/bench.sh -sizes 50 -records 20000 -e2e-records 200     a quick look
#   scripts/bench.sh -skip-throughput | -skip-topics | -parallel 64 | -work DIR
# The tables (Markdown) go to stdout and to out/bench-<time>.md; progress goes to stderr.
set -euo pipefail

cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

# The Pulumi CLI and the Kafka jars (seconds when already built; see scripts/tools.sh).
scripts/tools.sh pulumi kafka >&2
eval "$(scripts/tools.sh env)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "[bench] building the umbrellakafka plugin (bin/) and the benchmark command" >&2
go build -o bin/pulumi-resource-umbrellakafka ./cmd/pulumi-resource-umbrellakafka
go build -o "$tmp/umbrella-bench" ./cmd/umbrella-bench

mkdir -p out
report="out/bench-$(date +%Y%m%d-%H%M%S).md"
start=$SECONDS
"$tmp/umbrella-bench" -project . -plugin-dir bin "$@" | tee "$report"
echo "[bench] done in $((SECONDS - start)) s; tables saved to $report" >&2
