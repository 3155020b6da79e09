#!/bin/bash
# kafka-delete-records.sh — delete records below an offset (org.apache.kafka.tools.DeleteRecordsCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.DeleteRecordsCommand "$@"
