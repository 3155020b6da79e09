package lagexporter

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func parts(topic string, lags map[int32]int64, errs map[int32]error) map[int32]kadm.GroupMemberLag {
	out := make(map[int32]kadm.GroupMemberLag)
	for p, l := range lags {
		out[p] = kadm.GroupMemberLag{Topic: topic, Partition: p, Lag: l}
	}
	for p, err := range errs {
		out[p] = kadm.GroupMemberLag{Topic: topic, Partition: p, Lag: -1, Err: err}
	}
	return out
}

// FromLags keeps what was read and names everything that was not: a group
// that could not be described is left out, one whose offsets could not be
// fetched keeps its members only, a topic with a failing partition is left
// out of its group; a deleted topic (every partition unknown) is dropped
// silently; members are 0 for Empty and Dead whatever the description says.
func TestFromLags(t *testing.T) {
	members := make([]kadm.DescribedGroupMember, 2)
	noLeader := kerr.LeaderNotAvailable
	lags := kadm.DescribedGroupLags{
		"stable": {Group: "stable", State: "Stable", Members: members, Lag: kadm.GroupLag{
			"b": parts("b", map[int32]int64{0: 5, 1: 0, 2: 7}, nil),
			"a": parts("a", map[int32]int64{0: 1}, nil),
			// subscribed, nothing assigned yet: kadm lists the topic with no partitions
			"joined": {},
		}},
		"empty": {Group: "empty", State: "Empty", Members: members[:1], Lag: kadm.GroupLag{
			"gone": parts("gone", nil, map[int32]error{0: kerr.UnknownTopicOrPartition, 1: kerr.UnknownTopicOrPartition}),
			"half": parts("half", map[int32]int64{0: 3}, map[int32]error{1: kerr.UnknownTopicOrPartition}),
			"x":    parts("x", map[int32]int64{0: 4, 2: 1}, map[int32]error{1: noLeader}),
			"fine": parts("fine", map[int32]int64{0: 2}, nil),
		}},
		"dead":      {Group: "dead", State: "Dead"},
		"loading":   {Group: "loading", DescribeErr: kerr.CoordinatorLoadInProgress},
		"unfetched": {Group: "unfetched", State: "Stable", Members: members, FetchErr: kerr.NotCoordinator},
	}
	got, err := FromLags(lags)
	assert.Equal(t, []GroupLag{
		{Group: "dead", State: "Dead", Members: 0},
		{Group: "empty", State: "Empty", Members: 0, Topics: []TopicLag{{"fine", 2}}},
		{Group: "stable", State: "Stable", Members: 2, Topics: []TopicLag{{"a", 1}, {"b", 12}, {"joined", 0}}},
		{Group: "unfetched", State: "Stable", Members: 2},
	}, got)
	assert.EqualError(t, err, `group "empty" topic "half" partition 1: `+kerr.UnknownTopicOrPartition.Error()+"\n"+
		`group "empty" topic "x" partition 1: `+noLeader.Error()+"\n"+
		`group "loading": describe: `+kerr.CoordinatorLoadInProgress.Error()+"\n"+
		`group "unfetched": fetch committed offsets: `+kerr.NotCoordinator.Error())
	assert.True(t, errors.Is(err, kerr.CoordinatorLoadInProgress), "the kerr codes stay matchable")

	got, err = FromLags(kadm.DescribedGroupLags{})
	assert.NoError(t, err)
	assert.Empty(t, got)
}
