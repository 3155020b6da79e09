#!/usr/bin/env bash
# scripts/images.sh — build, cache and push the project's container images without a Docker
# daemon (umoci, buildah, skopeo, mmdebstrap; run as root):
#
#   umbrella/pause:PAUSE_VERSION         our pod sandbox image: cmd/pause, static, user 65535
#   umbrella/kafka-base:KAFKA_VERSION    Debian bookworm + OpenJDK 17 JRE + the Kafka jars
#                                        (scripts/tools.sh kafka) + infrastructure/kafka/base/
#   umbrella/kafka:KAFKA_IMAGE_TAG       infrastructure/kafka/Dockerfile built on that base
#   umbrella/kafka-loadgen:LOADGEN_VERSION  cmd/kafka-loadgen, static (durability tests)
#   umbrella/prometheus:PROMETHEUS_VERSION, umbrella/prometheus-operator:PROM_OPERATOR_VERSION,
#   umbrella/prometheus-config-reloader:PROM_OPERATOR_VERSION
#                                        Prometheus, the operator and its sidecar, static
#                                        (scripts/tools.sh prometheus prometheus-operator)
#   (the last three are the real node tier's monitoring stack, scripts/monitoring.sh)
#
# Usage:
#   scripts/images.sh build                  build what changed into the local OCI layout
#   scripts/images.sh push [REGISTRY]        build, then push them all to REGISTRY
#   scripts/images.sh build-kafka            build only UMBRELLA_KAFKA_VERSION's kafka-base and kafka
#                                            images (another release next to the ones `build` made)
#   scripts/images.sh push-kafka [REGISTRY]  build-kafka, then push that release's kafka image
#   scripts/images.sh archive DIR [REGISTRY [NAME...]]  build, then write DIR/<tag>.tar docker archives
#                                            (for `ctr -n k8s.io images import`, `docker load`)
#   scripts/images.sh verify                 run the images with runc: java, kafka-storage.sh
#                                            random-uuid and writable folders as uid 1000
#   scripts/images.sh selftest               build, verify, push to a throwaway registry on
#                                            127.0.0.1 (scripts/tools.sh registry), read back
#   scripts/images.sh names [REGISTRY]       print every image reference
#   scripts/images.sh ref NAME [REGISTRY]    print one: kafka, kafka-base, pause, kafka-loadgen
#   scripts/images.sh layout                 print the OCI layout folder (tags: see `names`)
#   scripts/images.sh tag NAME               print one image's tag in that layout
# REGISTRY defaults to $UMBRELLA_REGISTRY (e.g. 127.0.0.1:5000); pushes use plain HTTP
# (--dest-tls-verify=false): the registry is meant to be a local one.
#
# Caching, under ${UMBRELLA_IMAGES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/umbrella-streaming/images}:
#   rootfs/<key>.tar   the mmdebstrap output, keyed by suite + package list + options (1-4 min cold)
#   oci/               one OCI image layout holding every image
#   stamps/<tag>       the input hash an image was built from; equal inputs skip the build
# Inputs hashed per image: the functions of this script that build it, the sources it packs
# (cmd/pause, the base's bin/ and config/, every Kafka jar, the Dockerfile and its context)
# and the image below it.
# Layers are reproducible: file times are clamped to IMAGE_EPOCH and created dates fixed.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The Kafka releases a stack may run (kafka.version); UMBRELLA_KAFKA_VERSION picks the one whose
# kafka-base and kafka images this run builds, names and pushes (scripts/tools.sh takes the
# same variable for the jars). Each release's images have their own tags, so several live in
# one layout and registry side by side.
KAFKA_VERSIONS=(4.1.1 4.1.2 4.2.2 4.3.2 4.4.0) # config.KafkaVersions; tests/images_test.go
KAFKA_VERSION="${UMBRELLA_KAFKA_VERSION:-4.1.1}"
KAFKA_IMAGE_REVISION=umbrella.1 # config.ImageRevision
KAFKA_IMAGE_TAG="$KAFKA_VERSION-$KAFKA_IMAGE_REVISION"
PAUSE_VERSION=1.0.0
LOADGEN_VERSION=1.6.0 # cmd/kafka-loadgen: the durability tests' producer/verifier, run in pods; also /kafka-lag-exporter
PROMETHEUS_VERSION=3.16.0    # scripts/tools.sh prometheus (Debian's has no Kubernetes discovery)
PROM_OPERATOR_VERSION=0.85.0 # scripts/tools.sh prometheus-operator
DEBIAN_SUITE=bookworm
JAVA_HOME_IN_IMAGE=/usr/lib/jvm/java-17-openjdk-amd64
# Debian packages of the base image (Essential: yes packages come with the variant).
BASE_PACKAGES=(openjdk-17-jre-headless bash coreutils procps)
# Every file in every layer gets this mtime, and every image this creation date
# (2025-01-01T00:00:00Z), so equal inputs give equal layer digests.
IMAGE_EPOCH="${SOURCE_DATE_EPOCH:-1735689600}"
APPUSER_UID=1000
PAUSE_UID=65535

