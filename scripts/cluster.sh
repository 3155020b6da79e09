#!/usr/bin/env bash
# scripts/cluster.sh — a local Kubernetes control plane on 127.0.0.1 for tests:
# etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok (the fake kubelet,
# only when there are fake nodes),
# with its own certificates, free ports picked at start, fake Nodes managed by kwok, the
# PortForward, PodMonitor and PrometheusRule CRDs, and a default StorageClass `standard` with
# pre-created hostPath PersistentVolumes so StatefulSet claims bind.
#
# Usage:
#   scripts/cluster.sh start     start (or reuse a running one) and wait until ready; prints
#                                `export KUBECONFIG=...` (eval "$(scripts/cluster.sh start)")
#   scripts/cluster.sh stop      stop every process it started (by PID) and remove the state
#   scripts/cluster.sh status    report processes, ports and readiness (exit 0 only if ready)
#   scripts/cluster.sh env       print the export lines of a running cluster
#
# Environment:
#   UMBRELLA_CLUSTER_DIR    state dir (pids, logs, certs, kubeconfig); default /tmp/umbrella-cluster
#   UMBRELLA_CLUSTER_NODES  number of fake Nodes (default 3; zones zone-a, zone-b, zone-c, ...)
#   UMBRELLA_CLUSTER_PVS    number of pre-created 100Gi hostPath PVs (default 6)
#   UMBRELLA_TOOLS_DIR      where scripts/tools.sh caches the binaries
#   KUBECTL                 kubectl to use (default: kubectl on PATH)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="${UMBRELLA_CLUSTER_DIR:-/tmp/umbrella-cluster}"
NODES="${UMBRELLA_CLUSTER_NODES:-3}"
PVS="${UMBRELLA_CLUSTER_PVS:-6}"
KUBECTL="${KUBECTL:-kubectl}"
KUBECONFIG_FILE="$STATE_DIR/kubeconfig"
CERTS="$STATE_DIR/certs"
PIDS="$STATE_DIR/pids"
LOGS="$STATE_DIR/logs"
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
# kwok plays the kubelet of the fake nodes; with none (the real node tier, scripts/dev.sh:
# UMBRELLA_CLUSTER_NODES=0) it is neither started nor needed built. Stop always looks for it.
with_kwok() { ((NODES > 0)); }
started() { # the components a start runs
  local c
  for c in "${COMPONENTS[@]}"; do
    [[ "$c" != kwok ]] || with_kwok && echo "$c"
  done
}
SERVICE_CIDR=198.19.128.0/20 # inside 198.18.0.0/15 (see scripts/node.sh); never 10/8 here
SERVICE_IP=198.19.128.1
READY_TIMEOUT="${UMBRELLA_CLUSTER_TIMEOUT:-90}"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# kubectl against this cluster, with the version-skew warning (kubectl 1.32 vs 1.35) silenced.
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@" 2> >(grep -v 'version difference' >&2); }

# ---------------------------------------------------------------------------------------------
# Processes

pid_of() { [[ -s "$PIDS/$1.pid" ]] && cat "$PIDS/$1.pid"; }

# Alive and still the program we started (guards against PID reuse). Right after
# launch the process can still be `setsid` about to exec the program: count that too,
# or a loaded machine reports a starting component as exited.
is_running() {
  local pid; pid=$(pid_of "$1") || return 1
  local cmd; cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  local first="${cmd%% *}" rest="${cmd#* }"
  if [[ "${first##*/}" == setsid ]]; then first="${rest%% *}"; fi
  [[ "${first##*/}" == "$1" ]]
}

launch() { # name binary args...
  local name="$1"; shift
  # setsid: own session, so a Ctrl-C in the calling terminal does not take the cluster down.
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

stop_all() {
  local c pid i any=0
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    c="${COMPONENTS[i]}"
    if is_running "$c"; then
      pid=$(pid_of "$c")
      kill -TERM "$pid" 2>/dev/null || true
      any=1
    fi
  done
  for c in "${COMPONENTS[@]}"; do
    pid=$(pid_of "$c") || continue
    for ((i = 0; i < 100; i++)); do
      is_running "$c" || break
      sleep 0.1
    done
    if is_running "$c"; then
      log "$c (pid $pid) ignored SIGTERM; killing"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
    is_running "$c" && die "could not stop $c (pid $pid)"
    rm -f "$PIDS/$c.pid"
  done
  return $((1 - any))
}

# ---------------------------------------------------------------------------------------------
# Ports and certificates

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Sets PORT to a free TCP port on 127.0.0.1 not handed out before by this run.
declare -A TAKEN=()
PORT=
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    [[ -z "${TAKEN[$p]:-}" ]] || continue
    port_in_use "$p" && continue
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && continue
    TAKEN[$p]=1
    PORT=$p
    return
  done
}

