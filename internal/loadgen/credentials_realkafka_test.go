//go:build realkafka

package loadgen

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// With a mounted credentials Secret, produce and verify speak SASL_SSL with
// SCRAM-SHA-512 against a real Kafka 4.1.1 under the StandardAuthorizer: a
// user allowed everything (the super user) writes and reads back every
// record; a user without ACLs gets TOPIC_AUTHORIZATION_FAILED for each
// record; a wrong password fails authentication, and nothing is acknowledged.
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
}
