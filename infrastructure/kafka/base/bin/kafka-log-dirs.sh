#!/bin/bash
# kafka-log-dirs.sh — describe brokers' log directories and replica sizes (org.apache.kafka.tools.LogDirsCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.LogDirsCommand "$@"
