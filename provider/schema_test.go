package provider

import (
	"context"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSchema guards the names and flags the generated SDKs depend on.
func TestSchema(t *testing.T) {
	spec, err := p.GetSchema(context.Background(), Name, Version, Provider())
	require.NoError(t, err)

	assert.Equal(t, "umbrellakafka", spec.Name)
	assert.Equal(t, "0.1.0", spec.Version)
	goInfo := string(spec.Language["go"])
	assert.Contains(t, goInfo, `"importBasePath":"`+GoImportPath+`"`)

	topic, ok := spec.Resources[TopicToken]
	require.True(t, ok, "resource %s missing", TopicToken)
	assert.Equal(t, []string{"name", "partitions", "replicationFactor"}, topic.RequiredInputs)
	for _, k := range []string{"name", "partitions", "replicationFactor", "config", "adopt"} {
		assert.NotEmpty(t, topic.InputProperties[k].Description, "topic input %s undocumented", k)
	}

	cfg := spec.Provider
	// bootstrapServers is optional so that ListenerCertificates works without a cluster (certs_test.go).
	assert.Empty(t, cfg.RequiredInputs)
	for _, k := range []string{"bootstrapServers", "tlsEnabled", "caCert", "clientCert", "clientKey",
		"clientKeyPassphrase", "caCertFile", "clientCertFile", "clientKeyFile", "skipTlsVerify", "saslMechanism", "saslUsername", "saslPassword", "saslTokenUrl",
		"saslOauthScopes", "timeout", "protectTopics", "allowReplace", "kubernetes"} {
		assert.NotEmpty(t, cfg.InputProperties[k].Description, "config %s undocumented", k)
	}
}
