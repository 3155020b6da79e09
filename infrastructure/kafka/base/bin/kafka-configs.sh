#!/bin/bash
# kafka-configs.sh — describe and alter dynamic configs of topics, brokers, clients and users (kafka.admin.ConfigCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.admin.ConfigCommand "$@"
