//go:build realkafka

package realkafka

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// The SCRAM credentials' secrets through the real engine: a local Pulumi
// project (Automation API, inline Go program, the provider plugin built from
// this tree) manages two UserScramCredentials on a real Kafka 4.1.1 node with
// a SASL_SSL listener, whose passwords come from secret config values. The
// passwords must log in, rotate, and never appear in clear in the state or in
// the engine's output.

// The credentials the program manages.
const (
	engineAdmin     = "engine-admin"
	engineAdminPass = "engine-admin-secret-0"
	engineAppUser   = "engine-app"   // password, SCRAM-SHA-256
	engineWoUser    = "engine-wo"    // passwordWo + passwordWoVersion, SCRAM-SHA-512
	engineProject   = "scram-engine" // Pulumi project name
)

// secureNode starts a 1-node dev cluster with the SASL_SSL listener, stopped
// when the test ends.
func secureNode(t *testing.T) *localkafka.Cluster {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := localkafka.Start(ctx, localkafka.Options{Spec: stackSpec(t, "dev"), Dir: dir, KafkaLibs: kafkaLibs(t),
		Security: &localkafka.Security{SuperUser: engineAdmin, SuperPassword: engineAdminPass}})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	return c
}

// pluginDir builds the provider plugin from this tree into a fresh folder
// and puts the pulumi CLI on PATH (scripts/tools.sh env) if it is not there.
func pluginDir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(projectDir)
	require.NoError(t, err)
	if _, err := exec.LookPath("pulumi"); err != nil {
		env, err := exec.Command("bash", filepath.Join(root, "scripts/tools.sh"), "env").Output()
		require.NoError(t, err, "scripts/tools.sh env (the pulumi CLI)")
		harness.ApplyExports(string(env))
		_, err = exec.LookPath("pulumi")
		require.NoError(t, err, "the pulumi CLI is not on PATH: run scripts/tools.sh all")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "pulumi-resource-umbrellakafka"), "./cmd/pulumi-resource-umbrellakafka")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building the provider plugin: %s", out)
	return dir
}

// scramProgram is the Pulumi program: an explicit provider on the SASL_SSL
// listener as the super user, and the two credentials, passwords from
// secret config.
func scramProgram(bootstrap []string, caPEM string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		prov, err := umbrellakafka.NewProvider(ctx, "kafka", adminProviderArgs(bootstrap, caPEM))
		if err != nil {
			return err
		}
		app, err := umbrellakafka.NewUserScramCredential(ctx, "app", &umbrellakafka.UserScramCredentialArgs{
			Username:       pulumi.String(engineAppUser),
			ScramMechanism: pulumi.String(localkafka.MechanismScramSHA256),
			Password:       cfg.RequireSecret("appPassword"),
		}, pulumi.Provider(prov))
		if err != nil {
			return err
		}
		wo, err := umbrellakafka.NewUserScramCredential(ctx, "wo", &umbrellakafka.UserScramCredentialArgs{
			Username:          pulumi.String(engineWoUser),
			ScramMechanism:    pulumi.String(localkafka.MechanismScramSHA512),
			ScramIterations:   pulumi.Int(8192),
			PasswordWo:        cfg.RequireSecret("woPassword"),
			PasswordWoVersion: pulumi.String(cfg.Require("woVersion")),
		}, pulumi.Provider(prov))
		if err != nil {
			return err
		}
		ctx.Export("appId", app.ID())
		ctx.Export("woId", wo.ID())
		return nil
	}
}

// adminProviderArgs is an explicit provider on the SASL_SSL listener as the
// super user (the password is secret by the schema: the SDK wraps it).
func adminProviderArgs(bootstrap []string, caPEM string) *umbrellakafka.ProviderArgs {
	return &umbrellakafka.ProviderArgs{
		BootstrapServers: pulumi.ToStringArray(bootstrap),
		TlsEnabled:       pulumi.Bool(true),
		CaCert:           pulumi.String(caPEM),
		SaslMechanism:    pulumi.String("scram-sha512"),
		SaslUsername:     pulumi.String(engineAdmin),
		SaslPassword:     pulumi.String(engineAdminPass),
	}
}

