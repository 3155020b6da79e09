package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
)

// The prod stack as shipped runs secure (security.mode sasl-scram): the
// program registers the certificates, the brokers' TLS Secret mounted into
// every broker, the provider connected as the deployer over mTLS, and per
// service exactly one SCRAM user, its ACLs and its credentials Secret in its
// own namespace. Kafka's side of it is proven in tests/realkafka and on real
// pods in tests/realnode; this pins what the program registers.
func TestProdStackIsSecure(t *testing.T) {
	rec, err := run(t, "prod", stackConfig(t, "prod"), nil)
	require.NoError(t, err)

	certs := rec.one(t, "umbrellakafka:index:ListenerCertificates", "security-certificates")
	assert.Equal(t, "security", certs.Parent)
	assert.Equal(t, components.BrokerPrincipalName, certs.Inputs["serverCommonName"].StringValue())
	assert.Contains(t, certs.Inputs["serverNames"].Mappable(), "*.kafka-headless.umbrella-streaming.svc.cluster.local")
	assert.Equal(t, []any{components.DeployerPrincipalName}, certs.Inputs["clientCommonNames"].Mappable())

	tlsSecret := rec.one(t, "kubernetes:core/v1:Secret", "security-tls").Inputs
	assert.Equal(t, components.TLSSecretName, tlsSecret["metadata"].ObjectValue()["name"].StringValue())
	require.True(t, tlsSecret["stringData"].ContainsSecrets(), "the keystore stays secret")
	data := unsecret(tlsSecret["stringData"]).ObjectValue()
	assert.Equal(t, "mock-server-keystore", unsecret(data[components.TLSKeystoreFile]).StringValue())
	assert.Equal(t, "mock-ca-cert", unsecret(data[components.TLSTruststoreFile]).StringValue())

	pod := rec.one(t, "kubernetes:apps/v1:StatefulSet", "kafka").Inputs["spec"].ObjectValue()["template"].ObjectValue()
	var mounted bool
	for _, v := range pod["spec"].ObjectValue()["volumes"].ArrayValue() {
		if sec, ok := v.ObjectValue()["secret"]; ok {
			mounted = mounted || sec.ObjectValue()["secretName"].StringValue() == components.TLSSecretName
		}
	}
	assert.True(t, mounted, "the TLS Secret is a pod volume")
	assert.NotEmpty(t, pod["metadata"].ObjectValue()["annotations"].ObjectValue()[components.TLSChecksumAnnotation].StringValue(),
		"a re-issued certificate rolls the brokers")

	prov := rec.one(t, "pulumi:providers:umbrellakafka", "kafka-admin").Inputs
	assert.Equal(t, []any{"kafka-headless.umbrella-streaming.svc.cluster.local:9094"}, prov["bootstrapServers"].Mappable())
	assert.Equal(t, true, prov["tlsEnabled"].Mappable())
	assert.Equal(t, "mock-ca-cert", unsecret(prov["caCert"]).StringValue())
	assert.Equal(t, "mock-cert-"+components.DeployerPrincipalName, unsecret(prov["clientCert"]).StringValue())
	assert.True(t, prov["clientKey"].ContainsSecrets(), "the deployer's key stays secret")

	s := prodSpec(t)
	want, err := config.ServiceACLs(s.Services, s.Topics)
	require.NoError(t, err)
	acls := rec.byType("umbrellakafka:index:Acl")
	require.Len(t, acls, len(want), "exactly the ACLs the inventory computes")
	for _, a := range want {
		got := rec.one(t, "umbrellakafka:index:Acl", components.ACLResourceName(a)).Inputs
		assert.Equal(t, a.Principal, got["aclPrincipal"].StringValue())
		assert.Equal(t, a.Operation, got["aclOperation"].StringValue())
		assert.Equal(t, a.ResourceName, got["aclResourceName"].StringValue())
		assert.Equal(t, "Allow", got["aclPermissionType"].StringValue())
	}
	users := rec.byType("umbrellakafka:index:UserScramCredential")
	require.Len(t, users, len(s.Services))
	for _, svc := range s.Services {
		u := rec.one(t, "umbrellakafka:index:UserScramCredential", "user-"+svc.Name).Inputs
		assert.Equal(t, "SCRAM-SHA-512", u["scramMechanism"].StringValue())
		assert.Equal(t, true, u["generatePassword"].Mappable())
		sec := rec.one(t, "kubernetes:core/v1:Secret", "credentials-"+svc.Name).Inputs
		meta := sec["metadata"].ObjectValue()
		assert.Equal(t, svc.Namespace, meta["namespace"].StringValue(), "%s's Secret goes to its namespace", svc.Name)
		assert.Equal(t, components.ServiceSecretName(svc.Name), meta["name"].StringValue())
		require.True(t, sec["stringData"].ContainsSecrets(), "the password stays secret")
		sd := unsecret(sec["stringData"]).ObjectValue()
		assert.Equal(t, svc.Name, unsecret(sd[components.SecretKeyUsername]).StringValue())
		assert.Equal(t, "mock-password-"+svc.Name, unsecret(sd[components.SecretKeyPassword]).StringValue())
		assert.Contains(t, unsecret(sd[components.SecretKeyClientProperties]).StringValue(),
			fmt.Sprintf(`username="%s" password="mock-password-%s"`, svc.Name, svc.Name))
	}
	// The guard's live check on the next preview reads the deployer's identity back.
	assert.Empty(t, rec.byType("kubernetes:batch/v1:Job"))
}

// Adding a consumer in stack config adds exactly its ACLs (Read and Describe
// on the topic) and touches no other rule.
func TestAddingAConsumerAddsExactlyItsACLs(t *testing.T) {
	base, err := run(t, "prod", stackConfig(t, "prod"), nil)
	require.NoError(t, err)
	cfg := stackConfig(t, "prod")
	cfg["umbrella-streaming:services"] = `{"ui-backend":{"namespace":"umbrella-ui","consumes":["alerts","processing-results"],"group":"ui-backend"}}`
	more, err := run(t, "prod", cfg, nil)
	require.NoError(t, err)
	names := func(r *recorder) map[string]bool {
		out := map[string]bool{}
		for _, a := range r.byType("umbrellakafka:index:Acl") {
			out[a.Name] = true
		}
		return out
	}
	before, after := names(base), names(more)
	var added []string
	for n := range after {
		if !before[n] {
			added = append(added, n)
		}
	}
	for n := range before {
		assert.True(t, after[n], "ACL %s kept", n)
	}
	assert.ElementsMatch(t, []string{
		"acl-ui-backend-read-topic-literal-processing-results",
		"acl-ui-backend-describe-topic-literal-processing-results",
	}, added, strings.Join(added, ", "))
}

// prodSpec is the prod stack's validated spec, as the program sees it.
func prodSpec(t *testing.T) *config.Spec {
	t.Helper()
	values := map[string]string{}
	for k, v := range stackConfig(t, "prod") {
		values[strings.TrimPrefix(k, config.Project+":")] = v
	}
	s, err := config.Load("prod", values)
	require.NoError(t, err)
	return s
}

// unsecret is v without its secret wrapper (the SDK marks a whole map secret
// when one of its values is).
func unsecret(v resource.PropertyValue) resource.PropertyValue {
	if v.IsSecret() {
		return v.SecretValue().Element
	}
	return v
}
