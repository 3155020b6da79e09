package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSDKUpToDate guards against a checked-in Go SDK that no longer matches
// the provider's schema (a field or doc changed without regenerating).
func TestSDKUpToDate(t *testing.T) {
	files, err := Generate(context.Background())
	require.NoError(t, err)
	tmp := t.TempDir()
	require.NoError(t, Write(tmp, files))

	checkedIn := filepath.Join("..", "..", sdkSubdir)
	want, err := listFiles(tmp)
	require.NoError(t, err)
	got, err := listFiles(checkedIn)
	require.NoError(t, err)
	if !slices.Equal(want, got) {
		t.Fatalf("SDK is stale: run go run ./cmd/gen-sdk (generated files %v, checked-in files %v)", want, got)
	}
	for _, name := range want {
		a, err := os.ReadFile(filepath.Join(tmp, name))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(checkedIn, name))
		require.NoError(t, err)
		if !bytes.Equal(a, b) {
			t.Errorf("SDK is stale: run go run ./cmd/gen-sdk (%s differs)", name)
		}
	}
}

// TestWriteRemovesStaleFiles guards Write's clean-up: a file the generator no
// longer produces must disappear from the SDK directory.
func TestWriteRemovesStaleFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "umbrellakafka"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "umbrellakafka", "old.go"), []byte("package x\n"), 0o644))

	require.NoError(t, Write(dir, map[string][]byte{"umbrellakafka/new.go": []byte("package umbrellakafka\n")}))

	names, err := listFiles(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"umbrellakafka/new.go"}, names)
}
