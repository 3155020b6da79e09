#!/usr/bin/env bash
# scripts/docker.sh — a Docker engine of the project's own, for `docker compose up` on the
# plan's local broker (infrastructure/kafka/docker-compose.yml): Debian's dockerd
# (scripts/packages.sh docker) with the Compose v2 CLI plugin (scripts/tools.sh compose).
#
# Usage:
#   scripts/docker.sh start    start dockerd with its own roots, socket and containerd, and load
#                              the project's kafka and kafka-loadgen images into it
#   scripts/docker.sh env      print export lines: DOCKER_HOST, DOCKER_CONFIG (where the
#                              compose plugin is) and KAFKA_IMAGE (the compose file's image)
#   scripts/docker.sh stop     remove every container and network, stop dockerd, then remove
#                              what it leaves (bridges, iptables chains and jumps, mounts) and
#                              put the FORWARD policy back as start found it
#   scripts/docker.sh status   print whether it runs
#
#   eval "$(scripts/docker.sh env)"
#   docker compose -f infrastructure/kafka/docker-compose.yml up -d
#
# This machine's rules, in the daemon's configuration:
#   - no default bridge (docker0): compose makes its own networks, from 198.19.100.0/22 (/24
#     each), inside 198.18.0.0/15 and apart from the real node tier's 198.18.0.0/16 (pods),
#     198.19.0.0/24 (nodes) and 198.19.128.0/20 (services); never Docker's 172.17/16;
#   - no masquerading (ip-masq false), and DOCKER-USER drops anything from a container to an
#     address outside 198.18.0.0/15: nothing is routed off the machine;
#   - published ports bind 127.0.0.1 ("19092:19092" is 127.0.0.1:19092);
#   - containers resolve each other by the engine's embedded DNS; anything else goes to
#     127.0.0.1:53, where nothing answers, never to the host's resolver;
#   - pulls go through a proxy address on 127.0.0.1 where nothing listens, so an image that is
#     not loaded fails at once instead of reaching a public registry.
# State under $UMBRELLA_DOCKER_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/umbrella-streaming/docker);
# the socket and runtime state under /run/umbrella-docker. Run as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STATE="${UMBRELLA_DOCKER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/umbrella-streaming/docker}"
RUN=/run/umbrella-docker
SOCK="$RUN/docker.sock"
PIDFILE="$RUN/dockerd.pid"
POOL=198.19.100.0/22 # cleanup_host's bridge match spells out the same range
# Our images, by the names of scripts/images.sh, tagged under "localhost/" so that no pull
# of them can ever leave the machine.
IMAGES=(kafka kafka-loadgen)
REGISTRY_PREFIX=localhost

log() { printf '[docker] %s\n' "$*" >&2; }
die() { printf '[docker] ERROR: %s\n' "$*" >&2; exit 1; }

