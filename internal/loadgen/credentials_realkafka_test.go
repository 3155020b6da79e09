//go:build realkafka

package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// With a mounted credentials Secret, produce and verify speak SASL_SSL with
// SCRAM-SHA-512 against a real Kafka 4.1.1 under the StandardAuthorizer: a
// user allowed everything (the super user) writes and reads back every
// record; a user without ACLs gets TOPIC_AUTHORIZATION_FAILED for each
// record; a wrong password fails authentication, and nothing is acknowledged.
// consume connects the same way (see the end of the test).
func TestCredentialsAgainstRealKafka(t *testing.T) {
	libs, err := localkafka.FindLibs()
	if err != nil {
		t.Fatalf("the real-Kafka test needs the Kafka %s jars: %v", localkafka.KafkaVersion, err)
	}
	spec, err := localkafka.LoadStack(projectDir, "dev")
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "loadgen-creds-")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := localkafka.Start(ctx, localkafka.Options{Spec: spec, Dir: dir, KafkaLibs: libs,
		Security: &localkafka.Security{SuperUser: "loadgen-admin", SuperPassword: "admin-secret"}})
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, c.Stop())
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	require.NoError(t, c.AddScramUser(ctx, localkafka.MechanismScramSHA512, "no-acls", "no-acls-secret"))
	const topic = "creds"
	created, err := c.Admin().CreateTopic(ctx, 1, 1, nil, topic)
	require.NoError(t, err)
	require.NoError(t, created.Err)
	require.NoError(t, c.WaitPropagated(ctx, topic, 1))

	as := func(user, password string) ClientConfig {
		return ClientConfig{Bootstrap: c.SASLBootstrap(),
			CredentialsDir: writeCredentials(t, user, password, "SCRAM-SHA-512", c.CACertPEM())}
	}
	admin := as("loadgen-admin", "admin-secret")
	sum, err := Produce(ctx, ProduceConfig{Client: admin, Topic: topic, RunID: "creds", Count: 500, Rate: 1000})
	require.NoError(t, err)
	assert.Equal(t, int64(500), sum.Acked)
	res, err := Verify(ctx, VerifyConfig{Client: admin, Topic: topic, RunID: "creds", Acked: sum.AckedSeqRanges})
	require.NoError(t, err)
	assert.Equal(t, int64(500), res.Found)
	assert.Zero(t, res.Lost)

	// Produce reads the topic's partitions first: Describe is denied too, and
	// the run stops before sending anything, naming the error.
	denied, err := Produce(ctx, ProduceConfig{Client: as("no-acls", "no-acls-secret"), Topic: topic, RunID: "denied",
		Count: 20, FlushTimeout: 30 * time.Second})
	require.ErrorContains(t, err, "TOPIC_AUTHORIZATION_FAILED")
	assert.Zero(t, denied.Acked)

	wrong, err := Produce(ctx, ProduceConfig{Client: as("loadgen-admin", "wrong"), Topic: topic, RunID: "wrong",
		Count: 5, FlushTimeout: 10 * time.Second})
	require.ErrorContains(t, err, "SASL_AUTHENTICATION_FAILED")
	assert.Zero(t, wrong.Acked)

	// consume --credentials: the super user consumes the 500 records in a
	// group and commits them. A user allowed to Read the topic but not the
	// group gets GROUP_AUTHORIZATION_FAILED joining it: the run stops, exit
	// 1, the summary's error naming it and the fix.
	run := startConsume(t, ctx, admin.Bootstrap, topic, "creds-group", "--credentials", admin.CredentialsDir,
		"--progress", "200ms")
	awaitCommittedAtEnd(t, ctx, c.Admin(), "creds-group", topic, 500)
	code, consumed := run.stop(t)
	require.Equal(t, ExitOK, code, run.stderr.String())
	assert.Equal(t, int64(500), consumed.Consumed)
	assert.Zero(t, consumed.Lag)

	require.NoError(t, c.AddScramUser(ctx, localkafka.MechanismScramSHA512, "topic-only", "topic-only-secret"))
	acl := kadm.NewACLs().Allow("User:topic-only").Topics(topic).Operations(kadm.OpRead)
	acls, err := c.Admin().CreateACLs(ctx, acl)
	require.NoError(t, err)
	for _, r := range acls {
		require.NoError(t, r.Err)
	}
	topicOnly := as("topic-only", "topic-only-secret")
	var out, errOut bytes.Buffer
	code = Main(ctx, []string{"consume", "--bootstrap", strings.Join(topicOnly.Bootstrap, ","), "--credentials",
		topicOnly.CredentialsDir, "--topic", topic, "--group", "not-allowed", "--duration", "2m"}, &out, &errOut)
	assert.Equal(t, ExitFailed, code, errOut.String())
	var refused GroupConsumeSummary
	require.NoError(t, json.Unmarshal(out.Bytes(), &refused), out.String())
	assert.Contains(t, refused.Error, "GROUP_AUTHORIZATION_FAILED")
	assert.Contains(t, refused.Error, "give the user Read on topic creds and on group not-allowed")
	assert.Zero(t, refused.Consumed)
	t.Logf("denied group: %s", refused.Error)
}
