#!/bin/bash
# kafka-cluster.sh — print the cluster id; unregister a broker (org.apache.kafka.tools.ClusterTool).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.ClusterTool "$@"
