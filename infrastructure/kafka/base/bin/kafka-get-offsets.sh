#!/bin/bash
# kafka-get-offsets.sh — print topic partition offsets (earliest, latest, by time) (org.apache.kafka.tools.GetOffsetShell).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.GetOffsetShell "$@"
