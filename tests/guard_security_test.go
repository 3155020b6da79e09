package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A prod stack deployed plaintext before security.mode was recorded: its
// guarded output lacks the field, which then counts as "none". Turning the
// secure listeners on is refused with the outage runbook, and nothing is
// registered; the operator who stopped the brokers lets it through once.
func TestGuardRefusesSecurityModeChangeOnDeployedStack(t *testing.T) {
	plaintext := resource.NewPropertyMapFromMap(map[string]any{"guarded": map[string]any{
		"broker.minInsyncReplicas": "2", "brokers": "3", "clusterId": "MjPBEhmLSH-4IwmCODRzPg", "controllers": "3",
		"storage.size": "100Gi", "storage.storageClass": "",
	}})
	rec, err := run(t, "prod", stackConfig(t, "prod"), plaintext)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `security.mode changed from "none" to "sasl-scram" on a deployed stack: security.mode changes every listener at once`)
	assert.Contains(t, err.Error(), "kubectl -n umbrella-streaming scale statefulset kafka --replicas=0")
	assert.Empty(t, rec.byType("kubernetes:apps/v1:StatefulSet"), "nothing is registered after a refusal")

	cfg := stackConfig(t, "prod")
	cfg["umbrella-streaming:guardOverrides"] = `["security.mode"]`
	_, err = run(t, "prod", cfg, plaintext)
	require.NoError(t, err)

	// Back to plaintext is refused the same way.
	cfg = stackConfig(t, "prod")
	cfg["umbrella-streaming:security"] = `{"mode":"none"}`
	secure := resource.NewPropertyMapFromMap(map[string]any{"guarded": map[string]any{
		"clusterId": "MjPBEhmLSH-4IwmCODRzPg", "controllers": "3", "storage.size": "100Gi", "storage.storageClass": "",
		"security.mode": "sasl-scram",
	}})
	_, err = run(t, "prod", cfg, secure)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `security.mode changed from "sasl-scram" to "none" on a deployed stack`)
}
