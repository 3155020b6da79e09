package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
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

// stop creates the file a produce run with --stop-file watches, and says
// what it wants when it gets anything but one path.
func TestStopCreatesTheStopFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stop")
	code, _, stderr := runMain(context.Background(), "stop", path)
	require.Equal(t, ExitOK, code, stderr)
	require.FileExists(t, path)

	code, _, stderr = runMain(context.Background(), "stop")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, stderr, "the --stop-file PATH of the run to end")

	code, _, stderr = runMain(context.Background(), "stop", filepath.Join(t.TempDir(), "no-such-dir", "stop"))
	require.Equal(t, ExitFailed, code)
	require.Contains(t, stderr, "no such file or directory")
}
