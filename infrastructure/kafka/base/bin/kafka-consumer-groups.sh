#!/bin/bash
# kafka-consumer-groups.sh — list, describe, reset and delete consumer groups (org.apache.kafka.tools.consumer.group.ConsumerGroupCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@"
