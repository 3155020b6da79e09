#!/bin/bash
# kafka-storage.sh — format and inspect KRaft metadata and log directories, make cluster ids (kafka.tools.StorageTool).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
