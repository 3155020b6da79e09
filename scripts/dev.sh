#!/usr/bin/env bash
# scripts/dev.sh — the main job on a fresh machine: build the cached tools, start a
# local Kubernetes control plane on 127.0.0.1 (kwok plays the kubelet) and a local
# Kafka 4.1.1 broker on 127.0.0.1:19092 configured from the dev stack (the stack's
# topics.bootstrapServers), and run `up` of the dev stack through the real Pulumi
# engine, then print the outputs and how to tear down.
#
#   scripts/dev.sh            up (default)
#   scripts/dev.sh preview    preview only
#   scripts/dev.sh down       destroy the dev stack and stop the local cluster
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
action="${1:-up}"

scripts/tools.sh pulumi kubernetes-provider etcd kwok kube prometheus-crds kafka
eval "$(scripts/tools.sh env)"
go build -o bin/pulumi-resource-umbrellakafka ./cmd/pulumi-resource-umbrellakafka
export PATH="$PWD/bin:$PATH"

if [[ "$action" == down ]]; then
  if scripts/cluster.sh status >/dev/null 2>&1; then
    eval "$(scripts/cluster.sh env)"
    go run ./cmd/umbrella -stack dev \
      -set 'topics={"manager":"provider","bootstrapServers":["127.0.0.1:19092"],"protect":false,"allowReplace":true}' destroy
  fi
  go run ./cmd/localkafka -stack dev stop || true
  scripts/cluster.sh stop
  exit 0
fi

eval "$(scripts/cluster.sh start)"
go run ./cmd/localkafka -stack dev start
# The dashboard ConfigMap lands in umbrella-infra; a real cluster has it already.
kubectl create namespace umbrella-infra --dry-run=client -o yaml 2>/dev/null | kubectl apply -f - >/dev/null 2>&1 || true
# The dev stack reaches its brokers through the Kubernetes API; here kwok's pods are
# not real brokers, so the topics go to the local broker instead.
go run ./cmd/umbrella -stack dev \
  -set 'topics={"manager":"provider","bootstrapServers":["127.0.0.1:19092"],"protect":false,"allowReplace":true}' \
  "$action"
echo
echo "KUBECONFIG=$KUBECONFIG  (kubectl -n umbrella-streaming get all)"
echo "topics: kafka-topics.sh --bootstrap-server 127.0.0.1:19092 --describe"
echo "tear down: scripts/dev.sh down"
