#!/usr/bin/env bash
# scripts/bench-throughput.sh — produce throughput through the prod stack's client Service on real
# pods (issue 12's benchmark figure): the prod stack on three real nodes (the real node tier,
# tests/realnode), then 1 KiB random records, acks=all, idempotent, unthrottled, for 20 s into a
# topic with the prod settings (RF 3, min ISR 2) and 20 s into one with Kafka's defaults (RF 1),
# in the same run. Figures only: every record must be acknowledged, nothing is timed against a goal.
#
# It writes a few gigabytes as fast as the brokers take them, so it is a benchmark, not a CI story:
# the subtest exists only with UMBRELLA_BENCH_THROUGHPUT=1, which .ci/run never passes.
#
# Usage: sudo scripts/bench-throughput.sh   (~8 min on 2 cores: the cluster, the stack, two runs)
# Needs what the real node tier needs (root; scripts/tools.sh engine node; scripts/images.sh build).
# The figures go to stdout and to out/bench-throughput-<time>.txt; the full log beside them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[[ $(id -u) -eq 0 ]] || { echo "[bench-throughput] run as root (real nodes: network, mounts, containerd)" >&2; exit 1; }
scripts/tools.sh engine node >&2
eval "$(scripts/tools.sh env)"
mkdir -p out
log="out/bench-throughput-$(date +%Y%m%d-%H%M%S).log"
report="${log%.log}.txt"
start=$SECONDS
status=0
UMBRELLA_BENCH_THROUGHPUT=1 UMBRELLA_REALNODE_NODES=3 go test -count=1 -p 1 -timeout 30m -tags realnode \
  -run '^TestProdStackOnThreeRealNodes$/^produce_throughput' -v ./tests/realnode/ >"$log" 2>&1 || status=$?
grep -E 'FIGURE (prod up|throughput)' "$log" | sed -E 's/^ *[a-z_]+\.go:[0-9]+: FIGURE //' | tee "$report"
if ((status)); then
  echo "[bench-throughput] FAILED (exit $status); the end of $log:" >&2
  tail -60 "$log" >&2
  exit "$status"
fi
grep -q -- '--- PASS: TestProdStackOnThreeRealNodes/produce_throughput' "$log" ||
  { echo "[bench-throughput] the throughput subtest did not run (see $log)" >&2; exit 1; }
echo "[bench-throughput] done in $((SECONDS - start)) s; figures in $report, log in $log" >&2
