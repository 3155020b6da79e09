#!/usr/bin/env bash
# scripts/tools.sh — build and cache, by version, the external tools this project's tests and
# local control plane need (Pulumi CLI, Kubernetes provider plugin, etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok, kube-score, Kafka jars, JMX exporter, CRDs),
# and the real node tier's kubelet, kube-proxy, CoreDNS and container registry.
#
# Nothing is downloaded as a prebuilt binary: Go tools are built from the Go module proxy in
# scratch modules under the cache, Java jars come from Maven Central through mvn.
# The cache lives OUTSIDE the repo:
#   ${UMBRELLA_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/umbrella-streaming/tools}
# with one versioned folder per tool (e.g. pulumi-v3.274.1/pulumi). A tool whose files exist is
# skipped, so a warm run takes seconds.
#
# Usage:
#   scripts/tools.sh [all]          build everything (cold: ~40 min on 2 cores)
#   scripts/tools.sh engine         build what the engine tier needs (everything but the next)
#   scripts/tools.sh core           the engine tier's tools but kwok and kube-score: what the real
#                                   node tier needs beside the next
#   scripts/tools.sh node           build what only the real node tier needs (CoreDNS, registry,
#                                   kube-router, Prometheus Operator, Prometheus): CI builds
#                                   these while the engine tier runs
#   scripts/tools.sh NAME...        build some (names: scripts/tools.sh list)
#   scripts/tools.sh env            print export lines:  eval "$(scripts/tools.sh env)"
#   scripts/tools.sh path NAME      print the path of one binary or data file/folder
#   scripts/tools.sh list           print the tool names, versions and whether they are built
set -euo pipefail

TOOLS_DIR="${UMBRELLA_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/umbrella-streaming/tools}"
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC_DIR="$TOOLS_DIR/src"
LOG_DIR="$TOOLS_DIR/logs"

ETCD_VERSION=3.6.16
KWOK_VERSION=0.8.0
K8S_VERSION=1.35.4
PULUMI_VERSION=3.274.1
K8S_PROVIDER_VERSION=4.25.0
K8S_PROVIDER_MODULE_VERSION=v4.0.0-20260115033456-f47bc2d6f199 # the proxy serves 4.25.0 only so
KUBE_SCORE_VERSION=1.20.0
# The Kafka releases a stack may run (kafka.version; config.KafkaVersions, kept in step by
# tests/images_test.go). UMBRELLA_KAFKA_VERSION picks the one whose jars `kafka` builds and
# whose folder `env` and `path` name; each release has its own folder.
KAFKA_VERSIONS=(4.1.1 4.1.2 4.2.2 4.3.2 4.4.0)
KAFKA_VERSION="${UMBRELLA_KAFKA_VERSION:-4.1.1}"
KAFKA_SCALA_VERSION=2.13
JMX_EXPORTER_VERSION=1.0.1 # the newest 1.x that Maven Central lists for this artifact
PROM_OPERATOR_VERSION=0.85.0
COREDNS_VERSION=1.15.0
COREDNS_PLUGINS=p2 # revision of the plugin list below (the cache folder changes with it)
REGISTRY_VERSION=3.1.2 # github.com/distribution/distribution/v3 (the CNCF distribution registry)
# kube-router's network-policy controller enforces NetworkPolicy on the real nodes. The module
# proxy serves v2.1.0 only (newer tags list but their source is refused); security advisories
# are reported against it, so it is a test-tier part on the machine-local network only.
KUBE_ROUTER_VERSION=2.1.0
# Its dependencies as new as `go get` allows with Go 1.26 (a full `go get -u` wants a
# kube-openapi that needs Go 1.27): the ones advisories are filed against. Bump KUBE_ROUTER_DEPS
# (the cache folder's suffix) when this list changes.
KUBE_ROUTER_DEPS_UPGRADE=(golang.org/x/net@v0.63.0 golang.org/x/crypto@v0.59.0 golang.org/x/sys@v0.50.0
  golang.org/x/text@v0.44.0 google.golang.org/grpc@v1.85.0 google.golang.org/protobuf@v1.36.12)
KUBE_ROUTER_DEPS=d1
# Prometheus for the real node tier's operator-managed Prometheus (module v0.3XX.Y is release
# 3.XX.Y). Debian's prometheus 2.42.0+ds cannot serve there: it is built without Kubernetes
# service discovery ("field kubernetes_sd_configs not found"), which every PodMonitor needs.
PROMETHEUS_VERSION=3.16.0
PROMETHEUS_MODULE_VERSION=0.316.0
# Docker Compose v2, the CLI plugin (`docker compose`), for the compose story (scripts/docker.sh).
# The newest v2 the module proxy serves; v5 lists too but may need a newer Go.
COMPOSE_VERSION=2.40.3

