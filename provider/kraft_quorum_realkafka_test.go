//go:build realkafka

package provider

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// loopbackQuorumProps are a KraftQuorum's inputs for the loopback cluster.
func loopbackQuorumProps(lk *localkafka.Cluster, mode string, voters ...int) property.Map {
	ids := make([]property.Value, len(voters))
	eps := map[string]property.Value{}
	for i, id := range voters {
		ids[i] = property.New(float64(id))
		eps[strconv.Itoa(id)] = property.New(localkafka.Host + ":" + strconv.Itoa(lk.ControllerPort(id)))
	}
	m := map[string]property.Value{"voters": property.New(ids), "mode": property.New(mode),
		"controllerEndpoints": property.New(eps), "timeoutSeconds": property.New(120.0)}
	if mode == QuorumShrink {
		m["enableDynamic"] = property.New(true)
	}
	return property.NewMap(m)
}

func voterList(v property.Value) []int {
	var out []int
	for _, x := range v.AsArray().AsSlice() {
		out = append(out, int(x.AsNumber()))
	}
	return out
}

// TestRealKafkaKraftQuorumMigratesAStaticStack is the program's migration of
// a stack deployed with the static quorum, through the provider server on
// real Kafka 4.1.1 with a producer throughout: the shrink (before the
// StatefulSet, enableDynamic) finalizes kraft.version 1 live; the nodes roll
// to the dynamic files, and the grow runs while node 1 has not restarted
// into its controller role yet (as when pulumi-kubernetes reports the
// StatefulSet updated mid-roll): Kafka cannot reach its controller listener,
// and the grow asks again until node 1 answers, then adds voters 1 and 2.
func TestRealKafkaKraftQuorumMigratesAStaticStack(t *testing.T) {
	lk, cl := quorumCluster(t, false)
	s := server(t, lk.Bootstrap(), nil)
	load := producing(t, lk, "migrate-resource")

	shrinkURN := resURN(KraftQuorumToken, "quorum-shrink")
	var shrink p.CreateResponse
	quorumStep(t, "KraftQuorum shrink create with enableDynamic", func() {
		var err error
		shrink, err = s.Create(p.CreateRequest{Urn: shrinkURN, Properties: checked(t, s, shrinkURN, loopbackQuorumProps(lk, QuorumShrink, 0, 1, 2))})
		require.NoError(t, err)
	})
	assert.Equal(t, []int{0}, voterList(shrink.Properties.Get("currentVoters")), "a shrink never adds")
	assert.Equal(t, 1.0, shrink.Properties.Get("kraftVersion").AsNumber(), "the static quorum is dynamic now")

	require.NoError(t, lk.UseDynamicQuorum())
	require.NoError(t, lk.SetControllers(3))
	restartNodes(t, lk, 2)
	// The grow is started while node 1 is still broker-only, and node 1 is
	// restarted into its controller role only once the grow has logged that
	// it asks again: the retry path is taken, not assumed.
	logs := captureLog(t)
	var retried atomic.Int32
	firstRetry := make(chan string, 1)
	logs.setWatch(func(msg string) {
		if strings.Contains(msg, "add voter 1: the quorum leader could not reach") && retried.Add(1) == 1 {
			firstRetry <- msg
		}
	})
	growURN := resURN(KraftQuorumToken, "quorum-grow")
	growIn := checked(t, s, growURN, loopbackQuorumProps(lk, QuorumGrow, 0, 1, 2))
	type created struct {
		resp p.CreateResponse
		err  error
	}
	grown := make(chan created, 1)
	gctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	start := time.Now()
	go func() {
		defer close(exited)
		resp, err := s.withContext(gctx).Create(p.CreateRequest{Urn: growURN, Properties: growIn})
		grown <- created{resp, err}
	}()
	select {
	case line := <-firstRetry:
		t.Logf("after %s the grow asks again: %s", time.Since(start).Round(100*time.Millisecond), line)
	case r := <-grown:
		t.Fatalf("the grow ended before node 1 ran as a controller, without asking again: %v", r.err)
	case <-time.After(2 * time.Minute):
		t.Fatalf("the grow did not log asking again for node 1 within 2 min; log: %q", logs.messages())
	}
	restartNodes(t, lk, 1)
	var r created
	select {
	case r = <-grown:
	case <-time.After(5 * time.Minute):
		t.Fatal("the grow did not end within 5 min of node 1 running as a controller")
	}
	require.NoError(t, r.err)
	resp := r.resp
	t.Logf("FIGURE quorum grow through the resource while node 1 restarts into its role: %.1f s, %d REQUEST_TIMED_OUT answers asked again",
		time.Since(start).Seconds(), retried.Load())
	assert.Equal(t, []int{0, 1, 2}, voterList(resp.Properties.Get("currentVoters")))
	assert.Equal(t, "add voter 1", resp.Properties.Get("lastSteps").AsArray().Get(0).AsString())
	restartNodes(t, lk, 0) // the old controller last, with three voters: one election
	awaitQuorum(t, lk, cl, []int32{0, 1, 2}, []int32{})

	d, err := s.Diff(p.DiffRequest{ID: "quorum-grow", Urn: growURN, State: resp.Properties,
		Inputs: checked(t, s, growURN, loopbackQuorumProps(lk, QuorumGrow, 0, 1, 2))})
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "a second up changes nothing")
	load.finish()
}
