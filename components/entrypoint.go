package components

import (
	"fmt"
	"strconv"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// StartScriptText is the broker container's entrypoint. It picks this pod's
// generated server.properties by ordinal, formats storage with the stack's cluster
// id and this node's quorum flags (FormatFileName; --ignore-formatted: a restart
// keeps the data; a volume from another cluster fails loudly), then starts Kafka. The JMX agent is added to KAFKA_OPTS only for
// the server, not for the format step, so the two never compete for the port.
//
// It must survive a container restart (OOM kill, liveness kill, a failed format):
// the emptyDirs keep what the previous start wrote, so the properties copy, made
// read-only by the ConfigMap's 0444 mode, is replaced rather than written over.
// Kafka logs to stdout only (Log4jProperties; the kubelet rotates container logs)
// and writes no GC log file (kafka-server-start.sh adds -loggc unless EXTRA_ARGS
// says otherwise), so nothing grows without bound in the pod's ephemeral storage.
const StartScriptText = `#!/bin/bash
# Umbrella streaming broker entrypoint (generated; see components/entrypoint.go).
set -euo pipefail
export KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=` + ConfigMountPath + `/` + Log4jFile + `"
export EXTRA_ARGS="-name kafkaServer"
ordinal="${HOSTNAME##*-}"
src="` + ConfigMountPath + `/node-${ordinal}.properties"
conf="` + RunMountPath + `/server.properties"
if [[ ! -f "$src" ]]; then
  echo "no broker configuration for pod ${HOSTNAME} (${src} missing): the StatefulSet has more replicas than the brokers setting" >&2
  exit 1
fi
cp -f "$src" "$conf"
chmod 0600 "$conf"
# The quorum flags of this node's format (components.FormatArgs), one per line;
# none for a static quorum. Only an empty volume is formatted.
format_args=()
if [[ -f "` + ConfigMountPath + `/node-${ordinal}.format" ]]; then
  mapfile -t format_args < "` + ConfigMountPath + `/node-${ordinal}.format"
fi
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "${CLUSTER_ID}" --config "$conf" ${format_args[@]+"${format_args[@]}"}
if [[ -n "${JMX_AGENT_JAR:-}" ]]; then
  if [[ ! -f "${JMX_AGENT_JAR}" ]]; then
    echo "monitoring is on but the JMX exporter agent ${JMX_AGENT_JAR} is missing" >&2
    exit 1
  fi
  export KAFKA_OPTS="${KAFKA_OPTS:-} -javaagent:${JMX_AGENT_JAR}=${METRICS_PORT}:` + ConfigMountPath + `/` + ExporterRules + `"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$conf"
`

// ReadyScriptText is the readiness probe. A pod is ready when its broker serves,
// not when a port is open: Kafka binds the client port before it has caught up
// with the metadata log and been unfenced, and a Service that routed clients to
// it then would hand out NOT_LEADER and timeouts. With the JMX agent the broker
// reports its own state (BrokerState 3 = RUNNING); without it, the client
// listener must answer an ApiVersions request (it answers only once request
// processing is enabled). Only bash and coreutils: it runs every few seconds.
var ReadyScriptText = `#!/bin/bash
# Umbrella streaming broker readiness (generated; see components/entrypoint.go).
set -uo pipefail
if [[ -n "${METRICS_PORT:-}" ]]; then
  exec 3<>"/dev/tcp/127.0.0.1/${METRICS_PORT}" || exit 1
  printf 'GET /metrics?name[]=` + MetricBrokerState + ` HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  state=unknown
  while read -r name value _; do
    case "$name" in ` + MetricBrokerState + `|"` + MetricBrokerState + `{"*) value="${value%$'\r'}"; state="${value%.0}" ;; esac
  done <&3
  if [[ "$state" == ` + strconv.Itoa(BrokerStateRunning) + ` ]]; then exit 0; fi
  echo "broker state ${state} (` + strconv.Itoa(BrokerStateRunning) + ` = RUNNING)" >&2
  exit 1
fi
exec 3<>"/dev/tcp/127.0.0.1/${READY_CLIENT_PORT:-` + strconv.Itoa(ClientPort) + `}" || exit 1
# ApiVersions v0, correlation id 1, client id "ready"; the reply's correlation id
# and error code must come back as 1 and 0.
printf '\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x01\x00\x05ready' >&3
reply=$(head -c 10 <&3 | od -An -v -tx1 | tr -d ' \n')
if [[ "${reply:8:12}" == 000000010000 ]]; then exit 0; fi
echo "the client listener did not answer ApiVersions (reply ${reply:-none})" >&2
exit 1
`

// PreStopSyncWaitSeconds is how long a stopping broker waits for every
// partition to be back in sync (PreStopScriptText); TerminationGraceSeconds
// leaves a controlled shutdown time after it.
const (
	PreStopSyncWaitSeconds  = 90
	TerminationGraceSeconds = 180
)

// ToolJVMOpts are the JVM options (KAFKA_JVM_PERFORMANCE_OPTS) of the short
// Kafka tools run next to a broker, such as the pre-stop check: one JIT tier
// and the serial collector, since a tool that runs for seconds spends them
// starting, not in steady state (the broker keeps Kafka's G1 defaults).
const ToolJVMOpts = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true"

// PreStopScriptText is the broker container's preStop hook: a roll takes the
// next broker away only once every partition is back in sync. The
// StatefulSet deletes the next pod as soon as the last one is Ready, and
// Ready means serving (ReadyScriptText), not caught up: without the wait,
// the partitions the restarted broker had not caught up on lost a second
// replica and fell under min ISR (7.3 s in a measured roll), and acks=all
// producers stalled. It asks the broker it runs next to (a Kafka tool
// through the loopback, as the broker principal when security is on), every
// 2 s, for up to PreStopSyncWaitSeconds; a broker that cannot answer, or a
// cluster still short of a replica then (another broker down), stops
// anyway, so a roll that repairs a broken cluster is never held. Its lines
// go to the broker's own stdout (the container log) through PID 1.
func PreStopScriptText(s *config.Spec) string {
	bootstrap := fmt.Sprintf("--bootstrap-server localhost:%d", ClientPort)
	if s.Secure() {
		bootstrap = fmt.Sprintf("--bootstrap-server localhost:%d --command-config %s/%s", InternalPort, ConfigMountPath, AdminPropertiesFile)
	}
	return `#!/bin/bash
# Umbrella streaming broker pre-stop (generated; see components/entrypoint.go).
set -uo pipefail
log="${PRESTOP_LOG:-/proc/1/fd/1}"
say() { echo "[pre-stop] $*" >>"$log" 2>/dev/null || echo "[pre-stop] $*"; }
wait_s="${PRESTOP_SYNC_WAIT:-` + strconv.Itoa(PreStopSyncWaitSeconds) + `}"
start=$SECONDS
while :; do
  if ! out=$(KAFKA_HEAP_OPTS=-Xmx128m KAFKA_JVM_PERFORMANCE_OPTS="` + ToolJVMOpts + `" timeout 20 "${KAFKA_BIN:-/opt/kafka/bin}/kafka-topics.sh" ` + bootstrap + ` --describe --under-replicated-partitions 2>&1); then
    say "the broker did not list its under-replicated partitions ($(tail -n1 <<<"$out")): stopping without waiting"
    exit 0
  fi
  n=$(grep -c 'Partition:' <<<"$out")
  if [[ "$n" == 0 ]]; then
    say "every partition in sync after $((SECONDS - start)) s: stopping"
    exit 0
  fi
  if ((SECONDS - start >= wait_s)); then
    say "$n partitions still under-replicated after $((SECONDS - start)) s: stopping anyway"
    exit 0
  fi
  sleep 2
done
`
}

// Log4jProperties sends every Kafka logger to stdout (as the apache/kafka image's
// own Docker logging does). The upstream file config writes server.log,
// controller.log, state-change.log and the request log into LOG_DIR, which in a
// pod is an emptyDir that grows until the kubelet evicts the pod. The properties
// format needs no YAML library on the classpath.
const Log4jProperties = `# Kafka logging for the umbrella-streaming brokers (generated; see components/entrypoint.go).
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.requestchannel.name = kafka.network.RequestChannel$
logger.requestchannel.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = INFO
logger.statechange.name = state.change.logger
logger.statechange.level = INFO
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = INFO
`
