#!/bin/bash
# kafka-server-start.sh — start a Kafka broker and/or KRaft controller (kafka.Kafka).
#
#   kafka-server-start.sh [-daemon] server.properties [--override property=value]*
#
# As upstream Kafka 4.1: broker logging from config/log4j2.yaml unless KAFKA_LOG4J_OPTS is
# set, a 1 GiB heap unless KAFKA_HEAP_OPTS is set, and EXTRA_ARGS (default
# '-name kafkaServer -loggc') passed to kafka-run-class.sh; set EXTRA_ARGS='' for no GC log.
set -uo pipefail

if [[ $# -lt 1 ]]; then
  echo "USAGE: $0 [-daemon] server.properties [--override property=value]*"
  exit 1
fi
base_dir=$(dirname "$0")

export KAFKA_LOG4J_OPTS="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base_dir/../config/log4j2.yaml}"
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}"

# Unset means the default; set but empty means none (as upstream's ${EXTRA_ARGS-...}).
if [[ -z "${EXTRA_ARGS+set}" ]]; then
  EXTRA_ARGS="-name kafkaServer -loggc"
fi
if [[ "${1:-}" == -daemon ]]; then
  EXTRA_ARGS="-daemon $EXTRA_ARGS"
  shift
fi
read -r -a extra_args <<<"$EXTRA_ARGS"

exec "$base_dir/kafka-run-class.sh" "${extra_args[@]}" kafka.Kafka "$@"