# Build order for `all` (one after another: the machine has 2 cores).
ALL_TOOLS=(etcd kwok kube kubernetes-provider pulumi kube-score kafka jmx-exporter prometheus-crds coredns registry kube-router prometheus-operator prometheus compose)
# Only the real node tier and the compose story use these (scripts/node.sh, scripts/monitoring.sh,
# scripts/docker.sh).
NODE_TOOLS=(coredns registry kube-router prometheus-operator prometheus compose)
# Only the engine tier's kwok-backed tests use these (tests/integration): `core` is the engine
# tools without them, what the real node tier needs beside the node tools.
ENGINE_ONLY_TOOLS=(kwok kube-score)

ETCD_DIR="$TOOLS_DIR/etcd-v$ETCD_VERSION"
KWOK_DIR="$TOOLS_DIR/kwok-v$KWOK_VERSION"
KUBE_DIR="$TOOLS_DIR/kubernetes-v$K8S_VERSION"
PULUMI_DIR="$TOOLS_DIR/pulumi-v$PULUMI_VERSION"
PROVIDER_DIR="$TOOLS_DIR/pulumi-resource-kubernetes-v$K8S_PROVIDER_VERSION"
KUBE_SCORE_DIR="$TOOLS_DIR/kube-score-v$KUBE_SCORE_VERSION"
KAFKA_DIR="$TOOLS_DIR/kafka-$KAFKA_VERSION"
JMX_DIR="$TOOLS_DIR/jmx-exporter-$JMX_EXPORTER_VERSION"
PROM_DIR="$TOOLS_DIR/prometheus-operator-crds-v$PROM_OPERATOR_VERSION"
COREDNS_DIR="$TOOLS_DIR/coredns-v$COREDNS_VERSION-$COREDNS_PLUGINS"
REGISTRY_DIR="$TOOLS_DIR/registry-v$REGISTRY_VERSION"
KUBE_ROUTER_DIR="$TOOLS_DIR/kube-router-v$KUBE_ROUTER_VERSION-$KUBE_ROUTER_DEPS"
PROM_OPERATOR_DIR="$TOOLS_DIR/prometheus-operator-v$PROM_OPERATOR_VERSION"
PROMETHEUS_DIR="$TOOLS_DIR/prometheus-v$PROMETHEUS_VERSION"
COMPOSE_DIR="$TOOLS_DIR/compose-v$COMPOSE_VERSION"

# Builds never reach for a newer Go toolchain, and never touch the caller's module.
export GOTOOLCHAIN=local
unset GOWORK GO111MODULE || true

log() { printf '[tools] %s\n' "$*" >&2; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }
[[ " ${KAFKA_VERSIONS[*]} " == *" $KAFKA_VERSION "* ]] ||
  die "UMBRELLA_KAFKA_VERSION=$KAFKA_VERSION is not a release this project builds (${KAFKA_VERSIONS[*]}); use one of those"

# ---------------------------------------------------------------------------------------------
# Per tool: description, cold-build estimate, the files that must exist for it to count as built.

tool_desc() {
  case "$1" in
    etcd) echo "etcd v$ETCD_VERSION" ;;
    kwok) echo "kwok v$KWOK_VERSION (+ stages, PortForward CRD)" ;;
    kube) echo "kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy v$K8S_VERSION" ;;
    pulumi) echo "pulumi CLI v$PULUMI_VERSION" ;;
    kubernetes-provider) echo "pulumi-resource-kubernetes v$K8S_PROVIDER_VERSION" ;;
    kube-score) echo "kube-score v$KUBE_SCORE_VERSION" ;;
    kafka) echo "Apache Kafka $KAFKA_VERSION jars" ;;
    jmx-exporter) echo "jmx_prometheus_javaagent $JMX_EXPORTER_VERSION" ;;
    prometheus-crds) echo "Prometheus Operator CRDs v$PROM_OPERATOR_VERSION (all, and the example RBAC)" ;;
    coredns) echo "CoreDNS v$COREDNS_VERSION (bind, kubernetes, cache, health, ready, errors, log plugins)" ;;
    registry) echo "distribution registry v$REGISTRY_VERSION" ;;
    kube-router) echo "kube-router v$KUBE_ROUTER_VERSION (network-policy controller)" ;;
    prometheus-operator) echo "Prometheus Operator v$PROM_OPERATOR_VERSION (operator, config reloader)" ;;
    prometheus) echo "Prometheus v$PROMETHEUS_VERSION (Kubernetes service discovery only)" ;;
    compose) echo "Docker Compose v$COMPOSE_VERSION (CLI plugin)" ;;
    *) return 1 ;;
  esac
}

