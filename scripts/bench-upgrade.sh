#!/usr/bin/env bash
# scripts/bench-upgrade.sh — the timings of a Kafka upgrade by stack config (issue 28) on real pods:
# the prod stack on three real nodes (the real node tier, tests/realnode), then only its upgrade
# story: 4.1.1 -> 4.1.2 -> 4.4.0, a roll back to 4.1.2 and up again, then metadata.version raised in
# an up of its own, an acks=all producer throughout. Prints, per step, the up, the roll of three
# brokers, the longest broker restart, how long each broker's stop waited for every partition to be
# in sync, the stretch under min ISR, then the finalise and the longest produce stall. Figures only;
# the test's own checks (nothing lost, one broker away at a time, refusals) still run.
#
# Usage: sudo scripts/bench-upgrade.sh      (~20 min on 2 cores: the cluster, the stack, the story)
# Needs what the real node tier needs (root; scripts/tools.sh engine node; scripts/images.sh build).
# The tables go to stdout and to out/bench-upgrade-<time>.txt; the full log to the test's output.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[[ $(id -u) -eq 0 ]] || { echo "[bench-upgrade] run as root (real nodes: network, mounts, containerd)" >&2; exit 1; }
scripts/tools.sh engine node >&2
eval "$(scripts/tools.sh env)"
mkdir -p out
log="out/bench-upgrade-$(date +%Y%m%d-%H%M%S).log"
report="${log%.log}.txt"
start=$SECONDS
status=0
# After the stack's first up, only the retention and certificate roll (the story starts where it
# leaves the stack: a certificate change in the same update would leave the umbrellakafka
# provider's settings unknown at preview, and an unconfigured provider checks nothing) and the
# upgrade story run.
UMBRELLA_REALNODE_NODES=3 go test -count=1 -p 1 -timeout 45m -tags realnode \
  -run '^TestProdStackOnThreeRealNodes$/^(a_retention_change|Kafka_4)' -v ./tests/realnode/ >"$log" 2>&1 || status=$?
grep -E 'FIGURE (prod up|roll of three|preview|upgrade|roll back|finalise|Kafka|refused|produce-upgrade|verify-upgrade)|FIGURE .*roll watch' "$log" |
  sed -E 's/^ *[a-z_]+\.go:[0-9]+: FIGURE //' | tee "$report"
if ((status)); then
  echo "[bench-upgrade] the story FAILED (exit $status); the end of $log:" >&2
  tail -60 "$log" >&2
  exit "$status"
fi
grep -q -- '--- PASS: TestProdStackOnThreeRealNodes/Kafka_4' "$log" ||
  { echo "[bench-upgrade] the upgrade story did not run (see $log)" >&2; exit 1; }
echo "[bench-upgrade] done in $((SECONDS - start)) s; figures in $report, log in $log" >&2
