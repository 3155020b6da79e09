#!/usr/bin/env bash
# scripts/node.sh — real Kubernetes nodes on this machine, joined to the local control plane
# of scripts/cluster.sh: per node a containerd (Debian) with runc and the CNI bridge plugin,
# and a kubelet v1.35.4 (scripts/tools.sh); shared by all nodes a kube-proxy (iptables mode,
# so ClusterIP Services work), kube-router's network-policy controller (NetworkPolicy is
# enforced, with iptables and ipset), CoreDNS serving cluster.local, and a container
# registry on 127.0.0.1 holding the project's images (scripts/images.sh pushes them).
#
# Addresses (all inside 198.18.0.0/15, the range reserved for benchmarking; nothing is routed
# off the machine, no NAT is added, nothing is sent to 10/8, 172.16/12 or 192.168/16):
#   node N             198.19.0.N/32 on lo              (node-1, node-2, ...)
#   pods on node N     198.18.N.0/24 on bridge umbN     (gateway 198.18.N.1)
#   services           198.19.128.0/20                  (scripts/cluster.sh SERVICE_CIDR)
#   cluster DNS        198.19.0.53/32 on lo             (CoreDNS, kubelet clusterDNS)
#   API server relay   198.19.0.254:443 on lo           (pods reach the API server: the
#                                                        `kubernetes` Service's endpoint)
#
# Usage:
#   scripts/node.sh start [N]    start N real nodes (default 1) and push the images; prints
#                                `export UMBRELLA_REGISTRY=...`
#   scripts/node.sh stop         delete the pods, stop everything by PID, unmount, and remove
#                                the bridges, lo addresses, network namespaces and iptables
#                                chains it added
#   scripts/node.sh status       report processes and node readiness (exit 0 only if ready)
#   scripts/node.sh policy off   stop enforcing NetworkPolicy (stop kube-router, remove its
#                                chains and sets): the tests show a probe pass without it
#   scripts/node.sh policy on    start enforcing it again
#   scripts/node.sh env          print the export lines of running nodes
#
# Environment:
#   UMBRELLA_CLUSTER_DIR    the control plane's state dir (default /tmp/umbrella-cluster);
#                           start it with UMBRELLA_CLUSTER_NODES=0 UMBRELLA_CLUSTER_PVS=0 so
#                           no fake node takes the pods
#   UMBRELLA_NODE_DIR       this script's state dir (default /tmp/umbrella-node)
#   UMBRELLA_REGISTRY_PORT  registry port on 127.0.0.1 (default 5000)
#   UMBRELLA_NODE_PVS       local PersistentVolumes per node (default 4)
# Needs root (network, mounts, containerd) and: containerd runc containernetworking-plugins
# iptables ipset conntrack socat (Debian), kubelet kube-proxy kube-router coredns registry
# (scripts/tools.sh).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLUSTER_DIR="${UMBRELLA_CLUSTER_DIR:-/tmp/umbrella-cluster}"
STATE_DIR="${UMBRELLA_NODE_DIR:-/tmp/umbrella-node}"
REGISTRY_PORT="${UMBRELLA_REGISTRY_PORT:-5000}"
REGISTRY="127.0.0.1:$REGISTRY_PORT"
NODE_PVS="${UMBRELLA_NODE_PVS:-4}"
KUBECTL="${KUBECTL:-kubectl}"
CNI_BIN=/usr/lib/cni
POD_RANGE=198.18.0.0/15
CLUSTER_CIDR=198.18.0.0/16
DNS_IP=198.19.0.53
API_RELAY_IP=198.19.0.254
PIDS="$STATE_DIR/pids"
LOGS="$STATE_DIR/logs"
CERTS="$STATE_DIR/certs"
FORWARD_CHAIN=UMBRELLA-NODE-FORWARD
# Every kubelet's device-plugin registration socket: a fixed path, whatever --root-dir says.
DEVICE_PLUGIN_SOCK=/var/lib/kubelet/device-plugins/kubelet.sock
SERVICE_CIDR=$(sed -n 's/^SERVICE_CIDR=\([0-9./]*\).*/\1/p' "$SCRIPT_DIR/cluster.sh") # one place: cluster.sh