# sign NAME CN ORG SANS(comma list or "") USAGE(server|client|both) [CA]
sign() {
  local name="$1" cn="$2" org="$3" sans="$4" usage="$5" ca="${6:-ca}"
  local subj="/CN=$cn" ext="$CERTS/$name.ext" eku
  [[ -n "$org" ]] && subj="/O=$org$subj"
  case "$usage" in
    server) eku=serverAuth ;;
    client) eku=clientAuth ;;
    both) eku="serverAuth,clientAuth" ;;
  esac
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n "$sans" ]] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$CERTS/$name.key" -subj "$subj" \
    -out "$CERTS/$name.csr" 2>/dev/null
  openssl x509 -req -in "$CERTS/$name.csr" -CA "$CERTS/$ca.crt" -CAkey "$CERTS/$ca.key" \
    -CAcreateserial -days 3650 -extfile "$ext" -out "$CERTS/$name.crt" 2>/dev/null
  rm -f "$CERTS/$name.csr" "$ext"
}

make_ca() { # name cn
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -keyout "$CERTS/$1.key" -out "$CERTS/$1.crt" 2>/dev/null
}

make_certs() {
  mkdir -p "$CERTS"
  make_ca ca umbrella-cluster-ca
  make_ca front-proxy-ca umbrella-front-proxy-ca
  local sans="DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  sans+=",DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$SERVICE_IP"
  sign apiserver kube-apiserver "" "$sans" server
  sign apiserver-kubelet-client kube-apiserver-kubelet-client system:masters "" client
  sign admin admin system:masters "" client
  sign controller-manager system:kube-controller-manager "" "" client
  sign scheduler system:kube-scheduler "" "" client
  # kwok plays the kubelet of every fake node and manages pods, nodes, leases and its CRDs.
  sign kwok kwok system:masters "" client
  sign kwok-serving kwok "" "DNS:localhost,IP:127.0.0.1" server
  sign front-proxy-client front-proxy-client "" "" client front-proxy-ca
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CERTS/sa.key" 2>/dev/null
  openssl pkey -in "$CERTS/sa.key" -pubout -out "$CERTS/sa.pub" 2>/dev/null
}

b64() { base64 -w0 <"$1"; }

