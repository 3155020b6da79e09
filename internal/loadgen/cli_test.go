package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// runMain runs kafka-loadgen's Main with args to the end and returns its exit
// code and what it wrote to stdout and stderr.
func runMain(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// decodeLine requires stdout to be exactly one line, the JSON summary every
// subcommand prints, and decodes it into v.
func decodeLine(t *testing.T, stdout string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 1, "one JSON line on stdout: %q", stdout)
	require.NoError(t, json.Unmarshal([]byte(lines[0]), v), lines[0])
}
