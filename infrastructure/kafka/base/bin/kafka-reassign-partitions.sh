#!/bin/bash
# kafka-reassign-partitions.sh — move partition replicas between brokers and log dirs (org.apache.kafka.tools.reassign.ReassignPartitionsCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.reassign.ReassignPartitionsCommand "$@"
