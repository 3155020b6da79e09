package kafkaenv

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// Env is a container's environment, variable → value.
type Env map[string]string

// Get returns a variable's value ("" when unset).
func (e Env) Get(name string) string { return e[name] }

func (e Env) clone() Env {
	out := make(Env, len(e))
	for k, v := range e {
		out[k] = v
	}
	return out
}

// Variables the configure step reads itself.
const (
	rolesVar      = "KAFKA_PROCESS_ROLES"
	listenersVar  = "KAFKA_LISTENERS"
	advertisedVar = "KAFKA_ADVERTISED_LISTENERS"
	optsVar       = "KAFKA_OPTS"
)

// SecretsDir is where apache/kafka's SSL variables name their files.
const SecretsDir = "/etc/kafka/secrets"

// DefaultServerProperties is the configuration a node runs with when neither a
// variable nor a mounted server.properties sets a property: one node that is
// broker and controller, as apache/kafka's default.
//
//go:embed server.properties
var DefaultServerProperties string

// DefaultSource labels properties from DefaultServerProperties in messages.
const DefaultSource = "the image's default server.properties"

var (
	assignmentRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	saslRE       = regexp.MustCompile(`SASL_[A-Z]+://`)
)

// Prepare applies the image's run and configure steps to the environment, as
// apache/kafka's do: NAME=value arguments override variables; CLUSTER_ID falls
// back to the image's default; KAFKA_LISTENERS, when unset on a node that is a
// broker, is KAFKA_ADVERTISED_LISTENERS with every host 0.0.0.0; an SSL
// listener turns the file names under SecretsDir into store locations and
// passwords (secret reads a file there). It returns the new environment and the
// lines to print about what it set.
func Prepare(env Env, args []string, secret func(name string) (string, error)) (Env, []string, error) {
	out, notes := env.clone(), []string(nil)
	for _, a := range args {
		if !assignmentRE.MatchString(a) {
			return nil, nil, fmt.Errorf("%s", rules.Message("argument", a, "not a NAME=value assignment",
				"the image's run step takes only variable assignments, as apache/kafka's does (e.g. KAFKA_NODE_ID=2); to run another program, set the container's entrypoint"))
		}
		name, value, _ := strings.Cut(a, "=")
		out[name] = value
	}
	if out[ClusterIDVar] == "" {
		out[ClusterIDVar] = rules.ImageDefaultClusterID
		notes = append(notes, fmt.Sprintf("%s not set: using the image's default %q (as apache/kafka does); set your own from `kafka-storage.sh random-uuid`", ClusterIDVar, rules.ImageDefaultClusterID))
	}
	if err := controllerOnlyAdvertises(out); err != nil {
		return nil, nil, err
	}
	if note := deriveListeners(out); note != "" {
		notes = append(notes, note)
	}
	if err := sslFiles(out, secret); err != nil {
		return nil, nil, err
	}
	return out, append(notes, saslNotes(out)...), nil
}

// controllerOnlyAdvertises refuses advertised listeners on a controller-only
// node (apache/kafka's configure does too) and drops an empty one.
func controllerOnlyAdvertises(env Env) error {
	if env[rolesVar] != "controller" {
		return nil
	}
	if v, ok := env[advertisedVar]; ok && v != "" {
		return fmt.Errorf("%s", rules.Message(advertisedVar, v,
			"a controller-only node (KAFKA_PROCESS_ROLES = \"controller\") serves no clients and advertises no listener",
			"remove KAFKA_ADVERTISED_LISTENERS, or add broker to KAFKA_PROCESS_ROLES"))
	}
	delete(env, advertisedVar)
	return nil
}

// deriveListeners sets KAFKA_LISTENERS from the advertised listeners when it is
// unset; it leaves a value it cannot read for Validate to report.
func deriveListeners(env Env) string {
	if env[listenersVar] != "" || env[rolesVar] == "controller" || env[advertisedVar] == "" {
		return ""
	}
	ls, err := ParseListeners(env[advertisedVar])
	if err != nil {
		return ""
	}
	for i := range ls {
		ls[i].Host = "0.0.0.0"
	}
	env[listenersVar] = JoinListeners(ls)
	return fmt.Sprintf("%s not set: listening on %s (KAFKA_ADVERTISED_LISTENERS with every host 0.0.0.0, as apache/kafka does)", listenersVar, env[listenersVar])
}