// engineStack is a local project (file backend, own PULUMI_HOME) whose
// Pulumi.yaml points at the plugin folder.
func engineStack(t *testing.T, ctx context.Context, plugins string, prog pulumi.RunFunc) auto.Stack {
	t.Helper()
	dir := t.TempDir()
	project := filepath.Join(dir, "project")
	for _, d := range []string{project, filepath.Join(dir, "backend"), filepath.Join(dir, "home")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	yaml := "name: " + engineProject + "\nruntime: go\nplugins:\n  providers:\n    - name: umbrellakafka\n      path: " +
		strconv.Quote(plugins) + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(project, "Pulumi.yaml"), []byte(yaml), 0o644))
	env := deploy.EngineEnv(dir, "scram-engine-test-state")
	maps.Copy(env, harness.EngineEnv(""))
	st, err := auto.UpsertStackInlineSource(ctx, "dev", engineProject, prog,
		auto.WorkDir(project), auto.PulumiHome(env["PULUMI_HOME"]), auto.EnvVars(env))
	require.NoError(t, err)
	return st
}

// setPasswords sets the program's secret config.
func setPasswords(t *testing.T, ctx context.Context, st auto.Stack, app, wo, woVersion string) {
	t.Helper()
	require.NoError(t, st.SetAllConfig(ctx, auto.ConfigMap{
		"appPassword": {Value: app, Secret: true},
		"woPassword":  {Value: wo, Secret: true},
		"woVersion":   {Value: woVersion},
	}))
}

// engineLogin logs in on the SASL_SSL listener; nil means logged in.
func engineLogin(t *testing.T, c *localkafka.Cluster, mechanism, user, password string) error {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(c.CACertPEM())))
	auth := scram.Auth{User: user, Pass: password}
	var m sasl.Mechanism = auth.AsSha256Mechanism()
	if mechanism == localkafka.MechanismScramSHA512 {
		m = auth.AsSha512Mechanism()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.SASLBootstrap()...),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), kgo.SASL(m), kgo.RequestRetries(0))
	require.NoError(t, err)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// assertRotated checks that the new password logs in (once the broker has
// applied the controller's record) and the old one is refused.
func assertRotated(t *testing.T, c *localkafka.Cluster, mechanism, user, newPass, oldPass string) {
	t.Helper()
	var last error
	err := poll.Until(context.Background(), 100*time.Millisecond, 20*time.Second, func(context.Context) (bool, error) {
		last = engineLogin(t, c, mechanism, user, newPass)
		return last == nil, nil
	})
	require.NoError(t, err, "%s never logged in with the new password; last: %v", user, last)
	if oldPass != "" {
		assert.ErrorIs(t, engineLogin(t, c, mechanism, user, oldPass), kerr.SaslAuthenticationFailed,
			"%s must not log in with the old password", user)
	}
}

// awaitScramGone waits until the broker answers for each user that it has no
// SCRAM credential (RESOURCE_NOT_FOUND): the broker applies the controller's
// deletions after the destroy returned, and a user missing from the answer or
// another error proves nothing.
func awaitScramGone(t *testing.T, ctx context.Context, c *localkafka.Cluster, users ...string) {
	t.Helper()
	var last string
	err := poll.Until(ctx, 200*time.Millisecond, 30*time.Second, func(ctx context.Context) (bool, error) {
		described, err := c.Admin().DescribeUserSCRAMs(ctx, users...)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		for _, user := range users {
			d, ok := described[user]
			switch {
			case !ok:
				last = fmt.Sprintf("%s: not in the answer %+v", user, described)
				return false, nil
			case errors.Is(d.Err, kerr.ResourceNotFound):
			case d.Err != nil:
				last = fmt.Sprintf("%s: %v (%s)", user, d.Err, d.ErrMessage)
				return false, nil
			case len(d.CredInfos) > 0:
				last = fmt.Sprintf("%s still has %+v", user, d.CredInfos)
				return false, nil
			}
		}
		return true, nil
	})
	require.NoError(t, err, "waiting for the SCRAM credentials of %v to be gone after destroy (last: %s)", users, last)
}

// backendFiles reads every file of the stack's file backend.
func backendFiles(t *testing.T, st auto.Stack) map[string]string {
	t.Helper()
	root := strings.TrimPrefix(st.Workspace().GetEnvVars()["PULUMI_BACKEND_URL"], "file://")
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = string(b)
		return err
	}))
	require.NotEmpty(t, files, "the backend %s holds no file", root)
	return files
}