CACHE="${UMBRELLA_IMAGES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/umbrella-streaming/images}"
OCI="$CACHE/oci"
WORK="$CACHE/work"

PAUSE_TAG="pause-$PAUSE_VERSION"
BASE_TAG="kafka-base-$KAFKA_VERSION"
KAFKA_TAG="kafka-$KAFKA_IMAGE_TAG"
LOADGEN_TAG="kafka-loadgen-$LOADGEN_VERSION"
PROMETHEUS_TAG="prometheus-$PROMETHEUS_VERSION"
OPERATOR_TAG="prometheus-operator-$PROM_OPERATOR_VERSION"
RELOADER_TAG="prometheus-config-reloader-$PROM_OPERATOR_VERSION"
ALL_TAGS=("$PAUSE_TAG" "$BASE_TAG" "$KAFKA_TAG" "$LOADGEN_TAG" "$PROMETHEUS_TAG" "$OPERATOR_TAG" "$RELOADER_TAG")

log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }
[[ " ${KAFKA_VERSIONS[*]} " == *" $KAFKA_VERSION "* ]] ||
  die "UMBRELLA_KAFKA_VERSION=$KAFKA_VERSION is not a release this project builds (${KAFKA_VERSIONS[*]}); use one of those"

# The repository path of a layout tag: pause-1.0.0 -> umbrella/pause:1.0.0.
image_ref() { # registry tag
  local reg="$1" tag="$2" name version
  case "$tag" in
    "$PAUSE_TAG") name=pause version=$PAUSE_VERSION ;;
    "$BASE_TAG") name=kafka-base version=$KAFKA_VERSION ;;
    "$KAFKA_TAG") name=kafka version=$KAFKA_IMAGE_TAG ;;
    "$LOADGEN_TAG") name=kafka-loadgen version=$LOADGEN_VERSION ;;
    "$PROMETHEUS_TAG") name=prometheus version=$PROMETHEUS_VERSION ;;
    "$OPERATOR_TAG") name=prometheus-operator version=$PROM_OPERATOR_VERSION ;;
    "$RELOADER_TAG") name=prometheus-config-reloader version=$PROM_OPERATOR_VERSION ;;
    *) die "unknown image tag $tag" ;;
  esac
  echo "$reg/umbrella/$name:$version"
}

# The layout tag of an image name (kafka -> kafka-4.1.1-umbrella.1).
tag_of() { # name
  case "$1" in
    pause) echo "$PAUSE_TAG" ;;
    kafka-base) echo "$BASE_TAG" ;;
    kafka) echo "$KAFKA_TAG" ;;
    kafka-loadgen) echo "$LOADGEN_TAG" ;;
    prometheus) echo "$PROMETHEUS_TAG" ;;
    prometheus-operator) echo "$OPERATOR_TAG" ;;
    prometheus-config-reloader) echo "$RELOADER_TAG" ;;
    *) die "no image named '$1' (kafka, kafka-base, pause, kafka-loadgen, prometheus, prometheus-operator, prometheus-config-reloader)" ;;
  esac
}

registry_arg() {
  local reg="${1:-${UMBRELLA_REGISTRY:-}}"
  [[ -n "$reg" ]] || die "no registry: pass one (e.g. 127.0.0.1:5000) or set UMBRELLA_REGISTRY"
  [[ "$reg" != */ ]] || die "registry '$reg' ends in '/'"
  echo "$reg"
}

# Seconds since $1 (an earlier $SECONDS), for the timing lines.
took() { echo "$((SECONDS - $1))s"; }

sha_of_files() { # file... -> one hash over names and contents
  local f
  for f in "$@"; do printf '%s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "${f##*/}"; done | sha256sum | cut -d' ' -f1
}