// SSL variables: file names under SecretsDir and the properties they become.
const (
	sslKeystoreFile          = "KAFKA_SSL_KEYSTORE_FILENAME"
	sslKeyCredentials        = "KAFKA_SSL_KEY_CREDENTIALS"
	sslKeystoreCredentials   = "KAFKA_SSL_KEYSTORE_CREDENTIALS"
	sslTruststoreFile        = "KAFKA_SSL_TRUSTSTORE_FILENAME"
	sslTruststoreCredentials = "KAFKA_SSL_TRUSTSTORE_CREDENTIALS"
)

// sslFiles applies apache/kafka's SSL convention when an advertised listener
// uses SSL: the keystore (and, with client authentication, the truststore) are
// files under SecretsDir, and their passwords are in files named by the
// *_CREDENTIALS variables.
func sslFiles(env Env, secret func(string) (string, error)) error {
	if !strings.Contains(env[advertisedVar], "SSL://") {
		return nil
	}
	steps := [][3]string{
		{sslKeystoreFile, "KAFKA_SSL_KEYSTORE_LOCATION", ""},
		{sslKeyCredentials, "KAFKA_SSL_KEY_PASSWORD", "secret"},
		{sslKeystoreCredentials, "KAFKA_SSL_KEYSTORE_PASSWORD", "secret"},
	}
	if auth := env["KAFKA_SSL_CLIENT_AUTH"]; strings.Contains(auth, "required") || strings.Contains(auth, "requested") {
		steps = append(steps, [3]string{sslTruststoreFile, "KAFKA_SSL_TRUSTSTORE_LOCATION", ""},
			[3]string{sslTruststoreCredentials, "KAFKA_SSL_TRUSTSTORE_PASSWORD", "secret"})
	}
	for _, s := range steps {
		file := env[s[0]]
		if file == "" {
			return fmt.Errorf("%s", rules.Message(s[0], file, "required: KAFKA_ADVERTISED_LISTENERS has an SSL listener",
				fmt.Sprintf("set it to a file name under %s and mount that folder (as for apache/kafka)", SecretsDir)))
		}
		if s[2] == "" {
			env[s[1]] = SecretsDir + "/" + file
			continue
		}
		pw, err := secret(file)
		if err != nil {
			return fmt.Errorf("%s", rules.Message(s[0], file, fmt.Sprintf("cannot read %s/%s: %v", SecretsDir, file, err),
				"mount the folder holding it at "+SecretsDir))
		}
		env[s[1]] = strings.TrimRight(pw, "\r\n")
	}
	return nil
}

// saslNotes warns, as apache/kafka's configure does, when a SASL listener has no
// JAAS configuration in KAFKA_OPTS or in a sasl.jaas.config property.
func saslNotes(env Env) []string {
	if !saslRE.MatchString(env[advertisedVar]) ||
		strings.Contains(env[optsVar], "java.security.auth.login.config") {
		return nil
	}
	for k := range env {
		if strings.HasSuffix(k, "_SASL_JAAS_CONFIG") {
			return nil
		}
	}
	return []string{"KAFKA_ADVERTISED_LISTENERS has a SASL listener but neither KAFKA_OPTS (-Djava.security.auth.login.config=…) nor a KAFKA_…_SASL_JAAS_CONFIG variable configures JAAS; the broker will refuse to start"}
}

// Build returns the server.properties text a node starts with and the
// configuration Kafka will read from it. mounted is the text of
// /mnt/shared/config/server.properties, nil when there is none; the variables'
// properties follow it, sorted, so they win. With no property at all the node
// runs DefaultServerProperties.
func Build(env Env, mounted *string, mountedName string) (string, *Config) {
	cfg := newConfig()
	var text strings.Builder
	if mounted != nil {
		cfg.load(*mounted, mountedName)
		text.WriteString(*mounted)
		if !strings.HasSuffix(*mounted, "\n") && *mounted != "" {
			text.WriteString("\n")
		}
	}
	lines := envProperties(env)
	if len(lines) > 0 {
		text.WriteString("# From the container's KAFKA_* variables (later lines win).\n")
	}
	for _, l := range lines {
		cfg.load(l.line, l.variable)
		text.WriteString(l.line + "\n")
	}
	if cfg.Len() == 0 {
		cfg.load(DefaultServerProperties, DefaultSource)
		return DefaultServerProperties, cfg
	}
	return text.String(), cfg
}

type envLine struct{ variable, line string }

// envProperties lists the variables' property lines, sorted by variable.
func envProperties(env Env) []envLine {
	var out []envLine
	for k, v := range env {
		if p, ok := PropertyName(k); ok {
			out = append(out, envLine{variable: k, line: p + "=" + v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].variable < out[j].variable })
	return out
}
