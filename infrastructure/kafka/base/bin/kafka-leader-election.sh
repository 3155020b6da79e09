#!/bin/bash
# kafka-leader-election.sh — run preferred or unclean leader elections (org.apache.kafka.tools.LeaderElectionCommand).
# Same name, main class and arguments as Apache Kafka 4.1's script; see kafka-run-class.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.LeaderElectionCommand "$@"
