#!/usr/bin/env bash
# scripts/metadata-releases.sh — each Kafka release line's metadata.version level, as Kafka's own
# FeatureCommand reports it (`kafka-features.sh version-mapping --release-version R`), run on the
# jars of the newest release the project builds (scripts/tools.sh kafka with
# UMBRELLA_KAFKA_VERSION). kafkaadmin.MetadataReleases is this script's output, so the program
# never guesses a level; tests/realkafka runs it and compares.
#
# Usage: scripts/metadata-releases.sh [go]   lines "RELEASE LEVEL"; with go, the table's Go lines
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# From 3.3, the first production KRaft release, to the newest line the project builds.
RELEASES=(3.3 3.4 3.5 3.6 3.7 3.8 3.9 4.0 4.1 4.2 4.3 4.4)
NEWEST=$(sed -n 's/^KAFKA_VERSIONS=(\(.*\))$/\1/p' scripts/tools.sh | awk '{print $NF}')
[[ -n "$NEWEST" ]] || { echo "[metadata-releases] ERROR: no KAFKA_VERSIONS in scripts/tools.sh" >&2; exit 1; }

export UMBRELLA_KAFKA_VERSION="$NEWEST"
scripts/tools.sh kafka >&2
home=$(scripts/tools.sh path kafka-home)
# version-mapping needs no broker, but the tool makes an admin client first: short timeouts
# let it exit at once after printing.
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
printf 'default.api.timeout.ms=200\nrequest.timeout.ms=100\nsocket.connection.setup.timeout.ms=100\n' >"$conf"

for r in "${RELEASES[@]}"; do
  out=$(java -Dlog4j2.configurationFile="$home/config/log4j2.properties" -cp "$home/libs/*" \
    org.apache.kafka.tools.FeatureCommand --bootstrap-server 127.0.0.1:1 --command-config "$conf" \
    version-mapping --release-version "$r" 2>&1 || true)
  level=$(sed -n 's/^metadata\.version=\([0-9]*\) .*/\1/p' <<<"$out")
  if [[ -z "$level" ]]; then
    echo "[metadata-releases] ERROR: Kafka $NEWEST's FeatureCommand printed no metadata.version for release $r:" >&2
    echo "$out" | tail -5 >&2
    exit 1
  fi
  if [[ "${1:-}" == go ]]; then
    printf '\t{Release: "%s", Level: %s},\n' "$r" "$level"
  else
    echo "$r $level"
  fi
done
