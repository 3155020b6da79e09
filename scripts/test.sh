#!/usr/bin/env bash
# scripts/test.sh — the project's whole test run (what CI runs):
#   1. lint tools from Debian (shellcheck, yamllint) when missing;
#   2. go vet, and the unit tests (builders, validation, provider on kfake, program
#      under mocks, scripts);
#   3. the cached external tools (scripts/tools.sh; ~40 min cold, seconds warm) and
#      the integration tests: the real Pulumi engine against a real kube-apiserver
#      (scripts/cluster.sh), started and stopped by the tests themselves.
# UMBRELLA_UNIT_ONLY=1 stops after step 2.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '\n[test] %s\n' "$*"; }

need_apt=()
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
command -v yamllint >/dev/null 2>&1 || need_apt+=(yamllint)
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

log "integration tests: real engine + real kube-apiserver"
go test -count=1 -tags integration -timeout 40m -v ./tests/integration/... 2>&1 | tee "${TMPDIR:-/tmp}/umbrella-integration.log" | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic|\s+\S+_test.go)' || true
status=${PIPESTATUS[0]}
if [[ $status -ne 0 ]]; then
  echo "[test] integration tests FAILED (full log: ${TMPDIR:-/tmp}/umbrella-integration.log)" >&2
  tail -80 "${TMPDIR:-/tmp}/umbrella-integration.log" >&2
  exit "$status"
fi
tail -3 "${TMPDIR:-/tmp}/umbrella-integration.log"