tool_estimate() {
  case "$1" in
    etcd) echo "~1 min" ;;
    kwok) echo "~2.5 min" ;;
    kube) echo "~12 min" ;;
    coredns|registry) echo "~2-4 min" ;;
    kube-router) echo "~6-10 min" ;;
    prometheus-operator|prometheus) echo "~4-10 min" ;;
    compose) echo "~5-8 min" ;;
    pulumi) echo "~9 min" ;;
    kubernetes-provider) echo "10-16 min, 4.5 GB memory" ;;
    kube-score) echo "~1 min" ;;
    kafka|jmx-exporter|prometheus-crds) echo "<1 min" ;;
  esac
}

tool_outputs() {
  case "$1" in
    etcd) echo "$ETCD_DIR/etcd" ;;
    kwok) echo "$KWOK_DIR/kwok $KWOK_DIR/stages/.complete $KWOK_DIR/crds/.complete" ;;
    kube) echo "$KUBE_DIR/kube-apiserver $KUBE_DIR/kube-controller-manager $KUBE_DIR/kube-scheduler $KUBE_DIR/kubelet $KUBE_DIR/kube-proxy" ;;
    pulumi) echo "$PULUMI_DIR/pulumi" ;;
    kubernetes-provider) echo "$PROVIDER_DIR/pulumi-resource-kubernetes" ;;
    kube-score) echo "$KUBE_SCORE_DIR/kube-score" ;;
    kafka) echo "$KAFKA_DIR/libs/.complete" ;;
    jmx-exporter) echo "$JMX_DIR/jmx_prometheus_javaagent.jar" ;;
    prometheus-crds) echo "$PROM_DIR/.complete $PROM_DIR/all/.complete" ;;
    coredns) echo "$COREDNS_DIR/coredns" ;;
    registry) echo "$REGISTRY_DIR/registry" ;;
    kube-router) echo "$KUBE_ROUTER_DIR/kube-router" ;;
    prometheus-operator) echo "$PROM_OPERATOR_DIR/operator $PROM_OPERATOR_DIR/prometheus-config-reloader" ;;
    prometheus) echo "$PROMETHEUS_DIR/prometheus" ;;
    compose) echo "$COMPOSE_DIR/docker-compose" ;;
  esac
}

is_built() {
  local f
  for f in $(tool_outputs "$1"); do
    [[ -e "$f" ]] || return 1
  done
}

# ---------------------------------------------------------------------------------------------
# Helpers used by the build steps (they run inside the logged, niced subshell).

# A scratch Go module under $SRC_DIR; prints its path.
scratch_module() {
  local dir="$SRC_DIR/$1"
  mkdir -p "$dir"
  rm -f "$dir/go.mod" "$dir/go.sum"
  (cd "$dir" && go mod init "scratch.local/$1" >/dev/null 2>&1)
  echo "$dir"
}

# Directory of a module in the module cache (downloads it if needed).
module_dir() {
  local dir
  dir=$(cd "$SRC_DIR" && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -n "$dir" && -d "$dir" ]] || { echo "cannot download module $1" >&2; return 1; }
  echo "$dir"
}

