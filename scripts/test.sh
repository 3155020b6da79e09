#!/usr/bin/env bash
# scripts/test.sh — the project's whole test run (what CI runs):
#   1. lint tools from Debian (shellcheck, yamllint) when missing;
#   2. go vet, and the unit tests (builders, validation, provider on kfake, program
#      under mocks, scripts);
#   3. the Debian packages (scripts/packages.sh prom node docker) and, built from the start
#      while step 2 runs, the cached tools and images (scripts/tools.sh core then engine,
#      scripts/tools.sh node and scripts/images.sh build; ~40 min cold on 2 cores, seconds
#      warm); then two lanes at once,
#      each running its packages one at a time against real things:
#        engine lane: -tags realkafka, monitoring, integration
#        node lane:   -tags compose (as soon as the node tier's tools and images are built: it
#                     needs none of the engine's), then -tags realnode
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
# Background builds, each in its own process group (stopped if we exit early), each
# leaving its exit status in $run_dir/NAME.rc: the lanes below are subshells, which
# cannot `wait` for a process their parent started.
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/umbrella-test.XXXXXX")
background=()
stop_background() {
  local pg
  for pg in "${background[@]}"; do kill -- "-$pg" 2>/dev/null || true; done
  rm -rf "$run_dir"
}
trap stop_background EXIT
# start_build NAME LOG COMMAND...
start_build() {
  local name="$1" build_log="$2"; shift 2
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c '"${@:2}"; echo $? >"$1"' _ "$run_dir/$name.rc" "$@" >"$build_log" 2>&1 &
  background+=("$!")
  eval "${name//-/_}_pid=$!"
}
# await_build NAME LOG: returns once NAME's build ended; fails, with the end of its
# log, if it failed or vanished without a status.
await_build() {
  local name="$1" build_log="$2" pid_var="${1//-/_}_pid" rc
  until [[ -s "$run_dir/$name.rc" ]]; do
    if ! kill -0 "${!pid_var}" 2>/dev/null && [[ ! -s "$run_dir/$name.rc" ]]; then
      rc=gone; break
    fi
    sleep 2
  done
  [[ "${rc:-}" == gone ]] || rc=$(<"$run_dir/$name.rc")
  if [[ "$rc" != 0 ]]; then
    echo "[test] FAILED: building $name (status $rc); the end of $build_log:" >&2
    tail -40 "$build_log" >&2
    { echo "building $name failed (status $rc); the end of $build_log:"; tail -15 "$build_log"; } >"$run_dir/why-$name"
    return 1
  fi
}
# why_failed NAME LOG: a short account of a failed go test run, which the end of the run
# prints again: two lanes interleave, and CI shows only the end of the output.
why_failed() {
  local name="$1" full_log="$2"
  {
    echo "go test ($name) failed; the full log is $full_log. Failed tests:"
    grep -E -B4 '^\s*--- FAIL|^panic:' "$full_log" | cut -c1-400 | head -40
    echo "Their errors:"
    grep -E -A8 '^\s+Error Trace:|^panic:' "$full_log" | cut -c1-400 | head -60
  } >"$run_dir/why-$name"
}
# The Kafka releases the upgrade story rolls to, besides the default one (tests/realnode's
# upgradePath; tests/scripts_test.go keeps the two in step).
UPGRADE_RELEASES="4.1.2 4.4.0"
engine_tools_log="${TMPDIR:-/tmp}/umbrella-engine-tools.log"
engine_late_log="${TMPDIR:-/tmp}/umbrella-engine-tools-late.log"
node_prep_log="${TMPDIR:-/tmp}/umbrella-node-prep.log"
if [[ "${UMBRELLA_UNIT_ONLY:-}" != 1 ]]; then
  scripts/packages.sh prom node docker
  # Every tool and image builds from the start, while vet and the unit tests run: on a cold
  # machine the builds are the first ~34 minutes, and the real node tier needs both sets
  # (the engine's tools include the control plane and kubelet). The tools are cached by
  # version and the images by content, so a warm run passes here in seconds.
  log "building the engine tier's tools meanwhile (log: $engine_tools_log)"
  # The control plane, the Pulumi CLI and the providers first: the real node tier needs those
  # (core-tools); kwok and kube-score, which only tests/integration uses, after them, so their
  # compiling is not in the way of the real node tier's start.
  start_build core-tools "$engine_tools_log" scripts/tools.sh core
  # shellcheck disable=SC2016 # expanded by the inner bash
  start_build engine-tools "$engine_late_log" bash -c 'until [[ -s $0 ]]; do sleep 5; done
    [[ $(<"$0") == 0 ]] || { echo "the core tools failed (see $1)"; exit 1; }
    scripts/tools.sh engine' "$run_dir/core-tools.rc" "$engine_tools_log"
  log "building the real node tier's tools and images meanwhile (log: $node_prep_log)"
  # The images need the Kafka jars and the JMX agent, which the engine's tools include too: the
  # per-tool locks let whichever lane comes first build them while the other waits.
  # The other releases' broker images are the Kafka upgrade story's (tests/realnode upgradePath).
  # shellcheck disable=SC2016 # expanded by the inner bash
  start_build node-prep "$node_prep_log" bash -c 'scripts/tools.sh node && scripts/tools.sh kafka jmx-exporter &&
    scripts/images.sh build && for v in $0; do
      UMBRELLA_KAFKA_VERSION=$v scripts/tools.sh kafka && UMBRELLA_KAFKA_VERSION=$v scripts/images.sh build-kafka || exit
    done' "$UPGRADE_RELEASES"
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

