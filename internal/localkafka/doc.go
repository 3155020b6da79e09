// Package localkafka runs a real Apache Kafka 4.1.1 cluster on the loopback
// interface, one JVM per node, from the jars scripts/tools.sh builds.
//
// It exists so that the broker configuration the Pulumi program deploys is
// proven against Kafka itself, not against a fake: every node's server.properties
// is rendered by components.ServerProperties, the very builder the StatefulSet's
// ConfigMap uses. Only the components.Network differs: 127.0.0.1, a pair of free
// ports per node and a data directory under Options.Dir instead of the pod FQDN,
// 9092/9093 and the PVC. Storage is formatted with the stack's cluster id by
// Kafka's own StorageTool, as the container's start script does.
//
// Start returns once the cluster is usable, which it checks rather than sleeps
// for: the KRaft quorum reports a leader (DescribeQuorum), every node answers a
// metadata request on its own client port (a KRaft broker only opens its client
// listener after it has caught up with the metadata log and been unfenced), and
// the cluster lists every broker. A node that exits while Start or Restart waits
// fails the wait at once, with the tail of its logs and their paths.
//
// Processes are plain children in their own session (so a signal to the test's
// process group does not reach them and a node's group can be signalled as a
// whole). Each node writes a pid file, so StopDir (and `go run ./cmd/localkafka
// stop`) can end a cluster started by another process. Nothing is killed by
// name: only pids this package recorded, after checking /proc that they are
// still that node's Kafka.
//
// The code: cluster.go starts, restarts and stops nodes; ready.go is the
// readiness check Start and Restart wait on; inspect.go asks the running
// cluster about its quorum and topics (Quorum, Describe, WaitInSync,
// WaitPropagated); process.go is the node folders, pid files and signals;
// stack.go loads a stack's spec; external.go and security.go add the optional
// extra client listeners (Options.External, Options.Security: SASL_SSL and
// mTLS with the StandardAuthorizer, certificates from internal/testpki);
// secure_stack.go runs a secure stack's own listeners (security.mode
// sasl-scram) and its certificates. Every wait polls through internal/poll.
//
// Layout of Options.Dir:
//
//	tools-log4j2.properties   logging of the StorageTool runs (warnings to stderr)
//	node-N/server.properties  from components.ServerProperties
//	node-N/log4j2.properties  the node's logging, to node-N/kafka.log
//	node-N/kafka.log          Kafka's own log
//	node-N/console.log        the JVM's stdout and stderr (crashes, early failures)
//	node-N/kafka.pid          pid of the running node
//	node-N/data               log.dirs (KRaft metadata log and partitions)
//	tls/                      with Options.Security: ca.pem and node-N-keystore.pem
//	stack-tls/                on a secure stack: ca.pem and broker.pem (secure_stack.go)
package localkafka
