#!/bin/bash
# kafka-features.sh — describe, upgrade and downgrade cluster feature levels (metadata.version, kraft.version) (org.apache.kafka.tools.FeatureCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.FeatureCommand "$@"
