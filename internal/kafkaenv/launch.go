package kafkaenv

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// LaunchEnv sets the JVM variables apache/kafka's launch step sets: local JMX on
// by default, and with KAFKA_JMX_PORT remote JMX on that port, announced as
// KAFKA_JMX_HOSTNAME (default hostIP, the container's first address).
func LaunchEnv(env Env, hostIP string) Env {
	out := env.clone()
	if out["KAFKA_JMX_OPTS"] == "" {
		out["KAFKA_JMX_OPTS"] = "-Dcom.sun.management.jmxremote=true -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false"
	}
	if out["KAFKA_JMX_HOSTNAME"] == "" {
		out["KAFKA_JMX_HOSTNAME"] = hostIP
	}
	if port := out["KAFKA_JMX_PORT"]; port != "" {
		out["JMX_PORT"] = port
		out["KAFKA_JMX_OPTS"] += fmt.Sprintf(" -Djava.rmi.server.hostname=%s -Dcom.sun.management.jmxremote.local.only=false -Dcom.sun.management.jmxremote.rmi.port=%s -Dcom.sun.management.jmxremote.port=%s",
			out["KAFKA_JMX_HOSTNAME"], port, port)
	}
	return out
}

// LoggersVar lists extra loggers, as apache/kafka's: name=LEVEL,name=LEVEL.
const LoggersVar = "KAFKA_LOG4J_LOGGERS"

var (
	levels       = map[string]bool{"OFF": true, "FATAL": true, "ERROR": true, "WARN": true, "INFO": true, "DEBUG": true, "TRACE": true, "ALL": true}
	loggerItemRE = regexp.MustCompile(`(?m)^( *)- name: .*\n( *)level: .*$`)
)

// Log4j returns the node's log4j2.yaml: base with one logger added per entry
// of KAFKA_LOG4J_LOGGERS (KAFKA_LOG4J_ROOT_LOGLEVEL needs nothing: the image's
// file reads it). base must end with its Loggers.Logger list, as the image's
// does.
func Log4j(env Env, base string) (string, error) {
	v := strings.TrimSpace(env[LoggersVar])
	if v == "" {
		return base, nil
	}
	items := loggerItemRE.FindAllStringSubmatchIndex(base, -1)
	if len(items) == 0 || strings.TrimSpace(base[items[len(items)-1][1]:]) != "" {
		return "", errors.New(rules.Message(LoggersVar, v, "the log4j2.yaml in use does not end with a Loggers.Logger list to add to",
			"set the loggers in your own log4j2.yaml under /mnt/shared/config instead"))
	}
	last := items[len(items)-1]
	nameIndent, levelIndent := base[last[2]:last[3]], base[last[4]:last[5]]
	var b strings.Builder
	b.WriteString(strings.TrimRight(base, "\n") + "\n")
	for _, item := range splitList(v) {
		name, level, ok := strings.Cut(item, "=")
		name, level = strings.TrimSpace(name), strings.ToUpper(strings.TrimSpace(level))
		if !ok || name == "" || !levels[level] {
			return "", errors.New(rules.Message(LoggersVar, v, fmt.Sprintf("%q is not logger=LEVEL", item),
				"write logger=LEVEL pairs, comma-separated, e.g. kafka.controller=WARN,kafka.log.LogCleaner=DEBUG"))
		}
		fmt.Fprintf(&b, "%s- name: %s\n%slevel: %s\n", nameIndent, name, levelIndent, level)
	}
	return b.String(), nil
}
