package localkafka

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSecurityLines pins the secured listeners' settings: the authorizer
// denies by default, the super users, PEM stores, CN mapping, mTLS required
// only on MTLS, the four SASL mechanisms and the PLAIN users sorted by name.
func TestSecurityLines(t *testing.T) {
	got := securityLines(&Security{SuperUser: "admin", SuperPassword: "pw", PlainUsers: map[string]string{"zed": "z", "bob": "b"}},
		tlsFiles{keystore: "/d/ks.pem", truststore: "/d/ca.pem"})
	assert.Equal(t, []string{
		"# localkafka Options.Security",
		"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"allow.everyone.if.no.acl.found=false",
		"super.users=User:ANONYMOUS;User:admin",
		"ssl.keystore.type=PEM",
		"ssl.keystore.location=/d/ks.pem",
		"ssl.truststore.type=PEM",
		"ssl.truststore.location=/d/ca.pem",
		"ssl.principal.mapping.rules=RULE:^CN=([^,]+)$/$1/,DEFAULT",
		"listener.name.mtls.ssl.client.auth=required",
		"listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
		`listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="pw" user_bob="b" user_zed="z";`,
		"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
		"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
		"listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
	}, got)
}

// TestWithListeners checks that extra listeners are appended to the three
// list-valued keys and nothing else changes.
func TestWithListeners(t *testing.T) {
	props := "advertised.listeners=CLIENT://127.0.0.1:1\nlisteners=CLIENT://127.0.0.1:1\n" +
		"listener.security.protocol.map=CLIENT:PLAINTEXT\nnode.id=0\n"
	got := withListeners(props, []listenerAdd{
		{SASLListenerName, "SASL_SSL", 2, "127.0.0.1:2"},
		{MTLSListenerName, "SSL", 3, "127.0.0.1:3"},
	})
	assert.Equal(t, "advertised.listeners=CLIENT://127.0.0.1:1,SASL_SSL://127.0.0.1:2,MTLS://127.0.0.1:3\n"+
		"listeners=CLIENT://127.0.0.1:1,SASL_SSL://127.0.0.1:2,MTLS://127.0.0.1:3\n"+
		"listener.security.protocol.map=CLIENT:PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL\nnode.id=0\n", got)
	assert.Equal(t, props, withListeners(props, nil))
}

// TestSecurityValidate: a secured cluster without a super user is refused.
func TestSecurityValidate(t *testing.T) {
	assert.ErrorContains(t, (&Security{}).validate(), "needs SuperUser and SuperPassword")
	assert.ErrorContains(t, (&Security{SuperUser: "a", SuperPassword: "b", PlainUsers: map[string]string{"x y": "p"}}).validate(),
		`user name "x y"`)
	assert.NoError(t, (&Security{SuperUser: "a", SuperPassword: "b"}).validate())
}
