#!/usr/bin/env bash
# scripts/packages.sh — install the Debian packages a tier needs, only those missing.
#   scripts/packages.sh lint   shellcheck yamllint
#   scripts/packages.sh node   the real node tier and image builds: containerd runc
#                              containernetworking-plugins iptables ipset conntrack socat
#                              umoci skopeo mmdebstrap buildah
#   scripts/packages.sh prom   prometheus (promtool) for the monitoring tests
#   scripts/packages.sh docker docker.io (dockerd 20.10, for scripts/docker.sh); its init script
#                              is kept from starting a daemon with Docker's defaults (172.17/16)
set -euo pipefail

declare -A CHECK=(
  [shellcheck]=shellcheck [yamllint]=yamllint [prometheus]=promtool
  [containerd]=containerd [runc]=runc [containernetworking-plugins]=/usr/lib/cni/bridge
  [iptables]=iptables [ipset]=ipset [socat]=socat [conntrack]=conntrack [umoci]=umoci [skopeo]=skopeo
  [mmdebstrap]=mmdebstrap [buildah]=buildah [docker.io]=dockerd
)

want=()
for tier in "$@"; do
  case "$tier" in
    lint) want+=(shellcheck yamllint) ;;
    node) want+=(containerd runc containernetworking-plugins iptables ipset conntrack socat umoci skopeo mmdebstrap buildah) ;;
    prom) want+=(prometheus) ;;
    docker) want+=(docker.io) ;;
    *) echo "[packages] unknown tier '$tier' (lint, node, prom, docker)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  c="${CHECK[$p]}"
  if [[ "$c" == /* ]]; then [[ -e "$c" ]] || missing+=("$p")
  else command -v "$c" >/dev/null 2>&1 || missing+=("$p"); fi
done
((${#missing[@]})) || exit 0
echo "[packages] installing ${missing[*]} from Debian" >&2
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
"${sudo[@]}" apt-get update -qq
# No package may start a service here (docker.io's would start dockerd on 172.17.0.0/16):
# invoke-rc.d asks policy-rc.d, and 101 means "not allowed".
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo[@]}" chmod 0755 /usr/sbin/policy-rc.d
  trap '"${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for p in "${missing[@]}"; do
  c="${CHECK[$p]}"
  if [[ "$c" == /* ]]; then [[ -e "$c" ]] || { echo "[packages] $p installed but $c is missing" >&2; exit 1; }
  else command -v "$c" >/dev/null 2>&1 || { echo "[packages] $p installed but $c is not on PATH" >&2; exit 1; }; fi
done