// TestEngineScramSecrets: up with secret passwords (both log in; the one
// that existed outside Pulumi is taken over with a warning), up with
// both passwords changed (the new ones log in, the old ones are refused), a
// third up and a preview with no change; the exported state and every
// output of the engine never hold a password in clear; destroy removes the
// credentials.
func TestEngineScramSecrets(t *testing.T) {
	c := secureNode(t)
	plugins := pluginDir(t)
	ctx := testCtx(t, 10*time.Minute)
	st := engineStack(t, ctx, plugins, scramProgram(c.SASLBootstrap(), c.CACertPEM()))

	const (
		app1, app2 = "app-pass-Alpha-7f3c1", "app-pass-Bravo-9d2e4"
		wo1, wo2   = "wo-pass-Charlie-4b8a6", "wo-pass-Delta-1c5f0"
	)
	secrets := []string{app1, app2, wo1, wo2, engineAdminPass}
	var out bytes.Buffer
	upOpts := []optup.Option{optup.Diff(), optup.ProgressStreams(&out), optup.ErrorProgressStreams(&out)}
	up := func(what string) map[string]int {
		t.Helper()
		res, err := st.Up(ctx, upOpts...)
		require.NoError(t, err, "%s:\n%s", what, out.String())
		return *res.Summary.ResourceChanges
	}

	// engine-app already has a SCRAM-SHA-256 credential made outside Pulumi:
	// the first up takes it over (as pulumi-kafka does) and warns about it.
	const outside = "app-pass-made-outside"
	require.NoError(t, c.AddScramUser(ctx, localkafka.MechanismScramSHA256, engineAppUser, outside))
	setPasswords(t, ctx, st, app1, wo1, "1")
	assert.Equal(t, map[string]int{"create": 4}, up("first up"), "stack, provider and two credentials")
	assert.Contains(t, out.String(), `UserScramCredential "engine-app|SCRAM-SHA-256" already existed in Kafka: its password is now this program's`)
	assertRotated(t, c, localkafka.MechanismScramSHA256, engineAppUser, app1, outside)
	assertRotated(t, c, localkafka.MechanismScramSHA512, engineWoUser, wo1, "")

	setPasswords(t, ctx, st, app2, wo2, "2")
	assert.Equal(t, map[string]int{"same": 2, "update": 2}, up("second up, both passwords changed"))
	assertRotated(t, c, localkafka.MechanismScramSHA256, engineAppUser, app2, app1)
	assertRotated(t, c, localkafka.MechanismScramSHA512, engineWoUser, wo2, wo1)

	assert.Equal(t, map[string]int{"same": 4}, up("third up, no change"))
	prev, err := st.Preview(ctx, optpreview.Diff(), optpreview.ProgressStreams(&out), optpreview.ErrorProgressStreams(&out))
	require.NoError(t, err, out.String())
	assert.Equal(t, map[apitype.OpType]int{apitype.OpSame: 4}, prev.ChangeSummary)
	assertRotated(t, c, localkafka.MechanismScramSHA256, engineAppUser, app2, app1)

	// `pulumi stack export` without --show-secrets (the Automation API's
	// Export decrypts), and every file of the backend: the state as stored,
	// its history and backups.
	export := exec.CommandContext(ctx, "pulumi", "stack", "export", "--stack", "dev")
	export.Dir = st.Workspace().WorkDir()
	for k, v := range st.Workspace().GetEnvVars() {
		export.Env = append(export.Env, k+"="+v)
	}
	export.Env = append(os.Environ(), export.Env...)
	state, err := export.Output()
	require.NoError(t, err)
	require.Contains(t, string(state), engineAppUser+"|SCRAM-SHA-256", "the export holds the credentials")
	require.Contains(t, string(state), "ciphertext", "the passwords are recorded as secrets")
	stored := backendFiles(t, st)
	var readable bool
	for _, text := range stored {
		readable = readable || strings.Contains(text, engineAppUser+"|SCRAM-SHA-256")
	}
	require.True(t, readable, "no backend file shows the credential's ID: the grep below would prove nothing")
	require.Contains(t, out.String(), "[secret]", "the diffs show the passwords, masked")
	for _, s := range secrets {
		assert.NotContains(t, string(state), s, "the exported state holds a password in clear")
		assert.NotContains(t, out.String(), s, "the engine's output holds a password in clear")
		for name, text := range stored {
			assert.NotContains(t, text, s, "backend file %s holds a password in clear", name)
		}
	}

	_, err = st.Destroy(ctx, optdestroy.ProgressStreams(&out), optdestroy.ErrorProgressStreams(&out))
	require.NoError(t, err, out.String())
	awaitScramGone(t, ctx, c, engineAppUser, engineWoUser)
	for _, s := range secrets {
		assert.False(t, strings.Contains(out.String(), s), "the destroy output holds a password in clear")
	}
}