# The part of this script that makes an image: the named functions and variables, plus the
# helpers every image uses. Editing anything else (usage text, push, verify) rebuilds nothing.
recipe() { # name...
  local n
  for n in "$@" new_bundle repack clamp_times created IMAGE_EPOCH; do
    declare -f "$n" || declare -p "$n"
  done
}

# Stamps: an image is rebuilt unless its tag exists and was built from the same inputs.
is_current() { # tag inputs-hash
  [[ -f "$CACHE/stamps/$1" && "$(cat "$CACHE/stamps/$1")" == "$2" ]] || return 1
  # grep without -q: an early exit would SIGPIPE umoci and fail the pipeline.
  umoci ls --layout "$OCI" 2>/dev/null | grep -xF "$1" >/dev/null
}
stamp() { mkdir -p "$CACHE/stamps"; echo "$2" >"$CACHE/stamps/$1"; }

# The non-test Go files a main package is built from (its own and this module's packages it
# imports), for an image's input hash.
go_sources() { # package
  # shellcheck disable=SC2016 # a go template, not shell
  go list -deps -f '{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}' "$1" |
    sed -n "s|^$PWD/||p" | sort
}

# Clamp every mtime under a folder to IMAGE_EPOCH (symlinks themselves, not their targets).
clamp_times() { find "$1" -exec touch -h -d "@$IMAGE_EPOCH" {} +; }

created() { date -u -d "@$IMAGE_EPOCH" +%Y-%m-%dT%H:%M:%SZ; }

ensure_layout() {
  [[ -f "$OCI/index.json" ]] || umoci init --layout "$OCI"
}

# A fresh, empty image under a tag, unpacked to a bundle: prints the bundle folder.
new_bundle() { # tag
  local bundle="$WORK/$1"
  rm -rf "$bundle"
  mkdir -p "$WORK"
  umoci new --image "$OCI:$1" >/dev/null
  umoci unpack --image "$OCI:$1" "$bundle" >/dev/null
  echo "$bundle"
}

# One layer from what changed in the bundle since the last repack.
repack() { # tag bundle created_by
  clamp_times "$2/rootfs"
  umoci repack --refresh-bundle --image "$OCI:$1" \
    --history.created "$(created)" --history.created_by "$3" "$2"
}

# ---------------------------------------------------------------------------------------------
# pause

build_pause() {
  local inputs
  inputs=$(sha_of_files <(recipe build_pause PAUSE_VERSION PAUSE_UID) cmd/pause/main.go <(go version))
  if is_current "$PAUSE_TAG" "$inputs"; then log "pause: cached ($PAUSE_TAG)"; return; fi
  local start=$SECONDS bundle
  ensure_layout
  bundle=$(new_bundle "$PAUSE_TAG")
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN=local \
    go build -trimpath -ldflags='-s -w -buildid=' -o "$bundle/rootfs/pause" ./cmd/pause
  chmod 0755 "$bundle/rootfs/pause"
  repack "$PAUSE_TAG" "$bundle" "go build ./cmd/pause (CGO_ENABLED=0)"
  umoci config --image "$OCI:$PAUSE_TAG" --created "$(created)" --no-history \
    --config.entrypoint /pause --config.user "$PAUSE_UID:$PAUSE_UID" --config.workingdir / \
    --config.label "org.opencontainers.image.title=umbrella pause" \
    --config.label "org.opencontainers.image.version=$PAUSE_VERSION"
  rm -rf "$bundle"
  stamp "$PAUSE_TAG" "$inputs"
  log "pause: built $PAUSE_TAG in $(took "$start")"
}