docker_() { DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$STATE/config" docker "$@"; }

running() { [[ -S "$SOCK" && -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

daemon_json() {
  cat <<EOF
{
  "bridge": "none",
  "default-address-pools": [{"base": "$POOL", "size": 24}],
  "ip-masq": false,
  "ip": "127.0.0.1",
  "dns": ["127.0.0.1"],
  "storage-driver": "overlay2",
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "2"},
  "features": {"buildkit": false}
}
EOF
}

# The compose plugin where the docker CLI looks for it.
link_compose() {
  local compose
  compose=$(scripts/tools.sh path compose) || die "the Compose plugin is not built: run scripts/tools.sh compose"
  mkdir -p "$STATE/config/cli-plugins"
  ln -sfn "$compose" "$STATE/config/cli-plugins/docker-compose"
}

start() {
  [[ $(id -u) -eq 0 ]] || die "run as root (dockerd)"
  command -v dockerd >/dev/null || die "dockerd is missing: run scripts/packages.sh docker"
  stack_kafka_version
  link_compose
  if running; then
    log "dockerd already runs (pid $(cat "$PIDFILE"), $SOCK)"
  else
    start_daemon
  fi
  load_images
  docker_ compose version >&2
}

start_daemon() {
  mkdir -p "$STATE/data" "$RUN"
  daemon_json >"$STATE/daemon.json"
  # dockerd sets FORWARD to DROP; stop puts back what was there before.
  [[ -f "$STATE/forward-policy" ]] || iptables -S FORWARD | awk '$1 == "-P" {print $3}' >"$STATE/forward-policy"
  # ... and turns IPv4 forwarding on, which stop turns back off if it was.
  [[ -f "$STATE/ip-forward" ]] || cat /proc/sys/net/ipv4/ip_forward >"$STATE/ip-forward"
  guard_forwarding
  log "starting dockerd $(dockerd --version | awk '{print $3}' | tr -d ,) (log: $STATE/dockerd.log)"
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=localhost,127.0.0.1 \
    setsid dockerd --config-file "$STATE/daemon.json" --data-root "$STATE/data" --exec-root "$RUN/exec" \
    --pidfile "$PIDFILE" -H "unix://$SOCK" >"$STATE/dockerd.log" 2>&1 </dev/null &
  local start=$SECONDS
  until docker_ version >/dev/null 2>&1; do
    if ! kill -0 $! 2>/dev/null; then tail -20 "$STATE/dockerd.log" >&2; die "dockerd exited"; fi
    (( SECONDS - start > 60 )) && { tail -20 "$STATE/dockerd.log" >&2; die "dockerd did not answer on $SOCK in 60 s"; }
    sleep 0.5
  done
  log "dockerd ready in $((SECONDS - start)) s: $(docker_ version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}}), client {{.Client.Version}}')"
}

# Nothing from a container leaves 198.18.0.0/15. DOCKER-USER is the chain dockerd jumps to from
# FORWARD before its own accepts; it makes the chain (keeping what is in it) and the jump with its
# first network, so ours is in place before any network exists. stop deletes it with the others.
guard_forwarding() {
  iptables -N DOCKER-USER 2>/dev/null || true
  iptables -C DOCKER-USER -s "$POOL" ! -d 198.18.0.0/15 -j DROP 2>/dev/null ||
    iptables -I DOCKER-USER -s "$POOL" ! -d 198.18.0.0/15 -j DROP
}

# Load our images, unless the engine holds the same build already (the manifest digest in
# scripts/images.sh's layout, recorded at load).
load_images() {
  local name ref tag digest archive="$STATE/archives" t
  for name in "${IMAGES[@]}"; do
    ref=$(scripts/images.sh ref "$name" "$REGISTRY_PREFIX")
    tag=$(scripts/images.sh tag "$name")
    digest=$(skopeo inspect --raw "oci:$(scripts/images.sh layout):$tag" 2>/dev/null | sha256sum | cut -d' ' -f1) ||
      die "image $name is not built: run scripts/images.sh build"
    if docker_ image inspect "$ref" >/dev/null 2>&1 && [[ "$(cat "$STATE/loaded-$name" 2>/dev/null)" == "$digest" ]]; then
      log "$ref: loaded already"
      continue
    fi
    t=$SECONDS
    scripts/images.sh archive "$archive" "$REGISTRY_PREFIX" "$name" >&2
    docker_ load -q -i "$archive/$tag.tar" >&2
    rm -f "$archive/$tag.tar"
    echo "$digest" >"$STATE/loaded-$name"
    log "$ref: loaded in $((SECONDS - t)) s"
  done
}

# The compose story runs the dev stack's Kafka release (kafka.version in Pulumi.dev.yaml), as
# scripts/dev.sh does, unless UMBRELLA_KAFKA_VERSION names one.
stack_kafka_version() {
  if [[ -z "${UMBRELLA_KAFKA_VERSION:-}" ]]; then
    UMBRELLA_KAFKA_VERSION=$(go run ./cmd/umbrella -stack dev kafka-version) || die "reading kafka.version of the dev stack"
    export UMBRELLA_KAFKA_VERSION
  fi
}

env_lines() {
  stack_kafka_version
  printf 'export DOCKER_HOST=%q\n' "unix://$SOCK"
  printf 'export DOCKER_CONFIG=%q\n' "$STATE/config"
  printf 'export KAFKA_IMAGE=%q\n' "$(scripts/images.sh ref kafka "$REGISTRY_PREFIX")"
  printf 'export UMBRELLA_LOADGEN_IMAGE=%q\n' "$(scripts/images.sh ref kafka-loadgen "$REGISTRY_PREFIX")"
}

stop() {
  [[ $(id -u) -eq 0 ]] || die "run as root (dockerd)"
  if running; then
    local pid ids
    pid=$(cat "$PIDFILE")
    mapfile -t ids < <(docker_ ps -aq)
    ((${#ids[@]} == 0)) || { log "removing containers: ${ids[*]}"; docker_ rm -f -v "${ids[@]}" >/dev/null; }
    docker_ network prune -f >/dev/null
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    local start=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
      (( SECONDS - start > 30 )) && { log "dockerd still runs after 30 s: killing its process group"; kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"; }
      sleep 0.5
    done
  fi
  cleanup_host
  log "stopped; bridges, iptables chains and mounts removed, FORWARD policy $(iptables -S FORWARD | awk '$1 == "-P" {print $3}')"
}

# What dockerd leaves behind when it stops (measured here, ../shared/FACTS.md): its chains and
# the jumps to them, bridges of its networks, mounts under its roots, and FORWARD set to DROP.
cleanup_host() {
  local table rule chain link
  # Whatever fails below, the FORWARD policy goes back first: the real node tier's pods need it.
  iptables -P FORWARD "$(cat "$STATE/forward-policy" 2>/dev/null || echo ACCEPT)"
  for table in filter nat; do
    # Jumps from the built-in chains into DOCKER*, and the per-bridge rules naming br-*.
    iptables -t "$table" -S | { grep -E '^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*(-j DOCKER|br-[0-9a-f]{12})' || true; } |
      while read -r rule; do
        # shellcheck disable=SC2086 # the rule's own words
        iptables -t "$table" ${rule/-A/-D}
      done
    for chain in DOCKER DOCKER-USER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2; do
      iptables -t "$table" -S "$chain" >/dev/null 2>&1 || continue
      iptables -t "$table" -F "$chain"
      iptables -t "$table" -X "$chain"
    done
  done
  # Bridges of compose networks that survived (a killed daemon): named br-<id>, addressed in our pool.
  for link in $(ip -o -4 addr show | awk '$2 ~ /^br-[0-9a-f]{12}$/ { split($4, a, "[./]"); if (a[1] == 198 && a[2] == 19 && a[3] >= 100 && a[3] <= 103) print $2 }' | sort -u); do
    ip link delete "$link"
  done
  # Mounts under our roots (container root filesystems, network namespaces), deepest first.
  findmnt -rn -o TARGET | { grep -E "^($STATE/data|$RUN)(/|$)" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
  [[ ! -f "$STATE/ip-forward" ]] || cat "$STATE/ip-forward" >/proc/sys/net/ipv4/ip_forward
  rm -f "$STATE/forward-policy" "$STATE/ip-forward" "$SOCK" "$PIDFILE"
}

main() {
  case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) env_lines ;;
    status)
      if running; then echo "dockerd runs (pid $(cat "$PIDFILE"), $SOCK)"; else echo "dockerd is not running"; exit 1; fi
      ;;
    -h|--help|help|"")
      sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      [[ -n "${1:-}" ]] || exit 2
      ;;
    *) die "unknown command '$1' (start, stop, env, status)" ;;
  esac
}

main "$@"