# go build of main packages into a folder; installs atomically (temp name, then rename).
go_build_into() { # dest_dir ldflags pkg...
  local dest="$1" ldflags="$2"; shift 2
  local tmp="$dest/.build-$$"
  mkdir -p "$tmp"
  nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$tmp/" "$@"
  local f
  for f in "$tmp"/*; do mv -f "$f" "$dest/"; done
  rmdir "$tmp"
}

# ---------------------------------------------------------------------------------------------
# Build steps. Each runs in a subshell with set -e, stdout+stderr to the tool's log.

build_etcd() {
  local mod; mod=$(scratch_module "etcd-v$ETCD_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  go mod edit -require="go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  go_build_into "$ETCD_DIR" "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v$ETCD_VERSION" go.etcd.io/etcd/server/v3
  # go names the binary after the path element before the /v3 suffix.
  mv -f "$ETCD_DIR/server" "$ETCD_DIR/etcd" 2>/dev/null || true
  [[ -x "$ETCD_DIR/etcd" ]] || { ls -l "$ETCD_DIR"; return 1; }
  "$ETCD_DIR/etcd" --version
}

build_kwok() {
  local mod; mod=$(scratch_module "kwok-v$KWOK_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  go mod edit -require="sigs.k8s.io/kwok@v$KWOK_VERSION"
  local src; src=$(module_dir "sigs.k8s.io/kwok@v$KWOK_VERSION")
  # Stage objects kwok needs to act as the kubelet, and its PortForward CRD.
  mkdir -p "$KWOK_DIR/stages" "$KWOK_DIR/crds"
  local stage f
  for stage in node-initialize node-heartbeat-with-lease pod-ready pod-complete pod-delete; do
    f=$(find "$src/kustomize/stage" -name "$stage.yaml" | sort | head -n1)
    [[ -n "$f" ]] || { echo "stage $stage.yaml not found under $src/kustomize/stage" >&2; return 1; }
    install -m 0644 "$f" "$KWOK_DIR/stages/$stage.yaml"
  done
  touch "$KWOK_DIR/stages/.complete"
  f=$(find "$src/kustomize/crd/bases" -name '*portforward*.yaml' | head -n1)
  [[ -n "$f" ]] || { echo "PortForward CRD not found under $src/kustomize/crd/bases" >&2; return 1; }
  install -m 0644 "$f" "$KWOK_DIR/crds/portforwards.yaml"
  touch "$KWOK_DIR/crds/.complete"
  go_build_into "$KWOK_DIR" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
  "$KWOK_DIR/kwok" --version || true
}

build_kube() {
  local mod; mod=$(scratch_module "kubernetes-v$K8S_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  local src; src=$(module_dir "k8s.io/kubernetes@v$K8S_VERSION")
  go mod edit -require="k8s.io/kubernetes@v$K8S_VERSION"
  # k8s.io/kubernetes replaces its staging modules with local folders; point them at the
  # published v0.X.Y releases instead.
  local staging_version="v0.${K8S_VERSION#1.}" n=0 m
  while read -r m; do
    go mod edit -replace="$m=$m@$staging_version"
    n=$((n + 1))
  done < <(sed -n 's#^[[:space:]]*\(k8s.io/[A-Za-z0-9._/-]*\) => ./staging/.*#\1#p' "$src/go.mod")
  echo "copied $n staging replaces ($staging_version)"
  [[ $n -gt 20 ]] || { echo "expected ~31 staging replaces in $src/go.mod, found $n" >&2; return 1; }
  local minor="${K8S_VERSION#1.}"; minor="${minor%%.*}"
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  # One pass for all five (they share most packages); static, as Kubernetes releases them.
  CGO_ENABLED=0 go_build_into "$KUBE_DIR" "$ld" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy
  "$KUBE_DIR/kube-apiserver" --version
  "$KUBE_DIR/kubelet" --version
}

# The CLI builds inside this repository's own module graph (a copy of its go.mod and go.sum,
# through -modfile, so the repository's files are never touched), with the flags `go vet` and
# `go test` use (no -trimpath): the repository requires pkg/v3 and sdk/v3 at this version too,
# so about 600 of the CLI's 1,500 packages are the very packages the unit tests compile, and
# the build cache compiles them once. The heavy lane builds it after the Kubernetes provider,
# by when vet and the unit tests have compiled them.
build_pulumi() {
  local mod="$SRC_DIR/pulumi-v$PULUMI_VERSION"
  mkdir -p "$mod"
  grep -qE "^[[:space:]]*github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION\b" "$REPO_DIR/go.mod" ||
    { echo "the repository's go.mod does not require github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION; keep PULUMI_VERSION in step with it" >&2; return 1; }
  install -m 0644 "$REPO_DIR/go.mod" "$mod/cli.mod"
  install -m 0644 "$REPO_DIR/go.sum" "$mod/cli.sum"
  cd "$REPO_DIR"
  go mod edit -modfile="$mod/cli.mod" \
    -replace="github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e"
  local tmp="$PULUMI_DIR/.build-$$"
  mkdir -p "$tmp"
  nice -n 10 go build -modfile="$mod/cli.mod" -mod=mod \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    -o "$tmp/" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  mv -f "$tmp/pulumi" "$PULUMI_DIR/pulumi"
  rmdir "$tmp"
  "$PULUMI_DIR/pulumi" version
}

build_kubernetes_provider() {
  local mod; mod=$(scratch_module "pulumi-resource-kubernetes-v$K8S_PROVIDER_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  local modpath=github.com/pulumi/pulumi-kubernetes/provider/v4
  go mod edit \
    -require="$modpath@$K8S_PROVIDER_MODULE_VERSION" \
    -require="github.com/pulumi/pulumi-kubernetes/sdk/v4@v$K8S_PROVIDER_VERSION"
  local src; src=$(module_dir "$modpath@$K8S_PROVIDER_MODULE_VERSION")
  # The module zip lacks the embedded schema files: build the main package from a copy and
  # run its generate step, which writes them.
  local f
  for f in main.go generate.go schema.json terraform-mapping.json; do
    install -m 0644 "$src/cmd/pulumi-resource-kubernetes/$f" "$mod/$f"
  done
  VERSION="$K8S_PROVIDER_VERSION" nice -n 10 go run generate.go schema.json "$K8S_PROVIDER_VERSION"
  ls -l "$mod"
  go_build_into "$PROVIDER_DIR" \
    "-s -w -X $modpath/pkg/version.Version=$K8S_PROVIDER_VERSION" .
  mv -f "$PROVIDER_DIR/pulumi-resource-kubernetes-v$K8S_PROVIDER_VERSION" \
    "$PROVIDER_DIR/pulumi-resource-kubernetes" 2>/dev/null || true
  [[ -x "$PROVIDER_DIR/pulumi-resource-kubernetes" ]] || { ls -l "$PROVIDER_DIR"; return 1; }
}

build_kube_score() {
  local mod; mod=$(scratch_module "kube-score-v$KUBE_SCORE_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  go mod edit -require="github.com/zegl/kube-score@v$KUBE_SCORE_VERSION"
  go_build_into "$KUBE_SCORE_DIR" "-s -w -X main.version=$KUBE_SCORE_VERSION" \
    github.com/zegl/kube-score/cmd/kube-score
  "$KUBE_SCORE_DIR/kube-score" version
}

# A throwaway pom whose dependencies mvn copies into a folder.
mvn_copy() { # name outdir dependency-xml
  local pomdir="$SRC_DIR/$1"
  mkdir -p "$pomdir"
  cat >"$pomdir/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.umbrella</groupId>
  <artifactId>$1</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
$3
  </dependencies>
</project>
EOF
  rm -rf "$2.tmp"
  (cd "$pomdir" && nice -n 10 mvn -B -q dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$2.tmp")
  rm -rf "$2"
  mv "$2.tmp" "$2"
}

build_kafka() {
  local deps="" a
  for a in "kafka_$KAFKA_SCALA_VERSION" kafka-tools kafka-storage kafka-server kafka-metadata kafka-clients; do
    deps+="    <dependency><groupId>org.apache.kafka</groupId><artifactId>$a</artifactId><version>$KAFKA_VERSION</version></dependency>"$'\n'
  done
  # Kafka 4.x logs through log4j2 (kafka-server brings log4j-api/-core 2.24.3); its code calls
  # slf4j-api 1.7.36, so the binding is log4j-slf4j-impl (the slf4j 1.x one), as in the release.
  deps+="    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>"$'\n'
  deps+="    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>"$'\n'
  mkdir -p "$KAFKA_DIR"
  mvn_copy "kafka-$KAFKA_VERSION" "$KAFKA_DIR/libs" "$deps"
  mkdir -p "$KAFKA_DIR/config"
  cat >"$KAFKA_DIR/config/log4j2.properties" <<'EOF'
# Console logging for brokers and CLI tools run from these jars
# (java -Dlog4j2.configurationFile=<this file> -cp 'libs/*' ...).
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache.kafka
logger.apache.level = info
EOF
  echo "$(find "$KAFKA_DIR/libs" -name '*.jar' | wc -l) jars in $KAFKA_DIR/libs"
  touch "$KAFKA_DIR/libs/.complete"
}

build_jmx_exporter() {
  mvn_copy "jmx-exporter-$JMX_EXPORTER_VERSION" "$JMX_DIR/jars" \
    "    <dependency><groupId>io.prometheus.jmx</groupId><artifactId>jmx_prometheus_javaagent</artifactId><version>$JMX_EXPORTER_VERSION</version></dependency>"
  install -m 0644 "$JMX_DIR/jars/jmx_prometheus_javaagent-$JMX_EXPORTER_VERSION.jar" "$JMX_DIR/jmx_prometheus_javaagent.jar"
  rm -rf "$JMX_DIR/jars"
}

# The PodMonitor and PrometheusRule CRDs (the kwok tier installs those two), and for the real
# node tier's operator every CRD of the release plus its example RBAC.
build_prometheus_crds() {
  local src f kind
  src=$(module_dir "github.com/prometheus-operator/prometheus-operator@v$PROM_OPERATOR_VERSION")
  mkdir -p "$PROM_DIR/all" "$PROM_DIR/rbac"
  for kind in podmonitors prometheusrules; do
    f=$(find "$src/example" -name "monitoring.coreos.com_$kind.yaml" | sort | head -n1)
    [[ -n "$f" ]] || { echo "CRD $kind not found under $src/example" >&2; return 1; }
    install -m 0644 "$f" "$PROM_DIR/$kind.yaml"
  done
  install -m 0644 "$src"/example/prometheus-operator-crd/monitoring.coreos.com_*.yaml "$PROM_DIR/all/"
  [[ $(find "$PROM_DIR/all" -name '*.yaml' | wc -l) -ge 10 ]] || { echo "expected 10 CRDs in $src/example/prometheus-operator-crd" >&2; return 1; }
  install -m 0644 "$src"/example/rbac/prometheus-operator/prometheus-operator-{cluster-role,service-account,cluster-role-binding,deployment}.yaml "$PROM_DIR/rbac/"
  install -m 0644 "$src"/example/rbac/prometheus/prometheus-cluster-role.yaml "$PROM_DIR/rbac/"
  touch "$PROM_DIR/all/.complete" "$PROM_DIR/.complete"
}

# CoreDNS with only the plugins the real node tier uses (its default build links every
# cloud plugin): bind (to its own address), cluster.local from the API server, cache,
# health, ready, errors, log.
build_coredns() {
  local mod; mod=$(scratch_module "coredns-v$COREDNS_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  go mod edit -require="github.com/coredns/coredns@v$COREDNS_VERSION"
  cat >main.go <<'GOEOF'
// CoreDNS for the umbrella-streaming real node tier: the plugins a cluster DNS needs.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() { coremain.Run() }
GOEOF
  go mod tidy
  CGO_ENABLED=0 go_build_into "$COREDNS_DIR" "-s -w -X github.com/coredns/coredns/coremain.GitCommit=v$COREDNS_VERSION" .
  mv -f "$COREDNS_DIR/coredns-v$COREDNS_VERSION" "$COREDNS_DIR/coredns"
  "$COREDNS_DIR/coredns" -plugins | grep -q kubernetes
}

build_registry() {
  local mod; mod=$(scratch_module "registry-v$REGISTRY_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  go mod edit -require="github.com/distribution/distribution/v3@v$REGISTRY_VERSION"
  CGO_ENABLED=0 go_build_into "$REGISTRY_DIR" \
    "-s -w -X github.com/distribution/distribution/v3/version.version=v$REGISTRY_VERSION" \
    github.com/distribution/distribution/v3/cmd/registry
  "$REGISTRY_DIR/registry" --version
}

# kube-router, static, for its network-policy controller only (scripts/node.sh starts it with
# --run-router=false --run-service-proxy=false).
#
# One change to its source: the real nodes of scripts/node.sh share the machine's network
# namespace (every bridge, and so every pod, is in one iptables), so ONE controller must
# program the rules of every pod. kube-router programs only the pods whose status.hostIP is
# its own node's; two instances in one namespace would delete each other's chains as
# stale. The build drops that hostIP comparison (and fails if the line is not found).
build_kube_router() {
  local mod; mod=$(scratch_module "kube-router-v$KUBE_ROUTER_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  local m=github.com/cloudnativelabs/kube-router/v2
  go get "$m/cmd/kube-router@v$KUBE_ROUTER_VERSION"
  local src; src=$(module_dir "$m@v$KUBE_ROUTER_VERSION")
  rm -rf "$mod/kube-router-src"
  cp -r "$src" "$mod/kube-router-src"
  chmod -R u+w "$mod/kube-router-src"
  local f="$mod/kube-router-src/pkg/controllers/netpol/pod.go"
  local before='strings.Compare(pod.Status.HostIP, nodeIP) != 0 || !isNetPolActionable(pod)'
  grep -qF "$before" "$f" || { echo "kube-router: the hostIP filter in $f changed; revisit this patch" >&2; return 1; }
  sed -i "s|strings.Compare(pod.Status.HostIP, nodeIP) != 0 \|\| !isNetPolActionable(pod)|/* umbrella: every pod on this machine is local */ !isNetPolActionable(pod)|" "$f"
  grep -qF 'umbrella: every pod on this machine is local' "$f"
  go mod edit -replace="$m=./kube-router-src"
  go get "${KUBE_ROUTER_DEPS_UPGRADE[@]}"
  CGO_ENABLED=0 go_build_into "$KUBE_ROUTER_DIR" \
    "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$KUBE_ROUTER_VERSION" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
  "$KUBE_ROUTER_DIR/kube-router" --version
}

