package kafkaadmin

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TestSecurityError: ACL and quota errors start with what they are about and
// Kafka's error name, and the codes whose fix is not obvious get a hint.
func TestSecurityError(t *testing.T) {
	err := securityError("acl User:a|*|Write|Allow|Topic|t|Literal", "CreateAcls", kerr.SecurityDisabled, "No Authorizer is configured.")
	require.ErrorIs(t, err, kerr.SecurityDisabled)
	assert.EqualError(t, err, "acl User:a|*|Write|Allow|Topic|t|Literal: SECURITY_DISABLED: Security features are "+
		"disabled. (CreateAcls: No Authorizer is configured.): the brokers run no authorizer, so Kafka keeps no ACLs: "+
		"set authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer on every broker and "+
		"controller (with super.users naming the admin principal the provider uses), or remove the Acl resources")
	err = securityError(`quota of user "x"`, "AlterClientQuotas", kerr.ClusterAuthorizationFailed, "")
	assert.EqualError(t, err, `quota of user "x": CLUSTER_AUTHORIZATION_FAILED: Cluster authorization failed. `+
		`(AlterClientQuotas): the provider authenticates as User:<saslUsername> (saslMechanism/saslUsername; `+
		`with clientCert and no SASL, the principal the broker maps the certificate to, usually User:<CN>; `+
		`User:ANONYMOUS without either), which lacks the AlterConfigs permission on the cluster that AlterClientQuotas `+
		`needs: grant it with kafka-acls --bootstrap-server <broker> --add --allow-principal User:<saslUsername> `+
		`--operation AlterConfigs --cluster (or list the principal in the brokers' super.users), or set `+
		`saslUsername/saslPassword to a principal that has it`)
}

// kfake closes the connection on a refused SASL/PLAIN password instead of
// answering SASL_AUTHENTICATION_FAILED as Kafka does, so the hint is checked
// here on the error Kafka's answer becomes; real Kafka's answer is
// TestProviderAuthFailures (realkafka).
func TestSASLFailureHint(t *testing.T) {
	err := requestError("x", "CreateTopics", kerr.SaslAuthenticationFailed)
	assert.True(t, errors.Is(err, kerr.SaslAuthenticationFailed))
	assert.Equal(t, `topic "x": CreateTopics request failed: SASL_AUTHENTICATION_FAILED: SASL Authentication failed.: `+
		`the brokers refused the SASL credentials: check the provider's `+
		`saslUsername and saslPassword (and that saslMechanism matches the user's credential type, `+
		`e.g. scram-sha512 needs a SCRAM-SHA-512 credential; for oauthbearer, that the token is one the brokers accept)`, err.Error())
}
