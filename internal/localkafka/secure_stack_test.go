package localkafka

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Options.Security overlay needs the PLAINTEXT listener a secure stack
// does not have: the combination is refused before anything starts.
func TestSecureStackRefusesTheSecurityOverlay(t *testing.T) {
	prod, err := LoadStack(filepath.Join("..", ".."), "prod")
	require.NoError(t, err)
	_, err = Start(context.Background(), Options{Spec: prod, Dir: t.TempDir(),
		Security: &Security{SuperUser: "admin", SuperPassword: "pw"}})
	require.Error(t, err)
	assert.Equal(t, "localkafka: stack prod is secure (security.mode = sasl-scram) and runs its own SASL_SSL and mTLS "+
		"listeners: drop Options.Security, or start localkafka.Plaintext(spec) for the overlay", err.Error())
}
