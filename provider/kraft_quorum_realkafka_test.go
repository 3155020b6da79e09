//go:build realkafka

package provider

import (
	"strconv"
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
	growURN := resURN(KraftQuorumToken, "quorum-grow")
	grown := make(chan p.CreateResponse, 1)
	start := time.Now()
	go func() {
		resp, err := s.Create(p.CreateRequest{Urn: growURN, Properties: checked(t, s, growURN, loopbackQuorumProps(lk, QuorumGrow, 0, 1, 2))})
		assert.NoError(t, err)
		grown <- resp
	}()
	time.Sleep(5 * time.Second) // the grow is asking for node 1, still broker-only
	restartNodes(t, lk, 1)
	resp := <-grown
	t.Logf("FIGURE quorum grow through the resource while node 1 restarts into its role: %.1f s", time.Since(start).Seconds())
	assert.Equal(t, []int{0, 1, 2}, voterList(resp.Properties.Get("currentVoters")))
	assert.Equal(t, "add voter 1", resp.Properties.Get("lastSteps").AsArray().Get(0).AsString())
	restartNodes(t, lk, 0) // the old controller last, with three voters: one election
	assertVoters(t, lk, describeQuorum(t, cl), []int32{0, 1, 2}, []int32{})

	d, err := s.Diff(p.DiffRequest{ID: "quorum-grow", Urn: growURN, State: resp.Properties,
		Inputs: checked(t, s, growURN, loopbackQuorumProps(lk, QuorumGrow, 0, 1, 2))})
	require.NoError(t, err)
	assert.False(t, d.HasChanges, "a second up changes nothing")
	load()
}
