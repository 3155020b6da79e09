#!/usr/bin/env bash
# scripts/test.sh — the project's whole test run (what CI runs):
#   1. lint tools from Debian (shellcheck, yamllint) when missing;
#   2. go vet, and the unit tests (builders, validation, provider on kfake, program
#      under mocks, scripts);
#   3. the cached external tools (scripts/tools.sh engine; ~20 min cold, seconds warm, built
#      while step 2 runs) and the Debian packages (scripts/packages.sh node docker), then, one package
#      at a time, the tests against real things (the real node tier's own tools and images,
#      scripts/tools.sh node and scripts/images.sh build, build meanwhile):
#        -tags realkafka   real Kafka 4.1.1 nodes on 127.0.0.1 (provider/, tests/realkafka/)
#        -tags monitoring  the JMX exporter, Prometheus and promtool (tests/monitoring/)
#        -tags integration the real Pulumi engine against a real kube-apiserver + kwok,
#                          with real Kafka behind the topics (tests/integration/), and
#                          the engine alone refusing bad config (internal/deploy/)
#        -tags compose     `docker compose up` on the shipped compose file: Debian's dockerd
#                          (scripts/docker.sh), Compose v2, the project's own image (tests/compose/)
#        -tags realnode    the real engine, a real kubelet + containerd node, the project's
#                          own images from a local registry: real broker pods (tests/realnode/)
#      Each test starts and stops what it needs and leaves nothing running.
# UMBRELLA_UNIT_ONLY=1 stops after step 2. UMBRELLA_CI=1 (.ci/run sets it, after
# dropping every other UMBRELLA_* variable and GOFLAGS) fails the run on any
# skipped test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '\n[test] %s\n' "$*"; }

# check_skips LOG: with UMBRELLA_CI=1 (.ci/run sets it), a test that skipped
# fails the run: CI never passes on a tier that did not run.
check_skips() {
  local skipped
  [[ "${UMBRELLA_CI:-}" == 1 ]] || return 0
  # go test -v streams a test's log (the skip's reason) before its --- SKIP line.
  if skipped=$(grep -E -B3 -e '--- SKIP' "$1"); then
    echo "[test] FAILED: tests skipped in CI (a skipped test is a failure here):" >&2
    echo "$skipped" >&2
    return 1
  fi
}

# check_log LOG PACKAGE...: each package reported ok and ran a test; in CI no
# test skipped.
check_log() {
  local full_log="$1" pkg; shift
  for pkg in "$@"; do
    pkg="${pkg#./}"; pkg="${pkg%/}"
    grep -qE "^ok[[:space:]]+github.com/umbrella-platform/umbrella-streaming/${pkg}[[:space:]]" "$full_log" ||
      { echo "[test] FAILED: package $pkg reported no result" >&2; return 1; }
    if grep -qE "^ok[[:space:]]+github.com/umbrella-platform/umbrella-streaming/${pkg}[[:space:]].*no tests to run" "$full_log"; then
      echo "[test] FAILED: package $pkg ran no test" >&2; return 1
    fi
  done
  check_skips "$full_log"
}

# `scripts/test.sh check-log LOG PACKAGE...` runs only the check (tests/scripts_test.go).
if [[ "${1:-}" == check-log ]]; then
  shift
  check_log "$@"
  exit
fi

scripts/packages.sh lint
# Background builds, each in its own process group, stopped if we exit early.
background=()
stop_background() {
  local pg
  for pg in "${background[@]}"; do kill -- "-$pg" 2>/dev/null || true; done
}
trap stop_background EXIT
if [[ "${UMBRELLA_UNIT_ONLY:-}" != 1 ]]; then
  scripts/packages.sh prom node docker
  # The engine tier's tools build while vet and the unit tests run: on a cold machine both
  # spend minutes waiting on module downloads and linking, which the other fills.
  engine_tools_log="${TMPDIR:-/tmp}/umbrella-engine-tools.log"
  log "building the engine tier's tools meanwhile (cached by version; log: $engine_tools_log)"
  setsid scripts/tools.sh engine >"$engine_tools_log" 2>&1 &
  engine_tools=$!
  background+=("$engine_tools")
