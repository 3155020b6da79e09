#!/usr/bin/env bash
# scripts/monitoring.sh — the platform's monitoring on the real node tier, as a real cluster
# runs it: the Prometheus Operator v0.85.0 (scripts/tools.sh prometheus-operator) as a
# Deployment with its upstream RBAC in namespace `monitoring`, every monitoring.coreos.com CRD,
# and one `Prometheus` (Debian's prometheus, scripts/images.sh) that selects every PodMonitor,
# ServiceMonitor and PrometheusRule in every namespace, so it finds the program's PodMonitor and
# PrometheusRule exactly as the program ships them. The kubelets are scraped the way
# kube-prometheus does it (the operator keeps kube-system/kubelet Endpoints; a ServiceMonitor
# reads /metrics over TLS with the Prometheus service account's token), which gives the
# kubelet_volume_stats_* series the disk-fill alert reads.
#
# Usage (after scripts/cluster.sh start and scripts/node.sh start):
#   scripts/monitoring.sh start    install and wait until Prometheus is Ready; prints
#                                  `export UMBRELLA_PROMETHEUS=<pod IP>:9090`
#   scripts/monitoring.sh stop     delete what start made (the namespace `monitoring` stays)
#   scripts/monitoring.sh env      print the export line of a running Prometheus
#
# Environment: UMBRELLA_CLUSTER_DIR (default /tmp/umbrella-cluster), UMBRELLA_REGISTRY (the
# node tier's registry; default: scripts/node.sh env).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLUSTER_DIR="${UMBRELLA_CLUSTER_DIR:-/tmp/umbrella-cluster}"
KUBECTL="${KUBECTL:-kubectl}"
NS=monitoring
PROMETHEUS=platform # the Prometheus object; its pod is prometheus-platform-0

log() { printf '[monitoring] %s\n' "$*" >&2; }
die() { printf '[monitoring] ERROR: %s\n' "$*" >&2; exit 1; }
k() { "$KUBECTL" --kubeconfig "$CLUSTER_DIR/kubeconfig" "$@" 2> >(grep -v 'version difference' >&2); }

registry() {
  if [[ -z "${UMBRELLA_REGISTRY:-}" ]]; then
    eval "$("$SCRIPT_DIR/node.sh" env)"
  fi
  [[ -n "${UMBRELLA_REGISTRY:-}" ]] || die "no registry: start scripts/node.sh first"
  echo "$UMBRELLA_REGISTRY"
}

wait_for() { # description timeout command...
  local what="$1" timeout="$2" start=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    (( SECONDS - start > timeout )) && die "timed out after ${timeout}s waiting for $what"
    sleep 1
  done
}

# The operator as upstream ships it (example/rbac/prometheus-operator), in our namespace,
# with our images. What it made of each PodMonitor and PrometheusRule (selected or rejected)
# it exports on :8080/metrics (prometheus_operator_managed_resources).
operator_manifests() { # registry rbac-dir
  local reg="$1" rbac="$2" op reloader
  op=$("$SCRIPT_DIR/images.sh" ref prometheus-operator "$reg")
  reloader=$("$SCRIPT_DIR/images.sh" ref prometheus-config-reloader "$reg")
  local f
  for f in service-account cluster-role cluster-role-binding deployment; do
    echo "---"
    sed -e "s/namespace: default/namespace: $NS/" \
      -e "s#image: quay.io/prometheus-operator/prometheus-operator:v[0-9.]*#image: $op#" \
      -e "s#--prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader:v[0-9.]*#--prometheus-config-reloader=$reloader#" \
      "$rbac/prometheus-operator-$f.yaml"
  done
}