log() { printf '[node] %s\n' "$*" >&2; }
die() { printf '[node] ERROR: %s\n' "$*" >&2; exit 1; }

k() { "$KUBECTL" --kubeconfig "$CLUSTER_DIR/kubeconfig" "$@" 2> >(grep -v 'version difference' >&2); }

node_name() { echo "node-$1"; }
node_ip() { echo "198.19.0.$1"; }
node_bridge() { echo "umb$1"; }
node_subnet() { echo "198.18.$1.0/24"; }
node_gateway() { echo "198.18.$1.1"; }
node_zone() { local z=(a b c d e f g h); echo "zone-${z[($1 - 1) % 8]}"; }
node_count() { cat "$STATE_DIR/nodes" 2>/dev/null || echo 0; }

# ---------------------------------------------------------------------------------------------
# Processes (by PID file; a PID counts only while its command line is still ours)

pid_of() { [[ -s "$PIDS/$1.pid" ]] && cat "$PIDS/$1.pid"; }

is_running() {
  local pid; pid=$(pid_of "$1") || return 1
  local cmd; cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ "$cmd" == *"$STATE_DIR"* ]]
}

launch() { # name binary args...
  local name="$1" pid i; shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDS/$name.pid"
  # Until the child has exec'd, /proc shows this shell's command line, which is_running
  # would not recognise: wait for the exec (or the child's end) before going on.
  for ((i = 0; i < 200; i++)); do
    [[ "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" == *"$STATE_DIR"* ]] && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
}

stop_proc() { # name
  local name="$1" pid i
  pid=$(pid_of "$name") || return 0
  if is_running "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do is_running "$name" || break; sleep 0.1; done
    if is_running "$name"; then
      log "$name (pid $pid) ignored SIGTERM; killing"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.3
    fi
  fi
  rm -f "$PIDS/$name.pid"
}

# stop_proc for a process that forks workers (socat): its whole process group (launch
# starts each in its own session, so the group id is its PID).
stop_group() { # name
  local pid
  pid=$(pid_of "$1") || return 0
  if is_running "$1"; then kill -TERM -- "-$pid" 2>/dev/null || true; fi
  stop_proc "$1"
}

