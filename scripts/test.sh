#!/usr/bin/env bash
# scripts/test.sh — the project's whole test run (what CI runs):
#   1. lint tools from Debian (shellcheck, yamllint) when missing;
#   2. go vet, and the unit tests (builders, validation, provider on kfake, program
#      under mocks, scripts);
#   3. the cached external tools (scripts/tools.sh; ~40-55 min cold, seconds warm),
#      then, one package at a time, the tests against real things:
#        -tags realkafka   real Kafka 4.1.1 nodes on 127.0.0.1 (provider/, tests/realkafka/)
#        -tags monitoring  the JMX exporter, Prometheus and promtool (tests/monitoring/)
#        -tags integration the real Pulumi engine against a real kube-apiserver + kwok,
#                          with real Kafka behind the topics (tests/integration/)
#      Each test starts and stops what it needs and leaves nothing running.
# UMBRELLA_UNIT_ONLY=1 stops after step 2.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '\n[test] %s\n' "$*"; }

need_apt=()
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
command -v yamllint >/dev/null 2>&1 || need_apt+=(yamllint)
if [[ "${UMBRELLA_UNIT_ONLY:-}" != 1 ]]; then
  command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
fi
if ((${#need_apt[@]})); then
  log "installing ${need_apt[*]} from Debian"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
fi

log "go vet ./..."
go vet ./...

log "building the topic provider plugin into ./bin"
go build -o bin/pulumi-resource-umbrellakafka ./cmd/pulumi-resource-umbrellakafka

log "unit tests"
go test -count=1 ./...

if [[ "${UMBRELLA_UNIT_ONLY:-}" == 1 ]]; then
  log "UMBRELLA_UNIT_ONLY=1: skipping the integration tests"
  exit 0
fi

log "external tools (cached by version; a cold build prints progress)"
scripts/tools.sh all
eval "$(scripts/tools.sh env)"

log "tests against real Kafka, Prometheus, the engine and the API server (one package at a time)"
full_log="${TMPDIR:-/tmp}/umbrella-slow-tests.log"
set +e
go test -count=1 -p 1 -timeout 60m -tags "integration realkafka monitoring" -v \
  ./provider/ ./tests/realkafka/ ./tests/monitoring/ ./tests/integration/ >"$full_log" 2>&1
status=$?
set -e
grep -E '^(--- (PASS|FAIL|SKIP)|PASS$|FAIL|ok |panic:)' "$full_log" || true
if [[ $status -ne 0 ]]; then
  echo "[test] FAILED (exit $status); the end of the full log ($full_log):" >&2
  tail -120 "$full_log" >&2
  exit "$status"
fi
log "all tests passed"