prometheus_manifests() { # registry rbac-dir
  local reg="$1" rbac="$2" image
  image=$("$SCRIPT_DIR/images.sh" ref prometheus "$reg")
  echo "---"
  cat "$rbac/prometheus-cluster-role.yaml"
  cat <<EOF
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: prometheus, namespace: $NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: prometheus}
subjects: [{kind: ServiceAccount, name: prometheus, namespace: $NS}]
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: $PROMETHEUS, namespace: $NS, labels: {umbrella.local/monitoring: platform}}
spec:
  image: $image
  version: v${image##*:}
  replicas: 1
  serviceAccountName: prometheus
  scrapeInterval: 15s
  evaluationInterval: 15s
  retention: 2h
  # Everything, everywhere: the program's PodMonitor and PrometheusRule as shipped.
  podMonitorSelector: {}
  podMonitorNamespaceSelector: {}
  serviceMonitorSelector: {}
  serviceMonitorNamespaceSelector: {}
  ruleSelector: {}
  ruleNamespaceSelector: {}
  resources:
    requests: {cpu: 50m, memory: 128Mi}
    limits: {cpu: "1", memory: 512Mi}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: kubelet, namespace: $NS, labels: {umbrella.local/monitoring: platform}}
spec:
  namespaceSelector: {matchNames: [kube-system]}
  selector: {matchLabels: {app.kubernetes.io/name: kubelet}}
  jobLabel: app.kubernetes.io/name
  endpoints:
  - port: https-metrics
    scheme: https
    path: /metrics
    honorLabels: true
    interval: 15s
    bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
    tlsConfig:
      caFile: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
      insecureSkipVerify: false
EOF
}

prometheus_ip() {
  k -n "$NS" get pod "prometheus-$PROMETHEUS-0" -o jsonpath='{.status.podIP}'
}

prometheus_ready() {
  [[ "$(k -n "$NS" get pod "prometheus-$PROMETHEUS-0" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}

cmd_start() {
  local t0=$SECONDS reg crds rbac
  [[ -f "$CLUSTER_DIR/kubeconfig" ]] || die "no control plane at $CLUSTER_DIR: run scripts/cluster.sh start"
  eval "$("$SCRIPT_DIR/tools.sh" env)"
  reg=$(registry)
  crds=$("$SCRIPT_DIR/tools.sh" path prometheus-operator-crds) || die "run: scripts/tools.sh prometheus-crds"
  rbac=$("$SCRIPT_DIR/tools.sh" path prometheus-operator-rbac) || die "run: scripts/tools.sh prometheus-crds"
  k get namespace "$NS" >/dev/null 2>&1 || k create namespace "$NS" >/dev/null
  # The CRDs are too large for a client-side apply's last-applied annotation.
  k apply --server-side --force-conflicts -f "$crds" >/dev/null
  k wait --for condition=Established --timeout=60s -f "$crds" >/dev/null
  operator_manifests "$reg" "$rbac" | k apply -f - >/dev/null
  k -n "$NS" rollout status deployment/prometheus-operator --timeout=180s >&2
  prometheus_manifests "$reg" "$rbac" | k apply -f - >/dev/null
  wait_for "the operator to make statefulset prometheus-$PROMETHEUS" 120 k -n "$NS" get statefulset "prometheus-$PROMETHEUS"
  wait_for "Prometheus pod prometheus-$PROMETHEUS-0 Ready" 300 prometheus_ready
  log "ready in $((SECONDS - t0))s: Prometheus $(prometheus_ip):9090 in $NS, operator v$(k -n "$NS" get deploy prometheus-operator -o jsonpath='{.metadata.labels.app\.kubernetes\.io/version}')"
  print_env
}

print_env() {
  echo "export UMBRELLA_PROMETHEUS=$(prometheus_ip):9090"
}

cmd_stop() {
  [[ -f "$CLUSTER_DIR/kubeconfig" ]] || { log "no control plane: nothing to stop"; return 0; }
  k -n "$NS" delete prometheus "$PROMETHEUS" --ignore-not-found --wait=true >/dev/null 2>&1 || true
  k -n "$NS" delete servicemonitor kubelet --ignore-not-found >/dev/null 2>&1 || true
  k -n "$NS" delete deployment prometheus-operator --ignore-not-found --wait=true >/dev/null 2>&1 || true
  k -n "$NS" delete serviceaccount prometheus prometheus-operator --ignore-not-found >/dev/null 2>&1 || true
  k delete clusterrolebinding prometheus prometheus-operator --ignore-not-found >/dev/null 2>&1 || true
  k delete clusterrole prometheus prometheus-operator --ignore-not-found >/dev/null 2>&1 || true
  log "stopped"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) print_env ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
