#!/usr/bin/env bash
# Creates the Umbrella platform topics (seed plan, section 1). Idempotent: every
# create is --if-not-exists, so a second run changes nothing.
#
# Environment:
#   KAFKA_BOOTSTRAP           bootstrap server (default localhost:9092)
#   TOPIC_PARTITIONS          partitions for every topic (default 1)
#   TOPIC_REPLICATION_FACTOR  replication factor for every topic (default 1)
#   TOPICS_FILE               optional resolved list, one topic a line:
#                             "<name> <partitions> <replication-factor> [key=value ...]"
#                             (the Kubernetes topic Job passes the stack's list this way)
#   KAFKA_TOPICS_CMD          kafka-topics command (default: kafka-topics.sh on PATH,
#                             else /opt/kafka/bin/kafka-topics.sh)
#   WAIT_SECONDS              how long to wait for the broker (default 120)
set -euo pipefail

BOOTSTRAP="${KAFKA_BOOTSTRAP:-localhost:9092}"
PARTITIONS="${TOPIC_PARTITIONS:-1}"
REPLICATION_FACTOR="${TOPIC_REPLICATION_FACTOR:-1}"
WAIT_SECONDS="${WAIT_SECONDS:-120}"

# The platform topics. config/inventory.go is the source of truth; a test keeps
# this list equal to it.
TOPICS=(
  raw-messages
  parsed-messages
  normalized-messages
  processing-results
  alerts
  dead-letter
  normalized-messages-dlq
)

if [[ -n "${KAFKA_TOPICS_CMD:-}" ]]; then
  kafka_topics="${KAFKA_TOPICS_CMD}"
elif command -v kafka-topics.sh >/dev/null 2>&1; then
  kafka_topics="kafka-topics.sh"
else
  kafka_topics="/opt/kafka/bin/kafka-topics.sh"
fi

echo "create-topics: waiting for ${BOOTSTRAP} (up to ${WAIT_SECONDS}s)"
deadline=$((SECONDS + WAIT_SECONDS))
until "${kafka_topics}" --bootstrap-server "${BOOTSTRAP}" --list >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    echo "create-topics: broker ${BOOTSTRAP} not reachable after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 2
done

create() {
  local name="$1" partitions="$2" rf="$3"
  shift 3
  local args=()
  local kv
  for kv in "$@"; do
    args+=(--config "${kv}")
  done
  echo "create-topics: ${name} (partitions=${partitions}, replication-factor=${rf}${*:+, $*})"
  "${kafka_topics}" --bootstrap-server "${BOOTSTRAP}" --create --if-not-exists \
    --topic "${name}" --partitions "${partitions}" --replication-factor "${rf}" "${args[@]}"
}

if [[ -n "${TOPICS_FILE:-}" ]]; then
  while read -r name partitions rf rest; do
    [[ -z "${name}" || "${name}" == \#* ]] && continue
    read -r -a configs <<<"${rest:-}"
    create "${name}" "${partitions}" "${rf}" "${configs[@]}"
  done <"${TOPICS_FILE}"
else
  for name in "${TOPICS[@]}"; do
    create "${name}" "${PARTITIONS}" "${REPLICATION_FACTOR}"
  done
fi
echo "create-topics: done"