# With WAIT_LOG set (a component's name), a timeout shows the end of that component's log.
wait_for() { # description timeout command...
  local what="$1" timeout="$2" start=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    local f name
    for f in "$PIDS"/*.pid; do
      [[ -e "$f" ]] || continue
      name=$(basename "$f" .pid)
      if ! is_running "$name"; then
        log "$name exited while waiting for $what; last lines of $LOGS/$name.log:"
        tail -n 30 "$LOGS/$name.log" | sed 's/^/[node]   | /' >&2
        die "$name failed (log: $LOGS/$name.log); clean up with: scripts/node.sh stop"
      fi
    done
    if (( SECONDS - start > timeout )); then
      if [[ -n "${WAIT_LOG:-}" && -f "$LOGS/$WAIT_LOG.log" ]]; then
        log "last lines of $LOGS/$WAIT_LOG.log:"
        tail -n 30 "$LOGS/$WAIT_LOG.log" | sed 's/^/[node]   | /' >&2
      fi
      die "timed out after ${timeout}s waiting for $what (logs: $LOGS)"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------
# Certificates: signed by the control plane's CA, so the API server trusts the kubelets and
# the kubelets trust the API server's client certificate.

sign() { # name cn org sans usage
  local name="$1" cn="$2" org="$3" sans="$4" usage="$5" subj ext="$CERTS/$1.ext"
  subj="/CN=$cn"
  [[ -n "$org" ]] && subj="/O=$org$subj"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n "$sans" ]] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$CERTS/$name.key" \
    -subj "$subj" -out "$CERTS/$name.csr" 2>/dev/null
  openssl x509 -req -in "$CERTS/$name.csr" -CA "$CLUSTER_DIR/certs/ca.crt" -CAkey "$CLUSTER_DIR/certs/ca.key" \
    -CAcreateserial -days 3650 -extfile "$ext" -out "$CERTS/$name.crt" 2>/dev/null
  rm -f "$CERTS/$name.csr" "$ext"
}

kubeconfig_for() { # file cert-name
  local server; server=$(sed -n 's/^[[:space:]]*server: //p' "$CLUSTER_DIR/kubeconfig" | head -n1)
  (
    umask 077
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: umbrella
  cluster: {server: "$server", certificate-authority: "$CLUSTER_DIR/certs/ca.crt"}
users:
- name: $2
  user: {client-certificate: "$CERTS/$2.crt", client-key: "$CERTS/$2.key"}
contexts:
- name: umbrella
  context: {cluster: umbrella, user: $2}
current-context: umbrella
EOF
  )
}

# ---------------------------------------------------------------------------------------------
# Network: lo addresses, forwarding, and a FORWARD guard that drops anything a pod sends
# outside 198.18.0.0/15 (pods only have a route for that range; this makes it a rule).

# containerd puts the containers' cgroups under k8s.io in every v1 hierarchy; remember
# whether that existed, so stop removes only what this tier made (rmdir: empty ones).
CGROUP_PARENT=k8s.io
cgroups_note() {
  local d
  for d in /sys/fs/cgroup/*/"$CGROUP_PARENT"; do [[ -d "$d" ]] && echo "$d"; done >"$STATE_DIR/cgroups.before" || true
}
cgroups_clean() {
  local d
  [[ -f "$STATE_DIR/cgroups.before" ]] || return 0
  for d in /sys/fs/cgroup/*/"$CGROUP_PARENT"; do
    [[ -d "$d" ]] || continue
    grep -qxF "$d" "$STATE_DIR/cgroups.before" && continue
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

net_up() {
  local n="$1" i
  cat /proc/sys/net/ipv4/ip_forward >"$STATE_DIR/ip_forward.before"
  echo 1 >/proc/sys/net/ipv4/ip_forward
  echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
  ip addr add "$DNS_IP/32" dev lo 2>/dev/null || true
  echo "$DNS_IP/32" >>"$STATE_DIR/lo-addrs"
  for ((i = 1; i <= n; i++)); do
    ip addr add "$(node_ip "$i")/32" dev lo 2>/dev/null || true
    echo "$(node_ip "$i")/32" >>"$STATE_DIR/lo-addrs"
  done
  iptables -N "$FORWARD_CHAIN" 2>/dev/null || iptables -F "$FORWARD_CHAIN"
  iptables -A "$FORWARD_CHAIN" -s "$POD_RANGE" -d "$POD_RANGE" -j RETURN
  iptables -A "$FORWARD_CHAIN" -s "$POD_RANGE" -j DROP
  iptables -A "$FORWARD_CHAIN" -d "$POD_RANGE" -j DROP
  iptables -C FORWARD -j "$FORWARD_CHAIN" 2>/dev/null || iptables -I FORWARD 1 -j "$FORWARD_CHAIN"
}

# Removes every iptables rule and chain named KUBE-* or CNI-* (kubelet, kube-proxy and the
# CNI portmap plugin add them) and our FORWARD guard, in iptables and ip6tables.
iptables_clean() {
  local tool table chain rule
  for tool in iptables ip6tables; do
    command -v "$tool" >/dev/null || continue
    for table in filter nat mangle; do
      { "$tool-save" -t "$table" 2>/dev/null || true; } | { grep -E "^-A [A-Z]+ .*-j (KUBE-|CNI-|$FORWARD_CHAIN)" || true; } |
        while read -r rule; do
          # shellcheck disable=SC2086 # the saved rule is a word list
          eval "$tool -t $table ${rule/-A /-D }" 2>/dev/null || true
        done
      for chain in $("$tool-save" -t "$table" 2>/dev/null | sed -n "s/^:\(KUBE-[^ ]*\|CNI-[^ ]*\|$FORWARD_CHAIN\) .*/\1/p"); do
        "$tool" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$tool-save" -t "$table" 2>/dev/null | sed -n "s/^:\(KUBE-[^ ]*\|CNI-[^ ]*\|$FORWARD_CHAIN\) .*/\1/p"); do
        "$tool" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

# Destroys the ipsets kube-router's policy controller made (KUBE-SRC-*, KUBE-DST-*, their
# inet6: twins and its TMP- swap sets); only after its rules are gone, as a set a rule
# still uses cannot go. kube-router's own --cleanup-config leaves them behind.
ipsets_clean() {
  local set
  command -v ipset >/dev/null || return 0
  for set in $(ipset list -n 2>/dev/null | grep -E '^(inet6:)?(KUBE-(SRC|DST)-|TMP-)' || true); do
    ipset destroy "$set" 2>/dev/null || log "could not destroy ipset $set (still in use?)"
  done
}

net_down() {
  local a i
  if [[ -f "$STATE_DIR/lo-addrs" ]]; then
    sort -u "$STATE_DIR/lo-addrs" | while read -r a; do ip addr del "$a" dev lo 2>/dev/null || true; done
    rm -f "$STATE_DIR/lo-addrs"
  fi
  for ((i = 1; i <= 16; i++)); do
    if ip link show "$(node_bridge "$i")" >/dev/null 2>&1; then ip link del "$(node_bridge "$i")"; fi
  done
  iptables_clean
  ipsets_clean
  if [[ -f "$STATE_DIR/ip_forward.before" ]]; then
    cat "$STATE_DIR/ip_forward.before" >/proc/sys/net/ipv4/ip_forward
    rm -f "$STATE_DIR/ip_forward.before"
  fi
}

# ---------------------------------------------------------------------------------------------
# In-cluster access to the API server. The control plane listens on 127.0.0.1 only, which a
# pod cannot reach; a pod that talks to the API server (the Prometheus Operator, Prometheus'
# service discovery) dials the `kubernetes` Service. socat relays TCP (TLS stays end to end:
# the pod verifies the API server's certificate, which names the Service IP, and presents its
# service account token) from $API_RELAY_IP:443 to the API server, and that address is the
# Service's endpoint (the control plane runs with --endpoint-reconciler-type=none).
start_api_relay() {
  local server port
  server=$(sed -n 's/^[[:space:]]*server: //p' "$CLUSTER_DIR/kubeconfig" | head -n1)
  port="${server##*:}"
  [[ "$server" == https://127.0.0.1:* && "$port" =~ ^[0-9]+$ ]] || die "unexpected API server address '$server' in $CLUSTER_DIR/kubeconfig"
  ip addr add "$API_RELAY_IP/32" dev lo 2>/dev/null || true
  echo "$API_RELAY_IP/32" >>"$STATE_DIR/lo-addrs"
  # argv[0] names our state dir, so is_running knows the process as ours.
  # shellcheck disable=SC2016 # $0 and $@ are for the inner bash
  launch api-relay bash -c 'exec -a "$0" socat "$@"' "$STATE_DIR/api-relay" \
    -ly "TCP-LISTEN:443,bind=$API_RELAY_IP,fork,reuseaddr" "TCP:127.0.0.1:$port,keepalive"
  k apply -f - >"$LOGS/api-relay-endpoints.log" <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes
  namespace: default
  labels: {kubernetes.io/service-name: kubernetes, endpointslice.kubernetes.io/managed-by: umbrella.local-node}
addressType: IPv4
endpoints: [{addresses: ["$API_RELAY_IP"], conditions: {ready: true}}]
ports: [{name: https, port: 443, protocol: TCP}]
EOF
  wait_for "the API server through the relay" 60 curl -sk -o /dev/null "https://$API_RELAY_IP/version"
}

# ---------------------------------------------------------------------------------------------
# Registry and images

start_registry() {
  mkdir -p "$STATE_DIR/registry"
  cat >"$STATE_DIR/registry.yaml" <<EOF
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $STATE_DIR/registry}
  delete: {enabled: true}
http:
  addr: $REGISTRY
  debug: {addr: ""}
EOF
  launch registry "$(command -v registry)" serve "$STATE_DIR/registry.yaml"
  wait_for "registry on $REGISTRY" 30 curl -fsS "http://$REGISTRY/v2/"
}

# ---------------------------------------------------------------------------------------------
# CoreDNS: cluster.local from the API server; nothing else is answered (no upstream).

start_coredns() {
  local health ready
  health=$(free_port) ready=$(free_port)
  echo "$health" >"$STATE_DIR/coredns.health-port"
  cat >"$STATE_DIR/Corefile" <<EOF
.:53 {
    bind $DNS_IP
    errors
    health 127.0.0.1:$health
    ready 127.0.0.1:$ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $CLUSTER_DIR/kubeconfig umbrella
        pods insecure
        ttl 5
    }
    cache 5
}
EOF
  launch coredns "$(command -v coredns)" -conf "$STATE_DIR/Corefile"
  # Ready once its Kubernetes plugin has synced with the API server: on a loaded machine (the
  # engine tier's JVMs alongside, 2026-12-06) that once took over 60 s.
  WAIT_LOG=coredns wait_for "CoreDNS ready" 180 curl -fsS "http://127.0.0.1:$ready/ready"
}

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . && continue
    echo "$p"
    return
  done
}

