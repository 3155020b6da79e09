// Package lagexporter reads consumer-group lag from the brokers' side and
// serves it to Prometheus, for cmd/kafka-lag-exporter.
//
// A consumer reports its own lag (records-lag-max) only while it runs: one
// that crashed, or that was scaled to zero, reports nothing, and its lag is
// exactly what an alert needs. The brokers still know both halves: the end
// offset of every partition and the offset the group last committed. This
// package asks for them with franz-go's kadm and does kadm's arithmetic
// (kadm.Client.Lag), so the numbers match what kadm, and
// kafka-consumer-groups.sh, print.
//
// # What one collection reads
//
// Collect lists the classic consumer groups (ListGroups with the type filter
// "classic", Kafka 3.8+), keeps those whose name the --groups pattern
// matches, and calls kadm.Client.Lag for them: DescribeGroups, OffsetFetch,
// then ListOffsets (start and end) for every topic a group is assigned,
// subscribed to or committed on. Per group and topic, the lag is the sum over
// the topic's partitions of max(0, end offset − committed offset). A partition
// of such a topic that the group never committed counts, as in kadm, from the
// partition's log start offset: end − start, the records a consumer that
// starts there would still read. A topic the group neither committed on nor
// subscribes to does not appear. Members is the group's member count, 0 when
// the group is Empty or Dead (a group whose consumers all stopped).
//
// Groups of the KIP-848 "consumer" protocol (group.protocol=consumer) are
// not classic groups and are not read: DescribeGroups does not describe them.
// The platform's consumers use the classic protocol, the default of the Java
// client up to Kafka 4.1 and of franz-go.
//
// # Errors, up and stale data
//
// A collection either reads everything or fails. It fails as a whole when a
// request fails (no broker answers, an authorization error): no group is
// served. It fails in part when one group or one partition carries its own
// error (a coordinator still loading, a partition without a leader): that
// group, or that group's topic, is left out, the rest is served, and every
// such error is logged. In both cases umbrella_lag_exporter_up is 0 until a
// collection reads everything again. A topic whose every partition is
// UNKNOWN_TOPIC_OR_PARTITION was deleted after the group committed on it: it
// has no lag to report, so it is left out without failing the collection.
//
// The handler never talks to Kafka: it renders the last collection's
// Snapshot. Collections run every interval, each bounded by one interval, so
// a snapshot is never more than two intervals old while the collector is
// alive. An older one means the collector is stuck: the handler then serves
// up 0 and no per-group series (an old number is worse than none, because an
// alert on a lag that stopped moving would never resolve or never fire), and
// /healthz answers 503. A failed collection replaces the snapshot, so values
// from before it are never served after it.
//
// # Permissions
//
// On a cluster with an authorizer (the platform's sasl-scram mode), the
// exporter's principal needs exactly these ACLs, all ALLOW, operation
// DESCRIBE, nothing else (no READ, nothing on the cluster):
//
//   - Describe on Group, for the groups to report (a literal, prefixed or "*"
//     pattern): ListGroups returns only the groups the principal may
//     Describe, and FindCoordinator, DescribeGroups and OffsetFetch need it
//     per group.
//   - Describe on Topic, for every topic those groups consume: Metadata and
//     ListOffsets need it, and OffsetFetch silently drops the committed
//     offsets of topics the principal may not Describe.
//
// Kafka answers a missing ACL by leaving things out, not with an error: a
// principal without Describe on a group never sees it, and one with Describe
// on an Empty group but not on its topic sees the group with no topic. Either
// way the exporter reports fewer series and stays up, so alert on the absence
// of a group's umbrella_consumergroup_members series, not only on
// umbrella_lag_exporter_up. TestLagAgainstRealKafka proves all three cases on
// a real broker under the StandardAuthorizer.
//
// # Layout
//
// FromLags (kadm's answer to GroupLag values) and Render (the Prometheus text
// format) are pure and tested without a broker; Collect is the one function
// that talks to Kafka; Exporter runs the collections and serves the snapshot;
// Main is the command line.
package lagexporter
