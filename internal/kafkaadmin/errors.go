package kafkaadmin

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka answers a refused request with an error code and, often, a message
// that names the offending property. The hints below turn the common codes
// into what to change and where: the Topic's config key, the provider
// settings (saslMechanism, saslUsername, saslPassword, tlsEnabled, caCert, clientCert), the
// ACL to grant, or the broker setting that forbids it.

// Kafka's INVALID_CONFIG messages, e.g. "Unknown topic config name:
// retention.msec" and "Invalid value forever for configuration
// cleanup.policy: String must be one of: compact, delete".
var (
	unknownConfigRe = regexp.MustCompile(`Unknown topic config name: (\S+)`)
	invalidValueRe  = regexp.MustCompile(`Invalid value (.*?) for configuration ([^\s:]+)`)
	configNameRe    = regexp.MustCompile(`config(?:uration)?(?: name)?:? '?([a-z0-9]+(?:\.[a-z0-9]+)+)'?`)
)

// aclOperation is the ACL operation a request needs on a topic, and whether
// it is on the cluster resource instead.
func aclOperation(op string) (operation string, cluster bool) {
	switch {
	case strings.HasPrefix(op, "CreateTopics"):
		return "Create", false
	case strings.HasPrefix(op, "DeleteTopics"):
		return "Delete", false
	case strings.HasPrefix(op, "CreatePartitions"):
		return "Alter", false
	case strings.HasPrefix(op, "IncrementalAlterConfigs"):
		return "AlterConfigs", false
	case strings.HasPrefix(op, "DescribeConfigs"):
		return "DescribeConfigs", false
	case strings.HasPrefix(op, "AlterPartitionAssignments"):
		return "Alter", true
	case strings.HasPrefix(op, "ListPartitionReassignments"):
		return "Describe", true
	}
	return "Describe", false
}

// principalHint names the provider settings that choose the Kafka principal.
const principalHint = "the provider authenticates as User:<saslUsername> (saslMechanism/saslUsername; with " +
	"clientCert and no SASL, the principal the broker maps the certificate to, usually User:<CN>; User:ANONYMOUS " +
	"without either)"

// kafkaHint returns what to do about a Kafka error code answered for topic by
// op, or "" when the code's own message says enough.
func kafkaHint(topic, op string, err error, brokerMsg string) string {
	switch {
	case errors.Is(err, kerr.InvalidConfig):
		if m := unknownConfigRe.FindStringSubmatch(brokerMsg); m != nil {
			return fmt.Sprintf("config[%q] is not a topic config Kafka knows: fix its spelling (see the topic "+
				"configs at https://kafka.apache.org/documentation/#topicconfigs) or remove it from the Topic's config", m[1])
		}
		if m := invalidValueRe.FindStringSubmatch(brokerMsg); m != nil {
			return fmt.Sprintf("config[%q] = %q is refused: set config[%q] to a value Kafka accepts (the broker's "+
				"message above says which) or remove it from the Topic's config", m[2], m[1], m[2])
		}
		if m := configNameRe.FindStringSubmatch(brokerMsg); m != nil {
			return fmt.Sprintf("config[%q] is refused: fix or remove it in the Topic's config", m[1])
		}
		return "a config key or value is refused: check the Topic's config against the broker's message"
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		operation, _ := aclOperation(op)
		return fmt.Sprintf("%s, which lacks the %s permission on topic %q: grant it with "+
			"kafka-acls --bootstrap-server <broker> --add --allow-principal User:<saslUsername> --operation %s --topic %s, "+
			"or set saslUsername/saslPassword to a principal that has it", principalHint, operation, topic, operation, topic)
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		operation, _ := aclOperation(op)
		return fmt.Sprintf("%s, which lacks the %s permission on the cluster: grant it with "+
			"kafka-acls --bootstrap-server <broker> --add --allow-principal User:<saslUsername> --operation %s --cluster, "+
			"or set saslUsername/saslPassword to a principal that has it", principalHint, operation, operation)
	case errors.Is(err, kerr.TopicDeletionDisabled):
		return fmt.Sprintf("the brokers set delete.topic.enable=false, so Kafka deletes no topic: set "+
			"delete.topic.enable=true on the brokers to delete %q, or keep the topic and stop managing it with "+
			"pulumi state delete <urn> (set protectTopics on the provider to refuse deletes up front)", topic)
	case errors.Is(err, kerr.PolicyViolation):
		return "a topic policy of the cluster (create.topic.policy.class.name or alter.config.policy.class.name " +
			"on the brokers) refused it: change the inputs to what the policy allows (the broker's message says " +
			"which rule), or ask the cluster's operators to change the policy"
	case errors.Is(err, kerr.InvalidTopicException) && strings.Contains(brokerMsg, "collides"):
		return fmt.Sprintf("Kafka treats '.' and '_' alike in topic names (they map to the same metric names), "+
			"so %q cannot exist beside the topic named in the message: choose a name that differs in more than "+
			"'.' versus '_'", topic)
	}
	return ""
}

