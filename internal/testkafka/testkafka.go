// Package testkafka holds what the tests of the Kafka client programs
// (internal/loadgen, internal/lagexporter) share, so each test states only
// what it checks: Start runs a real Kafka from a stack's broker configuration
// for one test and stops it when the test ends, CreateTopic makes a topic
// every node serves, AddUser gives a secure cluster a SCRAM user with its
// ACLs, WriteCredentials lays out a service's credentials Secret as the
// kubelet mounts it, and SyncBuffer captures a command's output while it runs
// in another goroutine.
//
// Start needs the Kafka jars that scripts/tools.sh builds (eval
// "$(scripts/tools.sh env)"); it is meant for tests behind the realkafka
// build tag.
package testkafka

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// Options say which cluster Start runs.
type Options struct {
	// Stack is the stack whose Pulumi.<stack>.yaml gives the broker
	// configuration and the node count, e.g. "dev" or "prod".
	Stack string
	// Plaintext runs the stack with security.mode none (localkafka.Plaintext),
	// for a client that dials the plaintext client port of a stack that ships
	// secure.
	Plaintext bool
	// Security, when set, adds the SASL_SSL and MTLS listeners and the
	// StandardAuthorizer (localkafka.Options.Security).
	Security *localkafka.Security
	// StartTimeout bounds the start; 0 means localkafka.DefaultStartTimeout.
	StartTimeout time.Duration
}

// Start starts a real Kafka cluster for t and returns it once it is usable.
// The cluster stops when t ends; its folder (configuration, data, logs) is
// removed then, or kept and named in the test log when t failed. A missing
// Kafka installation fails t with how to get one.
func Start(t testing.TB, ctx context.Context, o Options) *localkafka.Cluster {
	t.Helper()
	libs, err := localkafka.FindLibs()
	if err != nil {
		t.Fatalf("the real-Kafka test needs the Kafka %s jars (eval \"$(scripts/tools.sh env)\"): %v",
			localkafka.KafkaVersion, err)
	}
	root, err := ProjectDir()
	require.NoError(t, err)
	spec, err := localkafka.LoadStack(root, o.Stack)
	require.NoError(t, err)
	if o.Plaintext {
		spec = localkafka.Plaintext(spec)
	}
	dir, err := os.MkdirTemp("", "realkafka-"+strings.ReplaceAll(t.Name(), "/", "_")+"-")
	require.NoError(t, err)
	c, err := localkafka.Start(ctx, localkafka.Options{Spec: spec, Dir: dir, KafkaLibs: libs,
		Security: o.Security, StartTimeout: o.StartTimeout})
	if err != nil {
		t.Logf("kept %s for the node logs", dir)
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, c.Stop())
		if t.Failed() {
			t.Logf("kept %s for the node logs", dir)
		} else {
			os.RemoveAll(dir)
		}
	})
	return c
}

// CreateTopic creates topic on c with the given partitions, replication
// factor and configs (nil for the defaults), and waits until every replica is
// in sync and every node serves all its partitions, so clients of any node can
// use it at once.
func CreateTopic(t testing.TB, ctx context.Context, c *localkafka.Cluster, topic string, partitions int32,
	replicationFactor int16, configs map[string]*string) {
	t.Helper()
	created, err := c.Admin().CreateTopic(ctx, partitions, replicationFactor, configs, topic)
	require.NoError(t, err)
	require.NoError(t, created.Err, created.ErrMessage)
	require.NoError(t, c.WaitInSync(ctx, topic, int(replicationFactor)))
	require.NoError(t, c.WaitPropagated(ctx, topic, int(partitions)))
}

// ProjectDir returns the repository root (the folder with go.mod, where the
// Pulumi.<stack>.yaml files live), found upwards from the working directory,
// which go test sets to the package's folder.
func ProjectDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run the test with go test inside the repository")
		}
		dir = parent
	}
}

// AddUser gives c a SCRAM-SHA-512 user and the ACLs acls builds (nil: none,
// so under the StandardAuthorizer the user may do nothing). The cluster needs
// Options.Security. ACLs reach the authorizer through the metadata log: a
// caller that needs them in force waits for an effect of its own.
func AddUser(t testing.TB, ctx context.Context, c *localkafka.Cluster, user, password string, acls *kadm.ACLBuilder) {
	t.Helper()
	require.NoError(t, c.AddScramUser(ctx, localkafka.MechanismScramSHA512, user, password))
	if acls == nil {
		return
	}
	res, err := c.Admin().CreateACLs(ctx, acls)
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err, "ACL for %s: %s", user, r.ErrMessage)
	}
}
