//go:build realkafka

package realkafka

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
)

// ListenerCertificates and a generated SCRAM password through the real
// engine: the certificates come from a provider block with no
// bootstrapServers; nothing changes on a second up, a preview or a refresh;
// a rotation keeps the CA and re-issues the leaves; a new passwordWoVersion
// generates a new password; no key and no generated password appears in
// clear in the state, the backend's files or the engine's output.

const engineGenUser = "engine-gen" // generatePassword, SCRAM-SHA-512

// certsProgram declares the certificates (provider "certs", no Kafka) and a
// credential with a generated password (provider "kafka", the SASL_SSL
// listener), and exports what the test checks.
func certsProgram(bootstrap []string, caPEM string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		certsOnly, err := umbrellakafka.NewProvider(ctx, "certs", &umbrellakafka.ProviderArgs{})
		if err != nil {
			return err
		}
		certs, err := umbrellakafka.NewListenerCertificates(ctx, "kafka-tls", &umbrellakafka.ListenerCertificatesArgs{
			ServerCommonName:  pulumi.String("kafka-broker"),
			ServerNames:       pulumi.ToStringArray([]string{"*.kafka-headless.ns.svc", "kafka.ns.svc", "localhost"}),
			ClientCommonNames: pulumi.ToStringArray([]string{"umbrella-deployer"}),
			Rotation:          pulumi.Int(cfg.RequireInt("rotation")),
		}, pulumi.Provider(certsOnly))
		if err != nil {
			return err
		}
		kafka, err := umbrellakafka.NewProvider(ctx, "kafka", adminProviderArgs(bootstrap, caPEM))
		if err != nil {
			return err
		}
		gen, err := umbrellakafka.NewUserScramCredential(ctx, "gen", &umbrellakafka.UserScramCredentialArgs{
			Username:          pulumi.String(engineGenUser),
			ScramMechanism:    pulumi.String(localkafka.MechanismScramSHA512),
			GeneratePassword:  pulumi.Bool(true),
			PasswordWoVersion: pulumi.String(cfg.Require("genVersion")),
		}, pulumi.Provider(kafka))
		if err != nil {
			return err
		}
		ctx.Export("caCertPem", certs.CaCertPem)
		ctx.Export("caKeyPem", certs.CaKeyPem)
		ctx.Export("serverCertPem", certs.ServerCertPem)
		ctx.Export("serverKeyPem", certs.ServerKeyPem)
		ctx.Export("deployerKeyPem", certs.ClientCertificates.MapIndex(pulumi.String("umbrella-deployer")).KeyPem())
		ctx.Export("genPassword", gen.Password)
		return nil
	}
}

// pemBodyLine is the first base64 line of a PEM block: what a key would look
// like in a JSON state if it were stored in clear (the newlines escaped).
func pemBodyLine(t *testing.T, pemText string) string {
	t.Helper()
	lines := strings.Split(pemText, "\n")
	require.Greater(t, len(lines), 2, "not PEM")
	return lines[1]
}