# The load generator the durability tests run in client pods, and the consumer-lag exporter: static
# binaries, user 65534.
build_loadgen() {
  local inputs
  inputs=$(sha_of_files <(recipe build_loadgen LOADGEN_VERSION) cmd/kafka-loadgen/*.go internal/loadgen/*.go \
    cmd/kafka-lag-exporter/*.go internal/lagexporter/*.go go.sum <(go version))
  if is_current "$LOADGEN_TAG" "$inputs"; then log "kafka-loadgen: cached ($LOADGEN_TAG)"; return; fi
  local start=$SECONDS bundle cmd
  ensure_layout
  bundle=$(new_bundle "$LOADGEN_TAG")
  # kafka-lag-exporter (#25 item 7) ships in the same image: a pod runs it with command: [/kafka-lag-exporter].
  for cmd in kafka-loadgen kafka-lag-exporter; do
    CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN=local \
      go build -trimpath -ldflags='-s -w -buildid=' -o "$bundle/rootfs/$cmd" "./cmd/$cmd"
    chmod 0755 "$bundle/rootfs/$cmd"
  done
  repack "$LOADGEN_TAG" "$bundle" "go build ./cmd/kafka-loadgen ./cmd/kafka-lag-exporter (CGO_ENABLED=0)"
  umoci config --image "$OCI:$LOADGEN_TAG" --created "$(created)" --no-history \
    --config.entrypoint /kafka-loadgen --config.user 65534:65534 --config.workingdir / \
    --config.label "org.opencontainers.image.title=umbrella kafka-loadgen" \
    --config.label "org.opencontainers.image.version=$LOADGEN_VERSION"
  rm -rf "$bundle"
  stamp "$LOADGEN_TAG" "$inputs"
  log "kafka-loadgen: built $LOADGEN_TAG in $(took "$start")"
}

# ---------------------------------------------------------------------------------------------
# kafka-base

# The Debian root filesystem as a tar, cached by everything that shapes it; prints its path.
debian_rootfs() {
  # mmdebstrap runs a hook with the root folder as $1.
  # shellcheck disable=SC2016
  local man1_hook='mkdir -p "$1/usr/share/man/man1"'
  local opts=(--mode=root --variant=essential --format=tar
    "--include=$(IFS=,; echo "${BASE_PACKAGES[*]}")"
    # Docs, man pages and translations are dead weight in a container (copyright files stay).
    --dpkgopt='path-exclude=/usr/share/man/*'
    # ... but update-alternatives (java) fails unless the man1 folder exists for its links.
    --setup-hook="$man1_hook"
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
  )
  local key
  key=$(printf '%s\n' "$DEBIAN_SUITE" "$IMAGE_EPOCH" "${opts[@]}" | sha256sum | cut -c1-16)
  local tar="$CACHE/rootfs/$DEBIAN_SUITE-$key.tar"
  if [[ -s "$tar" ]]; then
    log "kafka-base: Debian root filesystem cached ($(basename "$tar"))"
  else
    local start=$SECONDS
    mkdir -p "$CACHE/rootfs"
    log "kafka-base: mmdebstrap $DEBIAN_SUITE with ${BASE_PACKAGES[*]} (through this machine's apt sources)"
    SOURCE_DATE_EPOCH="$IMAGE_EPOCH" mmdebstrap --quiet "${opts[@]}" "$DEBIAN_SUITE" "$tar.tmp" >&2
    mv -f "$tar.tmp" "$tar"
    log "kafka-base: mmdebstrap took $(took "$start")"
  fi
  echo "$tar"
}

build_base() {
  local libs
  libs=$(scripts/tools.sh path kafka-libs) || die "the Kafka jars are missing: run scripts/tools.sh kafka"
  [[ -e "$libs/.complete" ]] || die "the Kafka jars in $libs are incomplete: run scripts/tools.sh kafka"
  local jars=("$libs"/*.jar) base_files=(infrastructure/kafka/base/bin/* infrastructure/kafka/base/config/*)
  local run_sources
  mapfile -t run_sources < <(go_sources ./cmd/kafka-docker-run)
  local inputs
  inputs=$(sha_of_files <(recipe build_base debian_rootfs go_sources DEBIAN_SUITE BASE_PACKAGES JAVA_HOME_IN_IMAGE \
    APPUSER_UID KAFKA_VERSION) "${base_files[@]}" "${jars[@]}" "${run_sources[@]}" go.sum <(go version))
  if is_current "$BASE_TAG" "$inputs"; then log "kafka-base: cached ($BASE_TAG)"; return; fi

  local rootfs_tar start bundle rootfs
  rootfs_tar=$(debian_rootfs)
  start=$SECONDS
  ensure_layout
  bundle=$(new_bundle "$BASE_TAG")
  rootfs="$bundle/rootfs"

  # Layer 1: Debian. Device nodes are the runtime's business, not the image's.
  tar -C "$rootfs" --numeric-owner --exclude='./dev/*' -xf "$rootfs_tar"
  local t=$SECONDS
  repack "$BASE_TAG" "$bundle" "mmdebstrap --variant=essential $DEBIAN_SUITE ${BASE_PACKAGES[*]}"
  log "kafka-base: umoci repack of the Debian layer took $(took "$t")"

  # Layer 2: the Kafka jars (root-owned, read-only: nothing writes there).
  install -d -m 0755 "$rootfs/opt/kafka/libs"
  install -m 0644 "${jars[@]}" "$rootfs/opt/kafka/libs/"
  t=$SECONDS
  repack "$BASE_TAG" "$bundle" "Apache Kafka $KAFKA_VERSION jars from Maven Central (${#jars[@]} jars)"
  log "kafka-base: umoci repack of the jar layer took $(took "$t")"

  # Layer 3: our bin/ scripts and log4j2 configs, the user, the writable folders.
  install -d -m 0755 "$rootfs/opt/kafka/bin"
  install -m 0755 infrastructure/kafka/base/bin/* "$rootfs/opt/kafka/bin/"
  install -d -m 0755 -o "$APPUSER_UID" -g "$APPUSER_UID" "$rootfs/opt/kafka/config" "$rootfs/opt/kafka/logs" \
    "$rootfs/mnt/shared/config" "$rootfs/home/appuser"
  install -m 0644 -o "$APPUSER_UID" -g "$APPUSER_UID" infrastructure/kafka/base/config/* "$rootfs/opt/kafka/config/"
  # apache/kafka's environment interface (README "Local development without Kubernetes"): its
  # default command, at its path, and the log4j2.yaml each start begins from.
  install -d -m 0755 "$rootfs/etc/kafka/docker"
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN=local \
    go build -trimpath -ldflags='-s -w -buildid=' -o "$rootfs/etc/kafka/docker/run" ./cmd/kafka-docker-run
  chmod 0755 "$rootfs/etc/kafka/docker/run"
  install -m 0644 infrastructure/kafka/base/config/log4j2.yaml "$rootfs/etc/kafka/docker/log4j2.yaml"
  # As in the official image: data and secrets owned by appuser, group root, group-writable.
  install -d -m 0775 -o "$APPUSER_UID" -g 0 "$rootfs/var/lib/kafka" "$rootfs/var/lib/kafka/data" \
    "$rootfs/etc/kafka" "$rootfs/etc/kafka/secrets"
  grep -q '^appuser:' "$rootfs/etc/passwd" || {
    echo "appuser:x:$APPUSER_UID:$APPUSER_UID::/home/appuser:/bin/bash" >>"$rootfs/etc/passwd"
    echo "appuser:x:$APPUSER_UID:" >>"$rootfs/etc/group"
    echo "appuser:!:$((IMAGE_EPOCH / 86400))::::::" >>"$rootfs/etc/shadow"
  }
  t=$SECONDS
  repack "$BASE_TAG" "$bundle" "umbrella bin/ scripts, log4j2 configs, /etc/kafka/docker/run, user appuser ($APPUSER_UID:$APPUSER_UID)"
  log "kafka-base: umoci repack of the umbrella layer took $(took "$t")"

  umoci config --image "$OCI:$BASE_TAG" --created "$(created)" --no-history \
    --config.user "$APPUSER_UID:$APPUSER_UID" --config.workingdir /opt/kafka \
    --config.env "PATH=/opt/kafka/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.env "JAVA_HOME=$JAVA_HOME_IN_IMAGE" --config.env "LANG=C.UTF-8" \
    --config.cmd /etc/kafka/docker/run \
    --config.exposedports 9092/tcp \
    --config.label "org.opencontainers.image.title=umbrella kafka-base" \
    --config.label "org.opencontainers.image.description=Apache Kafka $KAFKA_VERSION on Debian $DEBIAN_SUITE with OpenJDK 17 (umbrella-streaming)" \
    --config.label "org.opencontainers.image.version=$KAFKA_VERSION" \
    --config.label "org.opencontainers.image.base.name=debian:$DEBIAN_SUITE" \
    --config.label "org.apache.kafka.version=$KAFKA_VERSION" \
    --config.label "umbrella.debian.packages=${BASE_PACKAGES[*]}" \
    --config.label "umbrella.image.inputs=$inputs"
  rm -rf "$bundle"
  stamp "$BASE_TAG" "$inputs"
  log "kafka-base: built $BASE_TAG in $(took "$start") (plus mmdebstrap when not cached)"
}

# ---------------------------------------------------------------------------------------------
# kafka (the thin wrapper from infrastructure/kafka/Dockerfile, built with buildah)

buildah_() {
  buildah --storage-driver vfs --root "$CACHE/buildah/root" --runroot "$CACHE/buildah/run" "$@"
}

build_kafka() {
  local jmx
  jmx=$(scripts/tools.sh path jmx-exporter) || die "the JMX exporter jar is missing: run scripts/tools.sh jmx-exporter"
  local inputs
  inputs=$(sha_of_files <(recipe build_kafka buildah_ KAFKA_IMAGE_TAG) infrastructure/kafka/Dockerfile \
    infrastructure/kafka/scripts/create-topics.sh "$jmx" "$CACHE/stamps/$BASE_TAG")
  if is_current "$KAFKA_TAG" "$inputs"; then log "kafka: cached ($KAFKA_TAG)"; return; fi
  local start=$SECONDS ctx="$WORK/kafka-context"
  # The Dockerfile's context: its scripts/ and the agent jar under jmx-exporter/.
  rm -rf "$ctx"
  mkdir -p "$ctx/scripts" "$ctx/jmx-exporter"
  cp infrastructure/kafka/Dockerfile "$ctx/Dockerfile"
  cp infrastructure/kafka/scripts/create-topics.sh "$ctx/scripts/"
  cp "$jmx" "$ctx/jmx-exporter/jmx_prometheus_javaagent.jar"
  clamp_times "$ctx"
  local built="localhost/umbrella-build/kafka:$KAFKA_IMAGE_TAG"
  local base="localhost/umbrella-build/kafka-base:$KAFKA_VERSION"
  # The blob cache keeps the base's compressed layers, so the pushed image reuses them
  # (same digests as umbrella/kafka-base) instead of recompressing them.
  local blobs="$CACHE/buildah/blobs" link base_id
  rm -rf "$CACHE/buildah"
  mkdir -p "$blobs"
  # buildah names an image pulled from an oci: layout after its path, and a path with a dot
  # folder (~/.cache) is no valid name: pull through a dot-free link, then tag.
  link="${TMPDIR:-/tmp}/umbrella-images-$$" # lower case: part of the derived name
  rm -rf "$link"
  mkdir -p "$link"
  ln -s "$OCI" "$link/oci"
  base_id=$(buildah_ pull --quiet --blob-cache "$blobs" "oci:$link/oci:$BASE_TAG")
  rm -rf "$link"
  buildah_ tag "$base_id" "$base"
  # chroot isolation and the vfs driver need neither a daemon nor overlay mounts; the
  # Dockerfile has no RUN step, so nothing executes inside the image.
  buildah_ bud --quiet --blob-cache "$blobs" --pull-never --isolation chroot --layers=false \
    --format oci --timestamp "$IMAGE_EPOCH" \
    --build-arg "KAFKA_BASE_IMAGE=$base" \
    --label "org.opencontainers.image.title=umbrella kafka" \
    --label "org.opencontainers.image.version=$KAFKA_IMAGE_TAG" \
    --label "umbrella.image.inputs=$inputs" \
    -t "$built" -f "$ctx/Dockerfile" "$ctx" >/dev/null
  buildah_ push --quiet --blob-cache "$blobs" "$built" "oci:$OCI:$KAFKA_TAG"
  buildah_ rmi --all >/dev/null
  rm -rf "$CACHE/buildah"
  rm -rf "$ctx"
  stamp "$KAFKA_TAG" "$inputs"
  log "kafka: built $KAFKA_TAG with buildah in $(took "$start")"
}

# ---------------------------------------------------------------------------------------------
# The real node tier's monitoring stack: Prometheus and the Prometheus Operator

# One static binary as an image, user 65534.
static_image() { # tag binary path-in-image title version
  local tag="$1" bin="$2" dest="$3" inputs
  inputs=$(sha_of_files <(recipe static_image) "$bin" <(echo "$3 $4 $5"))
  if is_current "$tag" "$inputs"; then log "$4: cached ($tag)"; return; fi
  local start=$SECONDS bundle
  ensure_layout
  bundle=$(new_bundle "$tag")
  install -D -m 0755 "$bin" "$bundle/rootfs$dest"
  repack "$tag" "$bundle" "$4 $5 (scripts/tools.sh, static)"
  umoci config --image "$OCI:$tag" --created "$(created)" --no-history \
    --config.entrypoint "$dest" --config.user 65534:65534 --config.workingdir / \
    --config.label "org.opencontainers.image.title=umbrella $4" \
    --config.label "org.opencontainers.image.version=$5"
  rm -rf "$bundle"
  stamp "$tag" "$inputs"
  log "$4: built $tag in $(took "$start")"
}

# The operator gives the Prometheus container arguments only: the image's entrypoint runs it.
build_prometheus() {
  local bin
  bin=$(scripts/tools.sh path prometheus) || die "Prometheus is missing: run scripts/tools.sh prometheus"
  "$bin" --version 2>&1 | grep -q "version $PROMETHEUS_VERSION" ||
    die "$bin is not Prometheus $PROMETHEUS_VERSION ($("$bin" --version 2>&1 | head -n1))"
  static_image "$PROMETHEUS_TAG" "$bin" /bin/prometheus prometheus "$PROMETHEUS_VERSION"
}

build_operator() {
  local op reloader
  op=$(scripts/tools.sh path prometheus-operator) || die "the Prometheus Operator is missing: run scripts/tools.sh prometheus-operator"
  reloader=$(scripts/tools.sh path prometheus-config-reloader) || die "run scripts/tools.sh prometheus-operator"
  static_image "$OPERATOR_TAG" "$op" /bin/operator prometheus-operator "$PROM_OPERATOR_VERSION"
  # The operator runs its sidecar with command /bin/prometheus-config-reloader.
  static_image "$RELOADER_TAG" "$reloader" /bin/prometheus-config-reloader prometheus-config-reloader "$PROM_OPERATOR_VERSION"
}

require_builders() {
  [[ $(id -u) -eq 0 ]] || die "run as root (mmdebstrap --mode=root, chown to uid $APPUSER_UID, buildah)"
  local tool
  for tool in umoci skopeo buildah mmdebstrap go; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
  done
}

# One Kafka release's broker images: a stack upgrading between releases needs each one's
# image in its registry, and the rest of the set is the same for every release.
build_release() {
  require_builders
  build_base
  build_kafka
  umoci gc --layout "$OCI"
}

build_all() {
  require_builders
  build_pause
  build_loadgen
  build_base
  build_kafka
  build_prometheus
  build_operator
  umoci gc --layout "$OCI"
}

# ---------------------------------------------------------------------------------------------

push_all() { # registry
  local tag ref start
  for tag in "${ALL_TAGS[@]}"; do
    ref=$(image_ref "$1" "$tag")
    start=$SECONDS
    skopeo copy --quiet --dest-tls-verify=false "oci:$OCI:$tag" "docker://$ref"
    log "pushed $ref in $(took "$start")"
  done
}

archive_all() { # dir registry tag...
  local dir="$1" reg="$2" tag ref file start
  shift 2
  mkdir -p "$dir"
  for tag in "$@"; do
    ref=$(image_ref "$reg" "$tag")
    file="$dir/$tag.tar"
    start=$SECONDS
    rm -f "$file"
    skopeo copy --quiet "oci:$OCI:$tag" "docker-archive:$file:$ref"
    log "wrote $file ($ref) in $(took "$start")"
  done
}

# Run a command in an image with runc, as the image's user (the image's config decides
# uid, env and working folder, as a container runtime would).
run_in_image() { # tag script
  local bundle="$WORK/verify-$1"
  rm -rf "$bundle"
  umoci unpack --image "$OCI:$1" "$bundle" >/dev/null
  # hostname localhost: runc writes no /etc/hosts (the kubelet does), and log4j looks it up.
  jq --arg script "$2" '.process.terminal = false | .hostname = "localhost"
    | .process.args = ["/bin/bash", "-c", $script]' "$bundle/config.json" >"$bundle/config.json.new"
  mv "$bundle/config.json.new" "$bundle/config.json"
  local rc=0
  runc run --bundle "$bundle" "umbrella-verify-$$" || rc=$?
  rm -rf "$bundle"
  return "$rc"
}

verify_images() {
  [[ $(id -u) -eq 0 ]] || die "run as root (runc)"
  command -v runc >/dev/null || die "runc is not installed"
  # shellcheck disable=SC2016 # expanded by the image's bash
  run_in_image "$BASE_TAG" 'set -e
    [[ $(id -u):$(id -g) == '"$APPUSER_UID:$APPUSER_UID"' ]] || { echo "runs as $(id)"; exit 1; }
    java -version 2>&1 | head -n1
    id=$(kafka-storage.sh random-uuid)
    [[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || { echo "random-uuid printed: $id"; exit 1; }
    echo "kafka-storage.sh random-uuid: $id"
    echo "kafka-topics.sh --version: $(kafka-topics.sh --version)"
    for d in /opt/kafka/config /opt/kafka/logs /var/lib/kafka/data /mnt/shared/config; do
      touch "$d/.w" && rm "$d/.w"
    done
    echo "writable as $(id -un): config, logs, data, /mnt/shared/config"'
  log "kafka-base: verified with runc"
  # shellcheck disable=SC2016
  run_in_image "$KAFKA_TAG" 'set -e
    [[ $(id -u) == '"$APPUSER_UID"' ]]
    test -x /opt/umbrella/scripts/create-topics.sh
    agent=/opt/jmx-exporter/jmx_prometheus_javaagent.jar
    test -r $agent
    echo "as uid $(id -u): create-topics.sh and $agent ($(stat -c %s $agent) bytes)"'
  log "kafka: verified with runc"
}

# A throwaway registry (scripts/tools.sh registry) on a free 127.0.0.1 port: push them all,
# read them back, check users and that the wrapper reuses the base's layers, stop it.
selftest() {
  local registry_bin dir port pid=""
  registry_bin=$(scripts/tools.sh path registry) || die "no registry binary: run scripts/tools.sh registry"
  build_all
  verify_images
  dir=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the folder and pid are this run's
  trap "[[ -n \"\${pid:-}\" ]] && kill \"\$pid\" 2>/dev/null; rm -rf '$dir'" EXIT
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  printf 'version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: "127.0.0.1:%s"}\n' \
    "$dir/data" "$port" >"$dir/config.yml"
  "$registry_bin" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  pid=$!
  local i
  for i in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/registry.log" >&2; die "the registry did not start"; }
    [[ $i -lt 50 ]] || die "the registry does not listen on 127.0.0.1:$port"
    sleep 0.2
  done
  local reg="127.0.0.1:$port" start=$SECONDS
  push_all "$reg"
  log "push of every image took $(took "$start")"
  local base_layers kafka_layers user
  base_layers=$(skopeo inspect --tls-verify=false "docker://$(image_ref "$reg" "$BASE_TAG")" | jq -c .Layers)
  kafka_layers=$(skopeo inspect --tls-verify=false "docker://$(image_ref "$reg" "$KAFKA_TAG")" | jq -c '.Layers[:-1]')
  [[ "$base_layers" == "$kafka_layers" ]] || die "the kafka image does not reuse the base layers: $kafka_layers vs $base_layers"
  for tag in "${ALL_TAGS[@]}"; do
    user=$(skopeo inspect --tls-verify=false --config "docker://$(image_ref "$reg" "$tag")" | jq -r .config.User)
    log "$(image_ref "$reg" "$tag"): user $user"
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  log "selftest passed (registry on $reg stopped)"
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    build) build_all ;;
    push)
      local reg; reg=$(registry_arg "${2:-}")
      build_all
      push_all "$reg"
      ;;
    build-kafka) build_release ;;
    push-kafka)
      local reg start; reg=$(registry_arg "${2:-}")
      build_release
      start=$SECONDS
      skopeo copy --quiet --dest-tls-verify=false "oci:$OCI:$KAFKA_TAG" "docker://$(image_ref "$reg" "$KAFKA_TAG")"
      log "pushed $(image_ref "$reg" "$KAFKA_TAG") in $(took "$start")"
      ;;
    archive)
      [[ -n "${2:-}" ]] || die "usage: $0 archive DIR [REGISTRY [NAME...]]"
      local reg dir="$2" tags=() name; reg=$(registry_arg "${3:-}")
      shift 3 || shift $#
      for name in "$@"; do tags+=("$(tag_of "$name")"); done
      ((${#tags[@]})) || tags=("${ALL_TAGS[@]}")
      build_all
      archive_all "$dir" "$reg" "${tags[@]}"
      ;;
    verify) verify_images ;;
    selftest) selftest ;;
    names)
      local reg tag; reg=$(registry_arg "${2:-}")
      for tag in "${ALL_TAGS[@]}"; do image_ref "$reg" "$tag"; done
      ;;
    ref)
      [[ $# -ge 2 ]] || die "usage: $0 ref kafka|kafka-base|pause [REGISTRY]"
      local reg tag; reg=$(registry_arg "${3:-}")
      tag=$(tag_of "$2")
      image_ref "$reg" "$tag"
      ;;
    layout) echo "$OCI" ;;
    tag) [[ $# -eq 2 ]] || die "usage: $0 tag NAME"; tag_of "$2" ;;
    -h|--help|help|"")
      sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      [[ -n "$cmd" ]] || exit 2
      ;;
    *) die "unknown command '$cmd' (see: $0 --help)" ;;
  esac
}

main "$@"
