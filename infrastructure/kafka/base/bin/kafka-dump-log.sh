#!/bin/bash
# kafka-dump-log.sh — decode log segments, indexes and KRaft metadata snapshots on disk (kafka.tools.DumpLogSegments).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.DumpLogSegments "$@"