write_kubeconfig() { # file user server  (certificates embedded: the file stands alone)
  local f="$1" user="$2" server="$3"
  (
    umask 077
    cat >"$f" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: umbrella
  cluster:
    server: $server
    certificate-authority-data: $(b64 "$CERTS/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(b64 "$CERTS/$user.crt")
    client-key-data: $(b64 "$CERTS/$user.key")
contexts:
- name: umbrella
  context: {cluster: umbrella, user: $user}
current-context: umbrella
EOF
  )
}

# ---------------------------------------------------------------------------------------------
# Waiting

wait_for() { # description timeout command...
  local what="$1" timeout="$2" start=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    local c
    for c in "${COMPONENTS[@]}"; do
      if [[ -e "$PIDS/$c.pid" ]] && ! is_running "$c"; then
        log "$c exited while waiting for $what; last lines of $LOGS/$c.log:"
        tail -n 20 "$LOGS/$c.log" | sed 's/^/[cluster]   | /' >&2
        stop_all || true
        die "$c failed to start (log: $LOGS/$c.log)"
      fi
    done
    if (( SECONDS - start > timeout )); then
      stop_all || true
      die "timed out after ${timeout}s waiting for $what (logs: $LOGS)"
    fi
    sleep 0.2
  done
}

apiserver_ready() {
  curl -fsS --cacert "$CERTS/ca.crt" --cert "$CERTS/admin.crt" --key "$CERTS/admin.key" \
    "https://127.0.0.1:$(cat "$STATE_DIR/ports/apiserver")/readyz" | grep -qx ok
}

etcd_ready() { curl -fsS "http://127.0.0.1:$(cat "$STATE_DIR/ports/etcd")/health" | grep -q '"health":"true"'; }

nodes_ready() {
  local n
  n=$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')
  [[ "$n" -ge "$NODES" ]]
}

default_sa_exists() { k -n default get serviceaccount default; }

# ---------------------------------------------------------------------------------------------
# Objects installed at start

node_manifest() { # index
  local i="$1" zones=(a b c d e f g h) name="kwok-node-$1"
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: $name
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: zone-${zones[i % 8]}
    type: kwok
spec: {}
status:
  allocatable: {cpu: "32", memory: 128Gi, pods: "110", ephemeral-storage: 500Gi}
  capacity: {cpu: "32", memory: 128Gi, pods: "110", ephemeral-storage: 500Gi}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: fake
    kubeProxyVersion: fake
EOF
}

storage_manifest() {
  cat <<'EOF'
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
  local i
  for ((i = 0; i < PVS; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-pv-$i
  labels: {umbrella.local/pv: "true"}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: standard
  volumeMode: Filesystem
  hostPath: {path: $STATE_DIR/volumes/pv-$i, type: DirectoryOrCreate}
EOF
  done
}

# ---------------------------------------------------------------------------------------------

print_env() {
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_FILE"
}

cmd_start() {
  if is_running kube-apiserver && [[ -f "$KUBECONFIG_FILE" ]] && apiserver_ready 2>/dev/null; then
    log "already running (state: $STATE_DIR)"
    print_env
    return 0
  fi
  local t0=$SECONDS
  [[ -d "$STATE_DIR" ]] && { stop_all 2>/dev/null || true; }
  rm -rf "$STATE_DIR"
  mkdir -p "$STATE_DIR"/{ports,volumes} "$PIDS" "$LOGS"

  # Binaries from the tools cache (built by scripts/tools.sh).
  eval "$("$SCRIPT_DIR/tools.sh" env)"
  local b
  for b in $(started); do
    command -v "$b" >/dev/null || die "$b is not built; run: scripts/tools.sh"
  done
  command -v "$KUBECTL" >/dev/null || die "kubectl not found (set KUBECTL)"
  local stages portforward_crd podmonitor_crd rule_crd
  if with_kwok; then
    stages=$("$SCRIPT_DIR/tools.sh" path kwok-stages) || die "run: scripts/tools.sh kwok"
    portforward_crd=$("$SCRIPT_DIR/tools.sh" path kwok-portforward-crd) || die "run: scripts/tools.sh kwok"
  fi
  podmonitor_crd=$("$SCRIPT_DIR/tools.sh" path podmonitor-crd) || die "run: scripts/tools.sh prometheus-crds"
  rule_crd=$("$SCRIPT_DIR/tools.sh" path prometheusrule-crd) || die "run: scripts/tools.sh prometheus-crds"

  local etcd_port etcd_peer api_port kcm_port sched_port kwok_port
  free_port; etcd_port=$PORT
  free_port; etcd_peer=$PORT
  free_port; api_port=$PORT
  free_port; kcm_port=$PORT
  free_port; sched_port=$PORT
  free_port; kwok_port=$PORT
  echo "$etcd_port" >"$STATE_DIR/ports/etcd"
  echo "$api_port" >"$STATE_DIR/ports/apiserver"
  echo "$kcm_port" >"$STATE_DIR/ports/controller-manager"
  echo "$sched_port" >"$STATE_DIR/ports/scheduler"
  echo "$kwok_port" >"$STATE_DIR/ports/kwok"

  make_certs
  local server="https://127.0.0.1:$api_port"
  write_kubeconfig "$KUBECONFIG_FILE" admin "$server"
  write_kubeconfig "$STATE_DIR/controller-manager.kubeconfig" controller-manager "$server"
  write_kubeconfig "$STATE_DIR/scheduler.kubeconfig" scheduler "$server"
  write_kubeconfig "$STATE_DIR/kwok.kubeconfig" kwok "$server"

  launch etcd etcd --name default --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "default=http://127.0.0.1:$etcd_peer" --unsafe-no-fsync --log-level warn
  wait_for etcd 30 etcd_ready

  launch kube-apiserver kube-apiserver \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --endpoint-reconciler-type=none \
    --tls-cert-file "$CERTS/apiserver.crt" --tls-private-key-file "$CERTS/apiserver.key" \
    --client-ca-file "$CERTS/ca.crt" \
    --authorization-mode Node,RBAC \
    --allow-privileged=true \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$CERTS/sa.pub" \
    --service-account-signing-key-file "$CERTS/sa.key" \
    --kubelet-client-certificate "$CERTS/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$CERTS/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$CERTS/ca.crt" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --requestheader-client-ca-file "$CERTS/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User \
    --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$CERTS/front-proxy-client.crt" \
    --proxy-client-key-file "$CERTS/front-proxy-client.key" \
    --enable-priority-and-fairness=false \
    --v=1
  wait_for "kube-apiserver /readyz" "$READY_TIMEOUT" apiserver_ready

  launch kube-controller-manager kube-controller-manager \
    --kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file "$CERTS/sa.key" \
    --root-ca-file "$CERTS/ca.crt" \
    --cluster-signing-cert-file "$CERTS/ca.crt" --cluster-signing-key-file "$CERTS/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --v=1
  launch kube-scheduler kube-scheduler \
    --kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" \
    --leader-elect=false \
    --v=1

  k apply --server-side -f "$podmonitor_crd" -f "$rule_crd" >"$LOGS/crds.log"
  k wait --for condition=Established --timeout 30s \
    crd/podmonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com >>"$LOGS/crds.log"
  with_kwok && start_kwok "$stages" "$portforward_crd" "$kwok_port"

  local i
  {
    for ((i = 0; i < NODES; i++)); do node_manifest "$i"; done
    storage_manifest
  } >"$STATE_DIR/objects.yaml"
  k apply -f "$STATE_DIR/objects.yaml" >"$LOGS/objects.log"

  wait_for "nodes Ready" "$READY_TIMEOUT" nodes_ready
  wait_for "default ServiceAccount" "$READY_TIMEOUT" default_sa_exists
  log "ready in $((SECONDS - t0))s: apiserver $server, $NODES kwok nodes, $PVS PVs (state: $STATE_DIR)"
  print_env
}

# start_kwok STAGES_DIR PORTFORWARD_CRD PORT: kwok with its Stage objects (node-initialize,
# heartbeat with lease, pod ready/complete/delete) and its PortForward CRD.
start_kwok() {
  local stages="$1" portforward_crd="$2" kwok_port="$3" f kwok_config="$STATE_DIR/kwok.yaml"
  {
    # (No KwokConfiguration document: an explicit one with empty options zeroes kwok's defaults.)
    for f in "$stages"/*.yaml; do
      echo "---"
      cat "$f"
    done
  } >"$kwok_config"
  k apply --server-side -f "$portforward_crd" >>"$LOGS/crds.log"
  k wait --for condition=Established --timeout 30s crd/portforwards.kwok.x-k8s.io >>"$LOGS/crds.log"
  launch kwok kwok \
    --config "$kwok_config" \
    --kubeconfig "$STATE_DIR/kwok.kubeconfig" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 127.0.0.1 --node-port "$kwok_port" \
    --server-address "127.0.0.1:$kwok_port" \
    --tls-cert-file "$CERTS/kwok-serving.crt" --tls-private-key-file "$CERTS/kwok-serving.key" \
    --enable-crds PortForward \
    --node-lease-duration-seconds 40
}

cmd_stop() {
  if [[ ! -d "$PIDS" ]]; then
    log "not running (no $PIDS)"
    return 0
  fi
  if stop_all; then log "stopped"; else log "nothing was running"; fi
  rm -rf "$STATE_DIR"
}

cmd_status() {
  local c ok=0
  if [[ ! -d "$PIDS" ]]; then
    log "not running (state dir $STATE_DIR absent)"
    return 1
  fi
  for c in $(started); do
    if is_running "$c"; then
      printf '%-24s running (pid %s)\n' "$c" "$(pid_of "$c")"
    else
      printf '%-24s NOT running (log: %s)\n' "$c" "$LOGS/$c.log"
      ok=1
    fi
  done
  if [[ -f "$STATE_DIR/ports/apiserver" ]] && apiserver_ready 2>/dev/null; then
    printf '%-24s https://127.0.0.1:%s ready\n' apiserver "$(cat "$STATE_DIR/ports/apiserver")"
    k get nodes --no-headers 2>/dev/null | awk '{printf "%-24s %s\n", "node " $1, $2}'
  else
    printf '%-24s not ready\n' apiserver
    ok=1
  fi
  printf '%-24s %s\n' kubeconfig "$KUBECONFIG_FILE"
  return "$ok"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) [[ -f "$KUBECONFIG_FILE" ]] || die "not running"; print_env ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