# run_slow LOGNAME TAGS PACKAGE...: fails loudly, and fails if a package ran no
# test or reported nothing (check_log).
run_slow() {
  local name="$1" tags="$2"; shift 2
  local full_log="${TMPDIR:-/tmp}/umbrella-$name-tests.log" status=0
  # -parallel 4: the real node tier runs its read-only checks and its two alert stories side
  # by side (t.Parallel), and they mostly wait; no other slow test is parallel.
  go test -count=1 -p 1 -parallel 4 -timeout 60m -tags "$tags" -v "$@" >"$full_log" 2>&1 || status=$?
  grep -E '^(--- (PASS|FAIL|SKIP)|PASS$|FAIL|ok |panic:)|FIGURE' "$full_log" || true
  if [[ $status -ne 0 ]]; then
    echo "[test] FAILED (exit $status); the end of the full log ($full_log):" >&2
    tail -150 "$full_log" >&2
    why_failed "$name" "$full_log"
    exit "$status"
  fi
  local checked
  if ! checked=$(check_log "$full_log" "$@" 2>&1); then
    echo "$checked" >&2
    echo "$name: $checked" >"$run_dir/why-$name"
    exit 1
  fi
}

# Two lanes at once, each starting when its own builds are done. Both mostly wait (on JVMs
# starting, elections, the engine, pods), and neither shares a port, a directory or a
# network with the other; the compose story and the real node tier share iptables' FORWARD
# chain, so they run one after the other in the same lane.
engine_lane() {
  await_build core-tools "$engine_tools_log"
  grep -E '^\[tools\] (built|core tools ready)' "$engine_tools_log" || true
  eval "$(scripts/tools.sh env)"
  log "tests against real Kafka, Prometheus and the engine (one package at a time)"
  run_slow engine "integration realkafka monitoring" ./provider/ ./internal/loadgen/ ./internal/lagexporter/ ./internal/deploy/ ./tests/realkafka/ ./tests/monitoring/
  await_build engine-tools "$engine_late_log"
  grep -E '^\[tools\] (built|engine tools ready)' "$engine_late_log" || true
  log "the program through the engine against the API server and kwok"
  run_slow integration integration ./tests/integration/
  log "engine lane passed"
}
node_lane() {
  # The compose story needs only the node tier's tools and images: it runs while the engine's
  # tools (the control plane, the kubelet, the Pulumi CLI) are still building.
  await_build node-prep "$node_prep_log"
  grep -E '^\[tools\] (built|node tools ready)|^\[images\] .*built' "$node_prep_log" || true
  eval "$(scripts/tools.sh env)"
  log "docker compose up on a real Docker engine, with the project's own image"
  run_slow compose compose ./tests/compose/
  await_build core-tools "$engine_tools_log"
  log "tests on the real node: real pods from the project's own images"
  run_slow realnode realnode ./tests/realnode/
  log "node lane passed"
}
log "two lanes: the engine tier, and the compose story then the real node tier"
# Each lane's lines carry its name; with pipefail a lane's failure is its pipeline's status, and
# waiting for the pipeline waits for its last line too.
engine_lane 2>&1 | sed -u 's/^/[engine lane] /' &
engine_lane_pid=$!
node_lane 2>&1 | sed -u 's/^/[node lane] /' &
node_lane_pid=$!
engine_status=0 node_status=0
wait "$engine_lane_pid" || engine_status=$?
wait "$node_lane_pid" || node_status=$?
if ((engine_status || node_status)); then
  for why in "$run_dir"/why-*; do
    [[ -e "$why" ]] && { echo; cat "$why"; } >&2
  done
  echo "[test] FAILED: engine lane exit $engine_status, node lane exit $node_status (see above)" >&2
  exit 1
fi
log "all tests passed"
