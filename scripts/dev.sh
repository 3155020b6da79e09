#!/usr/bin/env bash
# scripts/dev.sh — the main job on a fresh machine: build the cached tools, start a local
# Kubernetes control plane on 127.0.0.1 with one real node (kubelet + containerd + runc +
# CNI + kube-proxy + CoreDNS, scripts/node.sh), build the project's images and push them to
# a registry on 127.0.0.1 (scripts/images.sh), and run `up` of the dev stack through the
# real Pulumi engine. The stack file is used as shipped; only the image names point at the
# local registry. The topics are created by the provider through a port-forward into the
# real broker pod (topics.access: kubernetes). NetworkPolicy is enforced (kube-router), and the
# platform's Prometheus (Prometheus Operator, scripts/monitoring.sh) scrapes the broker through
# the program's PodMonitor and evaluates its PrometheusRule. Prints how long the broker took to
# become Ready and the topics to exist, then where the metrics are, the scrape targets up and
# the alerts firing.
#
#   scripts/dev.sh            up (default)
#   scripts/dev.sh preview    preview only
#   scripts/dev.sh down       destroy the dev stack and stop the node and the control plane
#
# Needs root (the node's network, mounts and containerd).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
action="${1:-up}"
case "$action" in up | preview | down) ;; *) echo "usage: $0 [up|preview|down]" >&2; exit 2 ;; esac
[[ $(id -u) -eq 0 ]] || { echo "scripts/dev.sh needs root (the real node's network, mounts and containerd)" >&2; exit 1; }

scripts/packages.sh node prom
# The images are those of the dev stack's Kafka release (kafka.version in Pulumi.dev.yaml):
# scripts/tools.sh and scripts/images.sh build, name and push that release's jars and images.
UMBRELLA_KAFKA_VERSION=$(go run ./cmd/umbrella -stack dev kafka-version)
export UMBRELLA_KAFKA_VERSION
echo "[dev] Kafka $UMBRELLA_KAFKA_VERSION (kafka.version of the dev stack)" >&2
scripts/tools.sh pulumi kubernetes-provider etcd kube prometheus-crds kafka jmx-exporter coredns registry kube-router prometheus-operator
eval "$(scripts/tools.sh env)"
go build -o bin/pulumi-resource-umbrellakafka ./cmd/pulumi-resource-umbrellakafka
export PATH="$PWD/bin:$PATH"
# The real node takes every pod: no fake (kwok) nodes, and local volumes on the node.
export UMBRELLA_CLUSTER_NODES=0 UMBRELLA_CLUSTER_PVS=0

umbrella() { # the dev stack with the local registry's image names
  local image loadgen
  image=$(scripts/images.sh ref kafka "$UMBRELLA_REGISTRY")
  loadgen=$(scripts/images.sh ref kafka-loadgen "$UMBRELLA_REGISTRY") # holds /kafka-lag-exporter
  go run ./cmd/umbrella -stack dev -set "image={\"name\":\"$image\"}" \
    -set "monitoring={\"agentImage\":\"$image\",\"lagExporterImage\":\"$loadgen\"}" "$@"
}

if [[ "$action" == down ]]; then
  if scripts/cluster.sh status >/dev/null 2>&1 && scripts/node.sh status >/dev/null 2>&1; then
    eval "$(scripts/cluster.sh env)"
    eval "$(scripts/node.sh env)"
    umbrella destroy
  fi
  scripts/node.sh stop
  scripts/cluster.sh stop
  exit 0
fi

eval "$(scripts/cluster.sh start)"
eval "$(scripts/node.sh start 1)"
eval "$(scripts/monitoring.sh start)"
# Namespaces a platform cluster already has (the dashboard ConfigMap lands in umbrella-infra).
for ns in umbrella-infra monitoring; do
  kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns" >/dev/null
done

if [[ "$action" == up ]]; then
  start=$SECONDS
  (
    until [[ "$(kubectl -n umbrella-streaming get pod kafka-0 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]; do
      sleep 1
    done
    echo "[dev] FIGURE up -> kafka-0 Ready: $((SECONDS - start)) s" >&2
  ) &
  watcher=$!
  trap 'kill "$watcher" 2>/dev/null || true' EXIT
  umbrella up
  echo "[dev] FIGURE up -> all topics created (up finished): $((SECONDS - start)) s" >&2
  wait "$watcher" 2>/dev/null || true
else
  umbrella "$action"
fi
# The metrics, as Prometheus sees them now (the first scrape may still be due).
prom() { curl -fsS --max-time 10 "http://$UMBRELLA_PROMETHEUS/api/v1/$1"; }
summary=$(
  targets=$(prom targets) && alerts=$(prom alerts) &&
    jq -rn --argjson t "$targets" --argjson a "$alerts" '
      ($t.data.activeTargets | map(select(.labels.namespace == "umbrella-streaming"))) as $k |
      "Prometheus: \($k | map(select(.health == "up")) | length) of \($k | length) targets up in umbrella-streaming (\($k | map(.labels.pod) | join(", "))); " +
      "alerts firing: \([$a.data.alerts[] | select(.state == "firing") | .labels.alertname] | unique | join(", ") | if . == "" then "none" else . end)"'
) || summary="Prometheus did not answer at $UMBRELLA_PROMETHEUS"
echo
echo "$summary"
echo "metrics: kubectl -n monitoring port-forward prometheus-platform-0 9090:9090, then http://127.0.0.1:9090 (from this machine also http://$UMBRELLA_PROMETHEUS)"
echo "KUBECONFIG=$KUBECONFIG  (kubectl -n umbrella-streaming get pods -o wide)"
echo "topics: kubectl -n umbrella-streaming exec kafka-0 -- /opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe"
echo "tear down: scripts/dev.sh down"
