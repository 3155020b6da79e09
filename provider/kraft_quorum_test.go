package provider

import (
	"strconv"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

func quorumArgs(mode string, voters ...int) KraftQuorumArgs {
	eps := map[string]string{}
	for _, id := range voters {
		eps[strconv.Itoa(id)] = "kafka-" + strconv.Itoa(id) + ".kafka-headless.umbrella-streaming.svc.cluster.local:9093"
	}
	listener, wait := "CONTROLLER", DefaultQuorumTimeoutSeconds
	return KraftQuorumArgs{Voters: voters, ControllerEndpoints: eps, ControllerListener: &listener, Mode: mode, TimeoutSeconds: &wait}
}

func TestKraftQuorumCheck(t *testing.T) {
	all := func(string) bool { return true }
	assert.Empty(t, checkKraftQuorum(quorumArgs(QuorumGrow, 0, 1, 2), all))

	cases := []struct {
		name string
		args KraftQuorumArgs
		want p.CheckFailure
	}{
		{"no voters", quorumArgs(QuorumGrow), p.CheckFailure{Property: "voters",
			Reason: "voters = []: is empty: the KRaft quorum needs at least one voter; give the controllers' node ids, e.g. [0] or [0 1 2]"}},
		{"twice", func() KraftQuorumArgs { a := quorumArgs(QuorumGrow, 0, 1); a.Voters = []int{0, 1, 1}; return a }(),
			p.CheckFailure{Property: "voters", Reason: "voters = [0 1 1]: lists node 1 twice; list each controller once"}},
		{"no endpoint", func() KraftQuorumArgs { a := quorumArgs(QuorumGrow, 0); a.Voters = []int{0, 1}; return a }(),
			p.CheckFailure{Property: "controllerEndpoints", Reason: `controllerEndpoints = map[0:kafka-0.kafka-headless.umbrella-streaming.svc.cluster.local:9093]: ` +
				`has no entry for voter 1; add "1": "<host>:<controller port>"`}},
		{"bad endpoint", func() KraftQuorumArgs {
			a := quorumArgs(QuorumGrow, 0)
			a.ControllerEndpoints["0"] = "kafka-0"
			return a
		}(), p.CheckFailure{Property: "controllerEndpoints[0]", Reason: `controllerEndpoints[0] = "kafka-0": is not host:port; give the ` +
			`controller listener as host:port, e.g. kafka-1.kafka-headless.umbrella-streaming.svc.cluster.local:9093`}},
		{"timeout", func() KraftQuorumArgs { a := quorumArgs(QuorumGrow, 0); zero := 0; a.TimeoutSeconds = &zero; return a }(),
			p.CheckFailure{Property: "timeoutSeconds", Reason: "timeoutSeconds = 0: is below 1; set how long to wait for a new controller, e.g. 600"}},
		{"mode", quorumArgs("grwo", 0), p.CheckFailure{Property: "mode",
			Reason: `mode = "grwo": is not a quorum mode; did you mean "grow"? use "shrink" (before the StatefulSet) or "grow" (after it)`}},
	}
	for _, c := range cases {
		assert.Equal(t, []p.CheckFailure{c.want}, checkKraftQuorum(c.args, all), c.name)
	}
	// A computed input is checked once it is known.
	assert.Empty(t, checkKraftQuorum(quorumArgs(QuorumGrow), func(k string) bool { return k != "voters" }))
}

func TestKraftQuorumPlan(t *testing.T) {
	assert.Equal(t, []string{"add voter 1", "add voter 2"}, quorumPlan([]int{0}, quorumArgs(QuorumGrow, 0, 1, 2)))
	assert.Empty(t, quorumPlan([]int{0}, quorumArgs(QuorumShrink, 0, 1, 2)), "a shrink never adds")
	assert.Equal(t, []string{"remove voter 1", "remove voter 2"}, quorumPlan([]int{0, 1, 2}, quorumArgs(QuorumShrink, 0)))
	assert.Equal(t, []string{"remove voter 1", "remove voter 2"}, quorumPlan([]int{0, 1, 2}, quorumArgs(QuorumGrow, 0)))
	assert.Empty(t, quorumPlan([]int{2, 0, 1}, quorumArgs(QuorumGrow, 0, 1, 2)))
}

func TestKraftQuorumDiff(t *testing.T) {
	in := quorumArgs(QuorumGrow, 0, 1, 2)
	same := KraftQuorumState{KraftQuorumArgs: in, CurrentVoters: []int{0, 1, 2}, KraftVersion: 1}
	assert.False(t, diffKraftQuorum(same, in).HasChanges, "nothing to do: no diff")

	grown := diffKraftQuorum(KraftQuorumState{KraftQuorumArgs: quorumArgs(QuorumGrow, 0), CurrentVoters: []int{0}}, in)
	assert.True(t, grown.HasChanges)
	assert.Equal(t, p.PropertyDiff{Kind: p.Update, InputDiff: true}, grown.DetailedDiff["voters"], "an update in place, never a replace")

	drifted := diffKraftQuorum(KraftQuorumState{KraftQuorumArgs: in, CurrentVoters: []int{0, 1}}, in)
	assert.Equal(t, map[string]p.PropertyDiff{"currentVoters": {Kind: p.Update}}, drifted.DetailedDiff,
		"a refresh that found a voter missing (or a cut run) makes the next up finish the change")
}

func TestPreviewQuorumLine(t *testing.T) {
	q := kafkaadmin.Quorum{KRaftVersion: 0, LeaderID: 0, Voters: []kafkaadmin.QuorumReplica{{ID: 0}}}
	in := quorumArgs(QuorumShrink, 0, 1, 2)
	on := true
	in.EnableDynamic = &on
	assert.Equal(t, "KraftQuorum shrink to voters [0 1 2]: voters now [0] (kraft.version 0, leader 0); will finalize "+
		"kraft.version 1 (static -> dynamic quorum); no voter change", previewQuorumLine(q, in))
	q.KRaftVersion = 1
	assert.Equal(t, "KraftQuorum grow to voters [0 1 2]: voters now [0] (kraft.version 1, leader 0); will add voter 1, "+
		"then add voter 2, one at a time", previewQuorumLine(q, quorumArgs(QuorumGrow, 0, 1, 2)))
}

func quorumProps(mode string, voters ...int) property.Map {
	ids := make([]property.Value, len(voters))
	eps := map[string]property.Value{}
	for i, id := range voters {
		ids[i] = property.New(float64(id))
		eps[strconv.Itoa(id)] = property.New("kafka-" + strconv.Itoa(id) + ".kafka-headless.umbrella-streaming.svc.cluster.local:9093")
	}
	return property.NewMap(map[string]property.Value{"voters": property.New(ids), "mode": property.New(mode),
		"controllerEndpoints": property.New(eps)})
}

// TestKraftQuorumWithoutKafka: on a new stack (no broker listening) the
// shrink's create has nothing to change, and its state (which the next
// update and a destroy decode) is complete; a preview says the plan comes
// later; a grow, which runs after the brokers exist, fails saying why.
func TestKraftQuorumWithoutKafka(t *testing.T) {
	s := server(t, []string{deadAddr(t)}, nil)
	logs := captureLog(t)

	urn := resURN(KraftQuorumToken, "quorum-shrink")
	in := checked(t, s, urn, quorumProps(QuorumShrink, 0, 1, 2))
	_, err := s.Create(p.CreateRequest{Urn: urn, Properties: in, DryRun: true})
	require.NoError(t, err)
	assert.Regexp(t, `^KraftQuorum shrink to voters \[0 1 2\]: Kafka did not answer within 10s \(.+\): the plan will be `+
		`computed during the update$`, logs.messages()[0])

	resp, err := s.Create(p.CreateRequest{Urn: urn, Properties: in})
	require.NoError(t, err)
	assert.Equal(t, property.New([]property.Value{}), resp.Properties.Get("currentVoters"))
	assert.Equal(t, property.New([]property.Value{}), resp.Properties.Get("lastSteps"))
	d, err := s.Diff(p.DiffRequest{ID: "quorum-shrink", Urn: urn, State: resp.Properties, Inputs: in})
	require.NoError(t, err, "the created state decodes")
	assert.False(t, d.HasChanges, "a second up changes nothing")
	require.NoError(t, s.Delete(p.DeleteRequest{ID: "quorum-shrink", Urn: urn, Properties: resp.Properties}))

	gurn := resURN(KraftQuorumToken, "quorum-grow")
	_, err = s.Create(p.CreateRequest{Urn: gurn, Properties: checked(t, s, gurn, quorumProps(QuorumGrow, 0))})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KraftQuorum grow to voters [0]: ")
}