# The Prometheus Operator and its config reloader (the sidecar it puts next to every
# Prometheus), one module graph for both.
build_prometheus_operator() {
  local mod; mod=$(scratch_module "prometheus-operator-v$PROM_OPERATOR_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  local m=github.com/prometheus-operator/prometheus-operator
  go get "$m/cmd/operator@v$PROM_OPERATOR_VERSION" "$m/cmd/prometheus-config-reloader@v$PROM_OPERATOR_VERSION"
  local ld="-s -w -X github.com/prometheus/common/version.Version=$PROM_OPERATOR_VERSION"
  CGO_ENABLED=0 go_build_into "$PROM_OPERATOR_DIR" "$ld" "$m/cmd/operator" "$m/cmd/prometheus-config-reloader"
  "$PROM_OPERATOR_DIR/operator" --version
  "$PROM_OPERATOR_DIR/prometheus-config-reloader" --version
}

# Prometheus with Kubernetes service discovery alone (its build tags drop the cloud ones),
# static. No web UI assets: the API is what the tests and the operator use.
build_prometheus() {
  local mod; mod=$(scratch_module "prometheus-v$PROMETHEUS_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  local m=github.com/prometheus/prometheus
  go get "$m/cmd/prometheus@v$PROMETHEUS_MODULE_VERSION"
  local ld="-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
  ld+=" -X github.com/prometheus/common/version.Branch=v$PROMETHEUS_MODULE_VERSION"
  mkdir -p "$PROMETHEUS_DIR"
  CGO_ENABLED=0 nice -n 10 go build -trimpath -tags remove_all_sd,enable_kubernetes_sd -ldflags "$ld" \
    -o "$PROMETHEUS_DIR/.prometheus.tmp" "$m/cmd/prometheus"
  mv -f "$PROMETHEUS_DIR/.prometheus.tmp" "$PROMETHEUS_DIR/prometheus"
  "$PROMETHEUS_DIR/prometheus" --version
}

# Docker Compose v2 as a static CLI plugin (scripts/docker.sh links it where the docker CLI
# looks: $DOCKER_CONFIG/cli-plugins/docker-compose).
build_compose() {
  local mod; mod=$(scratch_module "compose-v$COMPOSE_VERSION")
  cd "$mod"
  export GOFLAGS="-mod=mod ${GOFLAGS:-}"
  local m=github.com/docker/compose/v2
  go get "$m/cmd@v$COMPOSE_VERSION"
  CGO_ENABLED=0 go_build_into "$COMPOSE_DIR/.out" "-s -w -X $m/internal.Version=v$COMPOSE_VERSION" "$m/cmd"
  mv -f "$COMPOSE_DIR/.out/cmd" "$COMPOSE_DIR/docker-compose"
  rmdir "$COMPOSE_DIR/.out"
  "$COMPOSE_DIR/docker-compose" version
}

# ---------------------------------------------------------------------------------------------
# Running one build: lock, log, heartbeat, timing, loud failure.

build_one() {
  local name="$1" fn="build_${1//-/_}"
  declare -F "$fn" >/dev/null || die "unknown tool '$name' (see: $0 list)"
  if is_built "$name"; then
    log "$(tool_desc "$name"): cached"
    return 0
  fi
  mkdir -p "$SRC_DIR" "$LOG_DIR"
  # One builder per tool at a time (another shell may be building it already).
  local lockfd
  exec {lockfd}>"$LOG_DIR/$name.lock"
  if ! flock -n "$lockfd"; then
    log "$name: another build holds $LOG_DIR/$name.lock; waiting for it..."
    flock "$lockfd"
  fi
  if is_built "$name"; then
    log "$(tool_desc "$name"): cached (built by another process)"
    exec {lockfd}>&-
    return 0
  fi
  local logf="$LOG_DIR/$name.log" start=$SECONDS
  log "building $(tool_desc "$name") (cold build $(tool_estimate "$name")); log: $logf"
  ( set -euo pipefail; "$fn" ) >"$logf" 2>&1 &
  local pid=$! next=60 rc=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    if (( SECONDS - start >= next )); then
      log "  ... still building $name ($(( (SECONDS - start) / 60 )) min elapsed)"
      next=$((next + 60))
    fi
  done
  wait "$pid" || rc=$?
  exec {lockfd}>&-
  local took=$((SECONDS - start))
  if (( rc != 0 )) || ! is_built "$name"; then
    log "FAILED: $(tool_desc "$name") after ${took}s (exit $rc). Last lines of $logf:"
    tail -n 25 "$logf" | sed 's/^/[tools]   | /' >&2
    die "build of '$name' failed; full log: $logf"
  fi
  log "built $(tool_desc "$name") in $((took / 60))m$((took % 60))s"
  printf '%s\t%s\t%ss\n' "$(date -u +%FT%TZ)" "$name" "$took" >>"$LOG_DIR/timings.tsv"
}

# ---------------------------------------------------------------------------------------------

bin_dirs() {
  echo "$PULUMI_DIR:$PROVIDER_DIR:$KUBE_DIR:$ETCD_DIR:$KWOK_DIR:$KUBE_SCORE_DIR:$COREDNS_DIR:$REGISTRY_DIR:$KUBE_ROUTER_DIR:$PROM_OPERATOR_DIR"
}

tool_path() {
  local p
  case "$1" in
    etcd) p="$ETCD_DIR/etcd" ;;
    kwok) p="$KWOK_DIR/kwok" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy) p="$KUBE_DIR/$1" ;;
    coredns) p="$COREDNS_DIR/coredns" ;;
    registry) p="$REGISTRY_DIR/registry" ;;
    kube-router) p="$KUBE_ROUTER_DIR/kube-router" ;;
    prometheus-operator) p="$PROM_OPERATOR_DIR/operator" ;;
    prometheus-config-reloader) p="$PROM_OPERATOR_DIR/prometheus-config-reloader" ;;
    prometheus) p="$PROMETHEUS_DIR/prometheus" ;;
    compose) p="$COMPOSE_DIR/docker-compose" ;;
    pulumi) p="$PULUMI_DIR/pulumi" ;;
    pulumi-resource-kubernetes|kubernetes-provider) p="$PROVIDER_DIR/pulumi-resource-kubernetes" ;;
    kube-score) p="$KUBE_SCORE_DIR/kube-score" ;;
    kwok-stages) p="$KWOK_DIR/stages" ;;
    kwok-portforward-crd) p="$KWOK_DIR/crds/portforwards.yaml" ;;
    podmonitor-crd) p="$PROM_DIR/podmonitors.yaml" ;;
    prometheusrule-crd) p="$PROM_DIR/prometheusrules.yaml" ;;
    prometheus-operator-crds) p="$PROM_DIR/all" ;;
    prometheus-operator-rbac) p="$PROM_DIR/rbac" ;;
    kafka|kafka-home) p="$KAFKA_DIR" ;;
    kafka-libs) p="$KAFKA_DIR/libs" ;;
    jmx-exporter) p="$JMX_DIR/jmx_prometheus_javaagent.jar" ;;
    *) die "unknown path name '$1' (etcd kwok kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns registry kube-router prometheus-operator prometheus-config-reloader prometheus compose pulumi pulumi-resource-kubernetes kube-score kwok-stages kwok-portforward-crd podmonitor-crd prometheusrule-crd prometheus-operator-crds prometheus-operator-rbac kafka-home kafka-libs jmx-exporter)" ;;
  esac
  echo "$p"
  [[ -e "$p" ]] || { log "$1 is not built yet ($p); run: $0"; return 1; }
}

