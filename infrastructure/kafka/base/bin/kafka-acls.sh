#!/bin/bash
# kafka-acls.sh — add, remove and list ACLs (org.apache.kafka.tools.AclCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.AclCommand "$@"