// TestEngineListenerCertificatesAndGeneratedPassword runs up, up, preview,
// refresh, a rotation up and destroy through the engine and checks the
// outputs' secrecy, the absence of drift, the rotation and the logins.
func TestEngineListenerCertificatesAndGeneratedPassword(t *testing.T) {
	c := secureNode(t)
	plugins := pluginDir(t)
	ctx := testCtx(t, 10*time.Minute)
	st := engineStack(t, ctx, plugins, certsProgram(c.SASLBootstrap(), c.CACertPEM()))

	var out bytes.Buffer
	up := func(what string) (map[string]int, auto.OutputMap) {
		t.Helper()
		res, err := st.Up(ctx, optup.Diff(), optup.ProgressStreams(&out), optup.ErrorProgressStreams(&out))
		require.NoError(t, err, "%s:\n%s", what, out.String())
		return *res.Summary.ResourceChanges, res.Outputs
	}
	setConfig := func(rotation, genVersion string) {
		require.NoError(t, st.SetAllConfig(ctx, auto.ConfigMap{"rotation": {Value: rotation}, "genVersion": {Value: genVersion}}))
	}
	str := func(o auto.OutputMap, key string) string {
		v, ok := o[key].Value.(string)
		require.True(t, ok, "output %s", key)
		return v
	}

	setConfig("0", "1")
	changes, first := up("first up")
	assert.Equal(t, map[string]int{"create": 5}, changes, "stack, two providers, the certificates, the credential")
	assert.False(t, first["caCertPem"].Secret)
	for _, k := range []string{"caKeyPem", "serverKeyPem", "deployerKeyPem", "genPassword"} {
		assert.True(t, first[k].Secret, "output %s must be secret", k)
	}
	assertRotated(t, c, localkafka.MechanismScramSHA512, engineGenUser, str(first, "genPassword"), "")

	changes, again := up("second up, no change")
	assert.Equal(t, map[string]int{"same": 5}, changes)
	for _, k := range []string{"caCertPem", "caKeyPem", "serverCertPem", "serverKeyPem", "deployerKeyPem", "genPassword"} {
		assert.Equal(t, str(first, k), str(again, k), "%s regenerated without a change", k)
	}
	prev, err := st.Preview(ctx, optpreview.ExpectNoChanges(), optpreview.ProgressStreams(&out))
	require.NoError(t, err, out.String())
	assert.Equal(t, map[apitype.OpType]int{apitype.OpSame: 5}, prev.ChangeSummary)
	_, err = st.Refresh(ctx, optrefresh.ExpectNoChanges(), optrefresh.ProgressStreams(&out))
	require.NoError(t, err, "a refresh must find nothing changed:\n%s", out.String())

	setConfig("1", "2")
	changes, rotated := up("rotation up")
	assert.Equal(t, map[string]int{"same": 3, "update": 2}, changes)
	assert.Equal(t, str(first, "caCertPem"), str(rotated, "caCertPem"), "the CA is kept")
	assert.Equal(t, str(first, "caKeyPem"), str(rotated, "caKeyPem"))
	for _, k := range []string{"serverCertPem", "serverKeyPem", "deployerKeyPem", "genPassword"} {
		assert.NotEqual(t, str(first, k), str(rotated, k), "%s must be new after the rotation", k)
	}
	assertRotated(t, c, localkafka.MechanismScramSHA512, engineGenUser, str(rotated, "genPassword"), str(first, "genPassword"))

	// The state as `pulumi stack export` shows it (no --show-secrets) and
	// every backend file: keys and passwords only as ciphertext.
	export := exec.CommandContext(ctx, "pulumi", "stack", "export", "--stack", "dev")
	export.Dir = st.Workspace().WorkDir()
	export.Env = os.Environ()
	for k, v := range st.Workspace().GetEnvVars() {
		export.Env = append(export.Env, k+"="+v)
	}
	state, err := export.Output()
	require.NoError(t, err)
	stored := backendFiles(t, st)
	public := pemBodyLine(t, str(first, "caCertPem"))
	require.Contains(t, string(state), public, "the CA certificate is public: the greps below can see PEM")
	var secrets []string
	for _, o := range []auto.OutputMap{first, rotated} {
		for _, k := range []string{"caKeyPem", "serverKeyPem", "deployerKeyPem"} {
			secrets = append(secrets, pemBodyLine(t, str(o, k)))
		}
		secrets = append(secrets, str(o, "genPassword"))
	}
	for _, s := range secrets {
		assert.NotContains(t, string(state), s, "the exported state holds a secret in clear")
		assert.NotContains(t, out.String(), s, "the engine's output holds a secret in clear")
		for name, text := range stored {
			assert.NotContains(t, text, s, "backend file %s holds a secret in clear", name)
		}
	}

	_, err = st.Destroy(ctx, optdestroy.ProgressStreams(&out), optdestroy.ErrorProgressStreams(&out))
	require.NoError(t, err, out.String())
	awaitScramGone(t, ctx, c, engineGenUser)
}
