//go:build integration

package deploy_test

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/program"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// The Automation API path of the unknown-key check, with the real engine: an
// inline program cannot list its stack's keys, so Open lists them from the
// workspace and the program refuses a misspelt key at preview. Nothing is
// registered, so this needs no cluster.
func TestInlinePreviewRefusesAnUnknownKey(t *testing.T) {
	root := harness.RepoRoot()
	require.NoError(t, harness.ToolsAndProvider(root))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := deploy.Open(ctx, deploy.Options{
		Stack: "dev", ProjectDir: root, StateDir: t.TempDir(),
		Config: map[string]string{"brokrs": "3", "broker": `{"minInSyncReplicas":1}`},
	})
	require.NoError(t, err)
	_, err = st.Preview(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `brokrs = "3": is not a config key of umbrella-streaming, so nothing would read it`)
	assert.Contains(t, err.Error(), "broker.minInSyncReplicas = 1: is not a field of broker, so nothing would read it")
	assert.Contains(t, err.Error(), "rename it to minInsyncReplicas")
}

// The engine never fetches a plugin (EngineEnv): a stack that needs one that is
// not installed fails at once with the engine's own "no resource plugin" error,
// and nothing is sent to the network. Every proxy variable points at a listener
// of this test that counts the connections it gets: a download (from GitHub or
// get.pulumi.com, both HTTPS) would have to connect to it first.
func TestTheEngineNeverDownloadsAPlugin(t *testing.T) {
	root := harness.RepoRoot()
	require.NoError(t, harness.ToolsAndProvider(root))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	proxy, connections := countingListener(t)
	env := harness.EngineEnv("/nonexistent")
	for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"} {
		env[k] = "http://" + proxy
	}
	env["NO_PROXY"], env["no_proxy"] = "", ""
	st, err := deploy.Open(ctx, deploy.Options{
		Stack: "dev", ProjectDir: root, StateDir: t.TempDir(), Env: env,
		Run: func(ctx *pulumi.Context) error {
			var pet pulumi.CustomResourceState
			return ctx.RegisterResource("random:index/randomPet:RandomPet", "pet", pulumi.Map{}, &pet,
				pulumi.Version("4.16.0"))
		},
	})
	require.NoError(t, err)
	start := time.Now()
	_, err = st.Preview(ctx)
	require.Error(t, err)
	t.Logf("FIGURE the preview needing a missing plugin failed after %s", time.Since(start).Round(10*time.Millisecond))
	assert.Contains(t, err.Error(), "no resource plugin 'pulumi-resource-random' found")
	assert.Zero(t, connections(), "the engine tried to reach the network (a plugin download)")
}

// countingListener is a TCP listener on the loopback that accepts and closes
// connections, counting them.
func countingListener(t *testing.T) (addr string, connections func() int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), n.Load
}

// A legal but risky setting (config.Warnings) is shown by the engine as a
// warning and deploys: a rendered prod preview (no cluster) with an alerts topic
// whose min.insync.replicas equals its replication factor reports the warning
// (a diagnostic: the diff text leaves them out).
// (tests/program_test.go checks under mocks that the same setting deploys; the
// mock engine drops log messages, so the warning itself is read here.)
func TestRiskySettingIsWarnedInThePreview(t *testing.T) {
	root := harness.RepoRoot()
	require.NoError(t, harness.ToolsAndProvider(root))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := deploy.Open(ctx, deploy.Options{
		Stack: "prod", ProjectDir: root, StateDir: t.TempDir(), Env: harness.EngineEnv("/nonexistent"),
		Program: program.Options{RenderDir: t.TempDir()}, Progress: harness.TestWriter{T: t},
		Config: map[string]string{
			"security":       `{"mode":"none"}`, // rendering refuses the secure stack (its key would be in the files)
			"topicOverrides": `{"alerts":{"config":{"min.insync.replicas":"3"}}}`,
		},
	})
	require.NoError(t, err)
	_, diags, err := st.PreviewDiagnostics(ctx)
	require.NoError(t, err, "a warning never stops a deployment")
	var warned []string
	for _, d := range diags {
		if strings.Contains(d, "topics.alerts.replicationFactor = 3: equals min.insync.replicas (3)") {
			warned = append(warned, d)
		}
	}
	require.Len(t, warned, 1, "the preview's diagnostics: %q", diags)
	assert.Contains(t, warned[0], "lower min.insync.replicas to 2", "the warning names the fix")
}
