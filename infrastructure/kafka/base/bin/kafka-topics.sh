#!/bin/bash
# kafka-topics.sh — create, alter, list, describe and delete topics (org.apache.kafka.tools.TopicCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.TopicCommand "$@"
