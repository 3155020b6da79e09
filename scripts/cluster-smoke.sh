#!/usr/bin/env bash
# scripts/cluster-smoke.sh — end-to-end check of scripts/cluster.sh:
# start the local control plane, create a namespace enforcing the `restricted` Pod Security
# level, apply a restricted-compliant StatefulSet with a volumeClaimTemplate and wait for its
# pod to be Ready (kwok plays the kubelet; the claim binds to a pre-created PV), check that a
# privileged pod is refused, then stop and check that no process of the cluster is left.
# Prints "N passed, N failed" at the end; exit status 0 only if all checks passed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export UMBRELLA_CLUSTER_DIR="${UMBRELLA_CLUSTER_DIR:-/tmp/umbrella-cluster-smoke}"
KUBECTL="${KUBECTL:-kubectl}"
NS=smoke
passed=0
failed=0

check() { # description command...
  local what="$1"; shift
  if "$@"; then
    printf '[smoke] ok   %s\n' "$what"
    passed=$((passed + 1))
  else
    printf '[smoke] FAIL %s\n' "$what"
    failed=$((failed + 1))
  fi
}

k() { "$KUBECTL" "$@" 2> >(grep -v 'version difference' >&2); }

cleanup() { "$SCRIPT_DIR/cluster.sh" stop >/dev/null 2>&1 || true; }
trap cleanup EXIT

start=$SECONDS
eval "$("$SCRIPT_DIR/cluster.sh" start)"
printf '[smoke] cluster ready in %ss\n' "$((SECONDS - start))"
check "cluster status reports ready" "$SCRIPT_DIR/cluster.sh" status

k create namespace "$NS" >/dev/null
k label namespace "$NS" pod-security.kubernetes.io/enforce=restricted >/dev/null

k -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      enableServiceLinks: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 1000
        fsGroup: 1000
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: web
        image: registry.example/web:1
        ports: [{containerPort: 8080, name: http}]
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 10Gi}}
EOF
t=$SECONDS
check "StatefulSet pod web-0 becomes Ready" \
  k -n "$NS" wait --for=condition=Ready pod/web-0 --timeout=60s
printf '[smoke] web-0 Ready %ss after apply\n' "$((SECONDS - t))"
check "claim data-web-0 is Bound to a pre-created PV" \
  bash -c "[[ \$('$KUBECTL' -n $NS get pvc data-web-0 -o jsonpath='{.status.phase}' 2>/dev/null) == Bound ]]"

refused() {
  local out
  if out=$(k -n "$NS" run priv --image=registry.example/busybox:1 --restart=Never \
    --overrides='{"spec":{"containers":[{"name":"priv","image":"registry.example/busybox:1","securityContext":{"privileged":true}}]}}' 2>&1); then
    echo "$out"
    return 1
  fi
  printf '[smoke]      %s\n' "$(grep -o 'violates PodSecurity[^:]*:[^,]*' <<<"$out" | head -n1)"
  grep -q 'violates PodSecurity "restricted' <<<"$out"
}
check "privileged pod refused by Pod Security admission" refused

# kwok's PortForward: `kubectl port-forward` to a fake pod reaches a local TCP server through the
# real apiserver (which dials kwok's TLS server at the node's 127.0.0.1:<port>).
port_forward() {
  local target pf srv out rc=0
  target=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  k -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: web-0}
spec:
  forwards:
  - ports: [8080]
    target: {port: $target, address: 127.0.0.1}
EOF
  python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.sendall(b"hello-through-port-forward\n"); c.close()' "$target" &
  srv=$!
  k -n "$NS" port-forward pod/web-0 :8080 >"$UMBRELLA_CLUSTER_DIR/port-forward.log" 2>&1 &
  pf=$!
  local port="" i
  for ((i = 0; i < 50; i++)); do
    port=$(sed -n 's/^Forwarding from 127.0.0.1:\([0-9]*\) .*/\1/p' "$UMBRELLA_CLUSTER_DIR/port-forward.log")
    [[ -n "$port" ]] && break
    sleep 0.2
  done
  out=$(timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && head -n1 <&3" 2>&1) || rc=$?
  kill "$pf" "$srv" 2>/dev/null || true
  wait "$pf" "$srv" 2>/dev/null || true
  [[ $rc -eq 0 && "$out" == hello-through-port-forward ]]
}
check "port-forward to a fake pod reaches a local server (kwok PortForward)" port_forward

pids=$(cat "$UMBRELLA_CLUSTER_DIR"/pids/*.pid)
"$SCRIPT_DIR/cluster.sh" stop
left=0
for p in $pids; do
  # (an exited child may linger a moment as a zombie until init reaps it: not running)
  if kill -0 "$p" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]]; then
    echo "[smoke] process $p still running: $(tr '\0' ' ' </proc/"$p"/cmdline)"
    left=1
  fi
done
check "no cluster process left after stop" test "$left" -eq 0
check "state dir removed" test ! -e "$UMBRELLA_CLUSTER_DIR"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