# ---------------------------------------------------------------------------------------------
# One node: containerd (its own root, state, socket and CNI config) and a kubelet.

start_containerd() { # i
  local i="$1" d pause
  d="$STATE_DIR/node-$i"
  pause=$("$SCRIPT_DIR/images.sh" ref pause "$REGISTRY")
  mkdir -p "$d/containerd" "$d/cni/net.d" "$d/cni/cache" "$d/cni/ipam"
  cat >"$d/cni/net.d/10-umbrella.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "umbrella-node-$i",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$(node_bridge "$i")",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$d/cni/ipam",
        "ranges": [[{"subnet": "$(node_subnet "$i")", "gateway": "$(node_gateway "$i")"}]],
        "routes": [{"dst": "$POD_RANGE"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  cat >"$d/containerd.toml" <<EOF
version = 2
root = "$d/containerd/root"
state = "$d/containerd/state"
plugin_dir = ""
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$d/containerd/containerd.sock"
[ttrpc]
  address = "$d/containerd/containerd.sock.ttrpc"
[debug]
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$d/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$REGISTRY"]
    endpoint = ["http://$REGISTRY"]
EOF
  launch "containerd-$i" containerd --config "$d/containerd.toml"
  wait_for "containerd of node $i" 60 test -S "$d/containerd/containerd.sock"
}

start_kubelet() { # i
  local i="$1" d name ip
  d="$STATE_DIR/node-$i"
  name=$(node_name "$i") ip=$(node_ip "$i")
  mkdir -p "$d/kubelet" "$d/pod-logs"
  sign "kubelet-$i" "system:node:$name" system:nodes "" clientAuth
  sign "kubelet-$i-serving" "system:node:$name" system:nodes "DNS:$name,IP:$ip" serverAuth
  kubeconfig_for "$d/kubelet.kubeconfig" "kubelet-$i"
  : >"$STATE_DIR/resolv.conf" # pods get the cluster DNS and no upstream from the host
  cat >"$d/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $ip
port: 10250
readOnlyPort: 0
healthzBindAddress: $ip
healthzPort: 10248
tlsCertFile: $CERTS/kubelet-$i-serving.crt
tlsPrivateKeyFile: $CERTS/kubelet-$i-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $CLUSTER_DIR/certs/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$d/containerd/containerd.sock
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
resolvConf: $STATE_DIR/resolv.conf
podLogsDir: $d/pod-logs
serializeImagePulls: false
maxPods: 40
evictionHard: {memory.available: 200Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
rotateCertificates: false
serverTLSBootstrap: false
syncFrequency: 10s
fileCheckFrequency: 0s
nodeStatusUpdateFrequency: 5s
EOF
  touch "$d/kubelet.launched"
  launch "kubelet-$i" "$(command -v kubelet)" \
    --config "$d/kubelet.yaml" --kubeconfig "$d/kubelet.kubeconfig" \
    --root-dir "$d/kubelet" --cert-dir "$d/kubelet/pki" \
    --hostname-override "$name" --node-ip "$ip" \
    --node-labels "topology.kubernetes.io/zone=$(node_zone "$i"),topology.kubernetes.io/region=local,umbrella.local/node=real" \
    --v=1
  # All kubelets of this machine share $DEVICE_PLUGIN_SOCK: each empties its folder, then
  # listens there. Two doing that at once fail one of them ("bind: address already in use",
  # seen in a cold run), so the next kubelet starts only once this one has listened. A later
  # kubelet's removal of the file does not disturb this one (it serves on the open socket).
  wait_for "kubelet of node $i to listen on $DEVICE_PLUGIN_SOCK" 120 test "$DEVICE_PLUGIN_SOCK" -nt "$d/kubelet.launched"
}

start_kube_proxy() {
  local metrics health
  metrics=$(free_port) health=$(free_port)
  sign kube-proxy system:kube-proxy "" "" clientAuth
  kubeconfig_for "$STATE_DIR/kube-proxy.kubeconfig" kube-proxy
  cat >"$STATE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE_DIR/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $CLUSTER_CIDR
hostnameOverride: $(node_name 1)
bindAddress: $(node_ip 1)
metricsBindAddress: 127.0.0.1:$metrics
healthzBindAddress: 127.0.0.1:$health
nodePortAddresses: [198.19.0.0/24]
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {masqueradeAll: false, localhostNodePorts: false}
EOF
  launch kube-proxy "$(command -v kube-proxy)" --config "$STATE_DIR/kube-proxy.yaml" --v=1
  wait_for "kube-proxy healthz" 120 curl -fsS "http://127.0.0.1:$health/healthz"
}

# kube-router's network-policy controller alone, one for the machine (see build_kube_router
# in scripts/tools.sh: the nodes share one network namespace). It may read what its informers
# watch (pods, namespaces, nodes, NetworkPolicies, and services and endpoints, which it
# watches even with its service proxy off), nothing else, and write nothing.
POLICY_USER=umbrella:network-policy
start_policy() {
  local health
  health=$(free_port)
  sign kube-router "$POLICY_USER" "" "" clientAuth
  kubeconfig_for "$STATE_DIR/kube-router.kubeconfig" kube-router
  k apply -f - >"$LOGS/policy-rbac.log" <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "$POLICY_USER", labels: {umbrella.local/node: "real"}}
rules:
- apiGroups: [""]
  resources: [pods, namespaces, nodes, services, endpoints]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "$POLICY_USER", labels: {umbrella.local/node: "real"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "$POLICY_USER"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "$POLICY_USER"}
EOF
  launch kube-router "$(command -v kube-router)" --kubeconfig "$STATE_DIR/kube-router.kubeconfig" \
    --hostname-override "$(node_name 1)" --run-firewall=true --run-router=false --run-service-proxy=false \
    --service-cluster-ip-range "$SERVICE_CIDR" --health-port "$health" --metrics-port 0 --v=1
  wait_for "kube-router healthz" 120 curl -fsS "http://127.0.0.1:$health/healthz"
  wait_for "kube-router's first policy sync" 120 iptables -S KUBE-ROUTER-FORWARD
}

# Stops the policy controller and removes what it programmed: its chains (KUBE-ROUTER-*,
# KUBE-NWPLCY-*, KUBE-POD-FW-*, and the jumps to them) and its ipsets. kube-proxy's
# KUBE-* chains stay.
stop_policy() {
  local rule chain pass
  stop_proc kube-router
  { iptables-save -t filter 2>/dev/null || true; } | { grep -E '^-A [A-Z0-9-]+ .*-j KUBE-(ROUTER|NWPLCY|POD-FW)-' || true; } |
    while read -r rule; do
      # shellcheck disable=SC2086 # the saved rule is a word list
      eval "iptables -t filter ${rule/-A /-D }" 2>/dev/null || true
    done
  for pass in -F -X; do
    for chain in $(iptables-save -t filter 2>/dev/null | sed -n 's/^:\(KUBE-\(ROUTER\|NWPLCY\|POD-FW\)-[^ ]*\) .*/\1/p'); do
      iptables -t filter "$pass" "$chain" 2>/dev/null || true
    done
  done
  ipsets_clean
}

# Local PersistentVolumes (the `local` plugin applies fsGroup, unlike hostPath) pinned to
# their node, in the control plane's default StorageClass `standard`.
pv_manifest() { # i
  local i="$1" j name dir
  name=$(node_name "$i")
  for ((j = 0; j < NODE_PVS; j++)); do
    dir="$STATE_DIR/volumes/$name-pv-$j"
    mkdir -p "$dir"
    cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $name-pv-$j
  labels: {umbrella.local/pv: "true", umbrella.local/node: $name}
spec:
  capacity: {storage: 200Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: standard
  volumeMode: Filesystem
  local: {path: $dir}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [$name]}
EOF
  done
}

nodes_ready() {
  local n
  n=$(k get nodes -l umbrella.local/node=real \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')
  [[ "$n" -ge "$(node_count)" ]]
}

# ---------------------------------------------------------------------------------------------

print_env() {
  printf 'export UMBRELLA_REGISTRY=%q\n' "$REGISTRY"
  printf 'export UMBRELLA_NODE_DIR=%q\n' "$STATE_DIR"
}

cmd_start() {
  local n="${1:-1}" i t0=$SECONDS b
  [[ "$n" =~ ^[1-9]$ ]] || die "node count must be 1-9, got '$n'"
  [[ $(id -u) -eq 0 ]] || die "needs root (network, mounts, containerd)"
  if is_running "kubelet-1" && is_running kube-router && nodes_ready 2>/dev/null; then
    log "already running ($(node_count) nodes; state: $STATE_DIR)"
    print_env
    return 0
  fi
  [[ -f "$CLUSTER_DIR/kubeconfig" ]] || die "no control plane at $CLUSTER_DIR: run UMBRELLA_CLUSTER_NODES=0 UMBRELLA_CLUSTER_PVS=0 scripts/cluster.sh start"
  eval "$("$SCRIPT_DIR/tools.sh" env)"
  for b in kubelet kube-proxy kube-router coredns registry; do
    command -v "$b" >/dev/null || die "$b is not built; run: scripts/tools.sh kube coredns registry kube-router"
  done
  for b in containerd runc iptables ipset conntrack socat ip openssl; do
    command -v "$b" >/dev/null || die "$b not found; install: apt-get install containerd runc containernetworking-plugins iptables ipset conntrack socat"
  done
  [[ -x "$CNI_BIN/bridge" ]] || die "CNI plugins missing in $CNI_BIN; install: apt-get install containernetworking-plugins"
  [[ -d "$STATE_DIR" ]] && cmd_stop
  # One real node tier per machine: the addresses, bridges and kube-proxy's chains are
  # machine-wide, and a second tier's stop would take this one's away.
  if ip -o addr show dev lo | grep -q " $DNS_IP/32" || ip link show "$(node_bridge 1)" >/dev/null 2>&1; then
    die "another real node tier holds $DNS_IP or bridge $(node_bridge 1); stop it first (UMBRELLA_NODE_DIR=<its dir> scripts/node.sh stop)"
  fi
  mkdir -p "$PIDS" "$LOGS" "$CERTS" "$STATE_DIR/volumes"
  echo "$n" >"$STATE_DIR/nodes"

  cgroups_note
  net_up "$n"
  start_registry
  "$SCRIPT_DIR/images.sh" push "$REGISTRY" >&2
  start_coredns
  for ((i = 1; i <= n; i++)); do start_containerd "$i"; done
  for ((i = 1; i <= n; i++)); do start_kubelet "$i"; done
  start_kube_proxy
  wait_for "$n node(s) Ready" 180 nodes_ready
  start_api_relay
  start_policy
  {
    for ((i = 1; i <= n; i++)); do pv_manifest "$i"; done
  } >"$STATE_DIR/pvs.yaml"
  k apply -f "$STATE_DIR/pvs.yaml" >"$LOGS/pvs.log"
  log "ready in $((SECONDS - t0))s: $n real node(s), registry $REGISTRY, DNS $DNS_IP (state: $STATE_DIR)"
  print_env
}

# Deletes every pod on our nodes and waits until the kubelets have torn them down (so
# CNI DEL runs and no container outlives the runtime).
drain_pods() {
  local i deadline
  [[ -f "$CLUSTER_DIR/kubeconfig" ]] || return 0
  for ((i = 1; i <= $(node_count); i++)); do
    k delete pods -A --field-selector "spec.nodeName=$(node_name "$i")" --grace-period=0 --force \
      --wait=false >/dev/null 2>&1 || true
  done
  deadline=$((SECONDS + 60))
  for ((i = 1; i <= $(node_count); i++)); do
    local sock="$STATE_DIR/node-$i/containerd/containerd.sock"
    [[ -S "$sock" ]] || continue
    while (( SECONDS < deadline )); do
      [[ -z "$(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null)" ]] && break
      sleep 1
    done
  done
}

# Kills every container (pause included) of each node's runtime through containerd, so
# no container process outlives it; the kubelets are stopped first so none restarts.
kill_containers() {
  local i sock id
  for ((i = 1; i <= $(node_count); i++)); do
    sock="$STATE_DIR/node-$i/containerd/containerd.sock"
    [[ -S "$sock" ]] || continue
    for id in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    for id in $(ctr --address "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr --address "$sock" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
    done
  done
}

# containerd-shim processes outlive containerd: find the ones started for our sockets.
stop_shims() {
  local dir pid cmd
  for dir in /proc/[0-9]*; do
    pid="${dir#/proc/}"
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || continue
    [[ "$cmd" == *containerd-shim* && "$cmd" == *"$STATE_DIR/node-"* ]] || continue
    kill -KILL "$pid" 2>/dev/null || true
  done
}

unmount_under() { # dir: every mount below it, deepest first
  local m
  awk -v d="$1/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

cmd_stop() {
  if [[ ! -d "$STATE_DIR" ]]; then
    log "not running (no $STATE_DIR)"
    return 0
  fi
  local i
  drain_pods
  stop_proc kube-router
  stop_group api-relay
  stop_proc kube-proxy
  for ((i = 1; i <= $(node_count); i++)); do stop_proc "kubelet-$i"; done
  # Our kubelets' socket outside the state folder; only if a kubelet of this tier made it.
  if [[ -S "$DEVICE_PLUGIN_SOCK" && "$DEVICE_PLUGIN_SOCK" -nt "$STATE_DIR/nodes" ]]; then rm -f "$DEVICE_PLUGIN_SOCK"; fi
  kill_containers
  for ((i = 1; i <= $(node_count); i++)); do stop_proc "containerd-$i"; done
  stop_shims
  stop_proc coredns
  stop_proc registry
  unmount_under "$STATE_DIR"
  cgroups_clean
  if [[ -f "$CLUSTER_DIR/kubeconfig" ]]; then
    for ((i = 1; i <= $(node_count); i++)); do k delete node "$(node_name "$i")" --wait=false >/dev/null 2>&1 || true; done
    k delete pv -l umbrella.local/pv=true --wait=false >/dev/null 2>&1 || true
  fi
  net_down
  rm -rf "$STATE_DIR"
  log "stopped"
}

cmd_status() {
  local f name ok=0
  [[ -d "$PIDS" ]] || { log "not running (no $STATE_DIR)"; return 1; }
  for f in "$PIDS"/*.pid; do
    name=$(basename "$f" .pid)
    if is_running "$name"; then printf '%-16s running (pid %s)\n' "$name" "$(pid_of "$name")"
    else printf '%-16s NOT running (log: %s)\n' "$name" "$LOGS/$name.log"; ok=1; fi
  done
  nodes_ready || ok=1
  k get nodes -l umbrella.local/node=real -o wide --no-headers 2>/dev/null || true
  return "$ok"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) [[ -d "$PIDS" ]] || die "not running"; print_env ;;
  policy)
    [[ -d "$PIDS" ]] || die "not running"
    eval "$("$SCRIPT_DIR/tools.sh" env)"
    case "${2:-}" in
      on) is_running kube-router || start_policy; log "NetworkPolicy enforced (kube-router)" ;;
      off) stop_policy; log "NetworkPolicy NOT enforced: kube-router stopped, its chains and sets removed" ;;
      *) die "usage: $0 policy on|off" ;;
    esac
    ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
