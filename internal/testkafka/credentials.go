package testkafka

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
)

// WriteCredentials writes a service's credentials Secret as the kubelet
// mounts it (one file per key: username, password, sasl.mechanism, ca.crt)
// into a new folder that is removed when t ends, and returns the folder.
func WriteCredentials(t testing.TB, user, password, mechanism, caPEM string) string {
	t.Helper()
	dir := t.TempDir()
	for name, value := range map[string]string{components.SecretKeyUsername: user, components.SecretKeyPassword: password,
		components.SecretKeyMechanism: mechanism, components.SecretKeyCA: caPEM} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(value), 0o600))
	}
	return dir
}