fi

log "go vet ./... (and every build-tagged test file)"
go vet -tags "integration realkafka monitoring realnode compose" ./... # the tags only add files

log "building the topic provider plugin into ./bin"
go build -o bin/pulumi-resource-umbrellakafka ./cmd/pulumi-resource-umbrellakafka

log "unit tests"
unit_log="${TMPDIR:-/tmp}/umbrella-unit-tests.log"
status=0
go test -count=1 -v ./... >"$unit_log" 2>&1 || status=$?
grep -E '^(--- FAIL|FAIL|ok |panic:)' "$unit_log" || true
if [[ $status -ne 0 ]]; then
  echo "[test] FAILED (exit $status); the end of the full log ($unit_log):" >&2
  tail -150 "$unit_log" >&2
  exit "$status"
fi
check_skips "$unit_log"

if [[ "${UMBRELLA_UNIT_ONLY:-}" == 1 ]]; then
  log "UMBRELLA_UNIT_ONLY=1: skipping the integration tests"
  exit 0
fi

log "waiting for the engine tier's tools"
if ! wait "$engine_tools"; then
  echo "[test] FAILED: building the engine tier's tools; the end of $engine_tools_log:" >&2
  tail -40 "$engine_tools_log" >&2
  exit 1
fi
grep -E '^\[tools\] (built|engine tools ready)' "$engine_tools_log" || true
eval "$(scripts/tools.sh env)"

# The real node tier's and the compose story's own tools (CoreDNS, registry, kube-router, the
# Prometheus Operator, Prometheus, Compose) and the images build, niced, while the engine tier
# runs: that tier waits on JVMs and the engine more than it computes, so they fill its idle
# cores. (Started any earlier, they take cores from the tools above, which the engine tier
# waits for: on a cold machine, 2026-12-06, the engine tier then started 34.5 minutes in,
# against 26.7 when they built here.)
node_prep_log="${TMPDIR:-/tmp}/umbrella-node-prep.log"
log "building the real node tier's tools and images meanwhile (log: $node_prep_log)"
setsid nice -n 10 bash -c 'scripts/tools.sh node && scripts/images.sh build' >"$node_prep_log" 2>&1 &
node_prep=$!
background+=("$node_prep")

log "tests against real Kafka, Prometheus, the engine and the API server (one package at a time)"
# run_slow LOGNAME TAGS PACKAGE...: fails loudly, and fails if a package ran no
# test or reported nothing (check_log).
run_slow() {
  local name="$1" tags="$2"; shift 2
  local full_log="${TMPDIR:-/tmp}/umbrella-$name-tests.log" status=0
  go test -count=1 -p 1 -timeout 60m -tags "$tags" -v "$@" >"$full_log" 2>&1 || status=$?
  grep -E '^(--- (PASS|FAIL|SKIP)|PASS$|FAIL|ok |panic:)|FIGURE' "$full_log" || true
  if [[ $status -ne 0 ]]; then
    echo "[test] FAILED (exit $status); the end of the full log ($full_log):" >&2
    tail -150 "$full_log" >&2
    exit "$status"
  fi
  check_log "$full_log" "$@"
}
run_slow engine "integration realkafka monitoring" ./provider/ ./internal/loadgen/ ./internal/lagexporter/ ./internal/deploy/ ./tests/realkafka/ ./tests/monitoring/ ./tests/integration/

log "waiting for the real node tier's tools and images"
if ! wait "$node_prep"; then
  echo "[test] FAILED: building the real node tier's tools or images; the end of $node_prep_log:" >&2
  tail -40 "$node_prep_log" >&2
  exit 1
fi
trap - EXIT
grep -E '^\[tools\] (built|node tools ready)|^\[images\] .*built' "$node_prep_log" || true

log "docker compose up on a real Docker engine, with the project's own image"
run_slow compose compose ./tests/compose/

log "tests on the real node: real pods from the project's own images"
run_slow realnode realnode ./tests/realnode/
log "all tests passed"
