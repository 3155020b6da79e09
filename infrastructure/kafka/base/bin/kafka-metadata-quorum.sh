#!/bin/bash
# kafka-metadata-quorum.sh — describe the KRaft controller quorum; add and remove controllers (org.apache.kafka.tools.MetadataQuorumCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.MetadataQuorumCommand "$@"
