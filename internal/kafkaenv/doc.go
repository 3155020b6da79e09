// Package kafkaenv turns a container's environment into a Kafka node's
// configuration the way the official apache/kafka image does (its
// /etc/kafka/docker scripts and Kafka's KafkaDockerWrapper), so a compose file
// written for apache/kafka runs unchanged on the umbrella image; and it checks
// the result before Kafka sees it, so an edit a developer plausibly gets wrong
// fails with one line naming the variable, its value and the fix, instead of a
// Java stack trace or a broker that starts but that no client can reach.
//
// The steps, in the order cmd/kafka-docker-run takes them:
//
//   - Prepare: NAME=value arguments override the environment; CLUSTER_ID falls
//     back to the image's default; KAFKA_LISTENERS, when unset, is derived from
//     KAFKA_ADVERTISED_LISTENERS with every host made 0.0.0.0 (not on a
//     controller-only node); the SSL file names under /etc/kafka/secrets become
//     store locations and passwords.
//   - Build: every KAFKA_X variable becomes property x (PropertyName: drop the
//     prefix, lower-case, "___" → "-", "__" → "_", "_" → "."), appended to
//     /mnt/shared/config/server.properties when that file exists (a later line
//     wins, so the environment overrides the file); with neither, the image's
//     single-node default (DefaultServerProperties).
//   - Validate: the checks of validate.go, on the merged configuration.
//   - StoragePlan: format the log directories on the first start only, and
//     refuse a volume formatted for another CLUSTER_ID or KAFKA_NODE_ID.
//
// Everything here is pure: the command does the reading, writing and exec'ing.
// Messages share package rules' shape, "<field> = <value>: <problem>; <fix>".
package kafkaenv
