//go:build realkafka

package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/testkafka"
)

// With a mounted credentials Secret, produce and verify speak SASL_SSL with
// SCRAM-SHA-512 against a real Kafka 4.1.1 under the StandardAuthorizer: a
// user allowed everything (the super user) writes and reads back every
// record; a user without ACLs gets TOPIC_AUTHORIZATION_FAILED for each
// record; a wrong password fails authentication, and nothing is acknowledged.
// consume connects the same way (see the end of the test).
func TestCredentialsAgainstRealKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := testkafka.Start(t, ctx, testkafka.Options{Stack: "dev",
		Security: &localkafka.Security{SuperUser: "loadgen-admin", SuperPassword: "admin-secret"}})
	testkafka.AddUser(t, ctx, c, "no-acls", "no-acls-secret", nil)
	const topic = "creds"
	testkafka.CreateTopic(t, ctx, c, topic, 1, 1, nil)

	as := func(user, password string) ClientConfig {
		return ClientConfig{Bootstrap: c.SASLBootstrap(),
			CredentialsDir: testkafka.WriteCredentials(t, user, password, localkafka.MechanismScramSHA512, c.CACertPEM())}
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
	assertCaughtUp(t, ctx, c.Admin(), "creds-group", topic, 500, code, consumed, run.stderr.String())

	testkafka.AddUser(t, ctx, c, "topic-only", "topic-only-secret",
		kadm.NewACLs().Allow("User:topic-only").Topics(topic).Operations(kadm.OpRead))
	topicOnly := as("topic-only", "topic-only-secret")
	code, out, errOut := runMain(ctx, "consume", "--bootstrap", strings.Join(topicOnly.Bootstrap, ","), "--credentials",
		topicOnly.CredentialsDir, "--topic", topic, "--group", "not-allowed", "--duration", "2m")
	assert.Equal(t, ExitFailed, code, errOut)
	var refused GroupConsumeSummary
	decodeLine(t, out, &refused)
	assert.Contains(t, refused.Error, "GROUP_AUTHORIZATION_FAILED")
	assert.Contains(t, refused.Error, "give the user Read on topic creds and on group not-allowed")
	assert.Zero(t, refused.Consumed)
	t.Logf("denied group: %s", refused.Error)
}
