package testkafka

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Secret's files are the keys the platform writes (components.SecretKey*),
// each holding exactly its value.
func TestWriteCredentials(t *testing.T) {
	want := map[string]string{"username": "billing", "password": "s3cret", "sasl.mechanism": "SCRAM-SHA-512",
		"ca.crt": "-----BEGIN CERTIFICATE-----\n"}
	dir := WriteCredentials(t, want["username"], want["password"], want["sasl.mechanism"], want["ca.crt"])
	got := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		got[d.Name()] = string(b)
		return err
	}))
	assert.Equal(t, want, got)
}

// Writes from many goroutines all land, whole, while String is read.
func TestSyncBuffer(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = b.Write([]byte("line\n"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, strings.Repeat("line\n", 800), b.String())
}

// The repository root is found from this package's folder: it holds the
// stacks Start loads.
func TestProjectDir(t *testing.T) {
	root, err := ProjectDir()
	require.NoError(t, err)
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "internal", "testkafka"), wd)
	assert.FileExists(t, filepath.Join(root, "Pulumi.dev.yaml"))
}
