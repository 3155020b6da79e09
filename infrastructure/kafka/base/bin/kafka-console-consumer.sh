#!/bin/bash
# kafka-console-consumer.sh — print records of a topic to stdout (org.apache.kafka.tools.consumer.ConsoleConsumer).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
# Like upstream, a console client defaults to a 512M heap.
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512M}"
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.consumer.ConsoleConsumer "$@"
