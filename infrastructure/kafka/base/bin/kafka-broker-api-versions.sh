#!/bin/bash
# kafka-broker-api-versions.sh — list the API versions each broker supports (org.apache.kafka.tools.BrokerApiVersionsCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
