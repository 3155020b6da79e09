#!/bin/bash
# kafka-run-class.sh — run one Kafka main class on the JVM with this installation's jars.
#
# Written for the umbrella kafka-base image (the Kafka distribution's bin/ scripts are not on
# Maven Central, so the image cannot take them from there). It keeps the interface of Apache
# Kafka 4.1's script of the same name:
#
#   kafka-run-class.sh [-daemon] [-name NAME] [-loggc] CLASS [ARGS...]
#
#   -daemon   run in the background, console output to $LOG_DIR/NAME.out
#   -name     the process name used for the .out and GC log files
#   -loggc    write a GC log to $LOG_DIR/NAME-gc.log (unless KAFKA_GC_LOG_OPTS is set)
#
# Environment, each with upstream's default when unset:
#   KAFKA_HEAP_OPTS             -Xmx256M
#   KAFKA_JVM_PERFORMANCE_OPTS  -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
#                               -XX:InitiatingHeapOccupancyPercent=35
#                               -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true
#   KAFKA_GC_LOG_OPTS           set by -loggc: -Xlog:gc*:file=... rotated 10 x 100M
#   KAFKA_JMX_OPTS              local JMX without auth or TLS; JMX_PORT adds the JMX and RMI port
#   KAFKA_LOG4J_OPTS            -Dlog4j2.configurationFile=<home>/config/tools-log4j2.yaml
#                               (when set, LOG_DIR is created: the caller is a server)
#   KAFKA_OPTS                  extra JVM options (java agents, JAAS, ...)
#   KAFKA_DEBUG                 non-empty: JDWP agent on JAVA_DEBUG_PORT (5005), or JAVA_DEBUG_OPTS;
#                               DEBUG_SUSPEND_FLAG=y waits for the debugger
#   LOG_DIR                     <home>/logs, passed to log4j as kafka.logs.dir
#   JAVA_HOME                   java from PATH when unset
#   CLASSPATH                   put in front of <home>/libs/*
# Differences from upstream: the classpath is the libs/ folder only (no source-tree build
# folders, no test-jar filtering: the image holds release jars only), Java 8 GC flags and
# Cygwin paths are gone (the image runs Java 17 on Linux), and -daemon without -name writes
# to $LOG_DIR/kafka.out instead of an unnamed file.
set -uo pipefail

if [[ $# -lt 1 ]]; then
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]"
  exit 1
fi

base_dir=$(cd "$(dirname "$0")/.." && pwd)

CLASSPATH="${CLASSPATH:+$CLASSPATH:}$base_dir/libs/*"

if [[ -z "${KAFKA_JMX_OPTS:-}" ]]; then
  KAFKA_JMX_OPTS="-Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
fi
if [[ -n "${JMX_PORT:-}" ]]; then
  KAFKA_JMX_OPTS+=" -Dcom.sun.management.jmxremote.port=$JMX_PORT"
  # In a container the RMI port must be fixed too, or remote JMX clients cannot connect.
  if [[ "$KAFKA_JMX_OPTS" != *-Dcom.sun.management.jmxremote.rmi.port=* ]]; then
    KAFKA_JMX_OPTS+=" -Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT"
  fi
fi

LOG_DIR="${LOG_DIR:-$base_dir/logs}"

if [[ -z "${KAFKA_LOG4J_OPTS:-}" ]]; then
  # A command-line tool: log to the console only.
  KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml"
else
  mkdir -p "$LOG_DIR"
fi
KAFKA_LOG4J_OPTS="-Dkafka.logs.dir=$LOG_DIR $KAFKA_LOG4J_OPTS"

KAFKA_OPTS="${KAFKA_OPTS:-}"
if [[ -n "${KAFKA_DEBUG:-}" ]]; then
  JAVA_DEBUG_PORT="${JAVA_DEBUG_PORT:-5005}"
  JAVA_DEBUG_OPTS="${JAVA_DEBUG_OPTS:--agentlib:jdwp=transport=dt_socket,server=y,suspend=${DEBUG_SUSPEND_FLAG:-n},address=$JAVA_DEBUG_PORT}"
  echo "Enabling Java debug options: $JAVA_DEBUG_OPTS"
  KAFKA_OPTS="$JAVA_DEBUG_OPTS $KAFKA_OPTS"
fi

if [[ -n "${JAVA_HOME:-}" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA=java
fi

KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx256M}"
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"

daemon_mode=false daemon_name="" gc_log=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    -name) daemon_name="${2:-}"; shift 2 ;;
    -loggc) [[ -z "${KAFKA_GC_LOG_OPTS:-}" ]] && gc_log=true; shift ;;
    -daemon) daemon_mode=true; shift ;;
    *) break ;;
  esac
done
if [[ $# -lt 1 ]]; then
  echo "USAGE: $0 [-daemon] [-name servicename] [-loggc] classname [opts]"
  exit 1
fi

if [[ "$gc_log" == true ]]; then
  KAFKA_GC_LOG_OPTS="-Xlog:gc*:file=$LOG_DIR/${daemon_name}-gc.log:time,tags:filecount=10,filesize=100M"
fi

# Each *_OPTS variable holds several JVM options: split on whitespace (never glob-expand).
read -r -a heap_opts <<<"$KAFKA_HEAP_OPTS"
read -r -a perf_opts <<<"$KAFKA_JVM_PERFORMANCE_OPTS"
read -r -a gc_opts <<<"${KAFKA_GC_LOG_OPTS:-}"
read -r -a jmx_opts <<<"$KAFKA_JMX_OPTS"
read -r -a log4j_opts <<<"$KAFKA_LOG4J_OPTS"
read -r -a extra_opts <<<"$KAFKA_OPTS"
cmd=("$JAVA" "${heap_opts[@]}" "${perf_opts[@]}" "${gc_opts[@]}" "${jmx_opts[@]}" "${log4j_opts[@]}"
  -cp "$CLASSPATH" "${extra_opts[@]}" "$@")

if [[ "$daemon_mode" == true ]]; then
  mkdir -p "$LOG_DIR"
  nohup "${cmd[@]}" >"$LOG_DIR/${daemon_name:-kafka}.out" 2>&1 </dev/null &
else
  exec "${cmd[@]}"
fi