// RequestHint returns what to do about a request that got no Kafka answer
// because authentication or the TLS handshake failed, or "".
func RequestHint(err error) string {
	var (
		verify     *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		record     tls.RecordHeaderError
		invalidCrt x509.CertificateInvalidError
		remote     *net.OpError
	)
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return "the brokers refused the SASL credentials: check the provider's saslUsername and saslPassword " +
			"(and that saslMechanism matches the user's credential type, e.g. scram-sha512 needs a SCRAM-SHA-512 " +
			"credential; for oauthbearer, that the token is one the brokers accept)"
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return "the brokers do not enable the provider's saslMechanism on this listener: set saslMechanism to " +
			"one the listener enables (sasl.enabled.mechanisms), or unset saslUsername and saslPassword for a " +
			"listener without SASL"
	case errors.Is(err, kerr.IllegalSaslState):
		return "the listener does not expect SASL: unset saslUsername and saslPassword, or point bootstrapServers at a " +
			"SASL listener"
	case errors.As(err, &unknownCA), errors.As(err, &verify) && errors.As(verify.Err, &unknownCA):
		return "the TLS handshake failed: the brokers' certificate is signed by a CA the provider does not trust: " +
			"set the provider's caCert to that CA's PEM certificate (or skipTlsVerify = true for an insecure " +
			"development cluster)"
	case errors.As(err, &hostname):
		return "the TLS handshake failed: the brokers' certificate does not name the address dialled: use the " +
			"host name the certificate names in bootstrapServers, or reissue the certificate"
	case errors.As(err, &invalidCrt), errors.As(err, &verify):
		return "the TLS handshake failed: the brokers' certificate is not valid for the provider: check it, " +
			"and set caCert to the CA that signs it"
	case errors.As(err, &remote) && remote.Op == "remote error" && strings.Contains(remote.Err.Error(), "certificate"):
		return "the TLS handshake failed: the broker requires a client certificate it trusts (mTLS): set the " +
			"provider's clientCert and clientKey to a certificate signed by a CA the broker trusts " +
			"(ssl.truststore), with clientKeyPassphrase if the key is encrypted"
	case errors.As(err, &record):
		return "the TLS handshake failed: the listener does not speak TLS: set the provider's tlsEnabled = false, " +
			"or point bootstrapServers at a TLS listener"
	}
	return ""
}

// securityOperations maps the ACL and quota requests to the cluster
// permission each needs.
var securityOperations = map[string]string{
	"CreateAcls":           "Alter",
	"DeleteAcls":           "Alter",
	"DescribeAcls":         "Describe",
	"AlterClientQuotas":    "AlterConfigs",
	"DescribeClientQuotas": "DescribeConfigs",
}

// securityHint returns what to do about a Kafka error code answered to an
// ACL or quota request, or "" when the code's own message says enough.
func securityHint(what, op string, err error) string {
	switch {
	case errors.Is(err, kerr.SecurityDisabled):
		return "the brokers run no authorizer, so Kafka keeps no ACLs: set " +
			"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer on every broker and " +
			"controller (with super.users naming the admin principal the provider uses), or remove the Acl resources"
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		operation := securityOperations[op]
		return fmt.Sprintf("%s, which lacks the %s permission on the cluster that %s needs: grant it with "+
			"kafka-acls --bootstrap-server <broker> --add --allow-principal User:<saslUsername> --operation %s --cluster "+
			"(or list the principal in the brokers' super.users), or set saslUsername/saslPassword to a principal that has it",
			principalHint, operation, op, operation)
	case errors.Is(err, kerr.InvalidRequest), errors.Is(err, kerr.InvalidConfig):
		return fmt.Sprintf("Kafka refused %s as written (the broker's message above says which part): fix that input", what)
	}
	return ""
}

// TopicError wraps a Kafka error for one topic so that the message starts
// with the topic and Kafka's error name, e.g.
// `topic "x": INVALID_REPLICATION_FACTOR: Replication factor is invalid. (CreateTopics: ...)`.
// errors.Is keeps working on the kerr value.
// A hint (errors.go) follows for codes whose fix is not obvious.
func TopicError(topic, op string, err error, brokerMsg string) error {
	hint := kafkaHint(topic, op, err, brokerMsg)
	if hint != "" {
		hint = ": " + hint
	}
	if brokerMsg != "" {
		return fmt.Errorf("topic %q: %w (%s: %s)%s", topic, err, op, brokerMsg, hint)
	}
	return fmt.Errorf("topic %q: %w (%s)%s", topic, err, op, hint)
}

// requestError wraps a failure to issue a request at all (no broker
// reachable, timeout, authentication).
// Authentication and TLS failures get a hint naming the provider settings, and
// a request-level Kafka error code (e.g. CLUSTER_AUTHORIZATION_FAILED) the
// hint TopicError gives it.
func requestError(topic, op string, err error) error {
	if hint := cmp.Or(RequestHint(err), kafkaHint(topic, op, err, "")); hint != "" {
		return fmt.Errorf("topic %q: %s request failed: %w: %s", topic, op, err, hint)
	}
	return fmt.Errorf("topic %q: %s request failed: %w", topic, op, err)
}

// isKafkaError reports whether err carries an error code Kafka answered with,
// as opposed to a request that got no answer. Waits give up at once on the
// former and ask again on the latter.
func isKafkaError(err error) bool {
	var ke *kerr.Error
	return errors.As(err, &ke)
}