# build_all builds every tool in two lanes at once: the two largest Go builds
# (the Kubernetes provider, then the Pulumi CLI: see build_pulumi) in one, everything else in the
# other. A Go build leaves cores idle while it downloads modules and links, so two
# lanes finish a cold cache well before one; the per-tool locks keep them apart.
# UMBRELLA_TOOLS_JOBS=1 builds one at a time.
build_all() { # [tool...] (default: all)
  local t want=("$@")
  ((${#want[@]})) || want=("${ALL_TOOLS[@]}")
  if [[ "${UMBRELLA_TOOLS_JOBS:-2}" == 1 ]]; then
    for t in "${want[@]}"; do build_one "$t"; done
    return
  fi
  local heavy=() rest=() pid rc=0
  for t in "${want[@]}"; do
    case "$t" in
      kubernetes-provider | pulumi | prometheus) heavy+=("$t") ;;
      *) rest+=("$t") ;;
    esac
  done
  ( for t in "${heavy[@]}"; do build_one "$t"; done ) &
  pid=$!
  ( for t in "${rest[@]}"; do build_one "$t"; done ) || rc=$?
  wait "$pid" || rc=$?
  (( rc == 0 )) || die "a tool build failed (see the lines above and the logs under $LOG_DIR)"
}

main() {
  local cmd="${1:-all}"
  case "$cmd" in
    all)
      local start=$SECONDS
      build_all
      log "all tools ready in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s under $TOOLS_DIR"
      ;;
    engine | node | core)
      local start=$SECONDS t list=()
      for t in "${ALL_TOOLS[@]}"; do
        if [[ " ${NODE_TOOLS[*]} " == *" $t "* ]]; then [[ "$cmd" == node ]] && list+=("$t")
        elif [[ " ${ENGINE_ONLY_TOOLS[*]} " == *" $t "* ]]; then [[ "$cmd" == engine ]] && list+=("$t")
        else [[ "$cmd" == engine || "$cmd" == core ]] && list+=("$t"); fi
      done
      build_all "${list[@]}"
      log "$cmd tools ready in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s under $TOOLS_DIR"
      ;;
    env)
      printf 'export UMBRELLA_TOOLS_DIR=%q\n' "$TOOLS_DIR"
      # shellcheck disable=SC2016 # $PATH is for the caller's shell to expand
      printf 'export PATH=%q:"$PATH"\n' "$(bin_dirs)"
      printf 'export UMBRELLA_KAFKA_HOME=%q\n' "$KAFKA_DIR"
      printf 'export UMBRELLA_JMX_EXPORTER_JAR=%q\n' "$JMX_DIR/jmx_prometheus_javaagent.jar"
      ;;
    path)
      [[ $# -eq 2 ]] || die "usage: $0 path NAME"
      tool_path "$2"
      ;;
    list)
      local t
      for t in "${ALL_TOOLS[@]}"; do
        if is_built "$t"; then printf '%-20s built   %s\n' "$t" "$(tool_desc "$t")"
        else printf '%-20s missing %s\n' "$t" "$(tool_desc "$t")"; fi
      done
      ;;
    -h|--help|help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      ;;
    *)
      local start=$SECONDS t
      for t in "$@"; do build_one "$t"; done
      log "done in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s"
      ;;
  esac
}

main "$@"
