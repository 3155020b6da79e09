package lagexporter

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// GroupLag is what one collection read about one consumer group.
type GroupLag struct {
	// Group is the group id.
	Group string
	// State is the group's state as the coordinator names it (Stable,
	// PreparingRebalance, CompletingRebalance, Empty, Dead).
	State string
	// Members is the number of members, 0 when the group is Empty or Dead.
	Members int
	// Topics are the group's topics, sorted by name, without those whose lag
	// could not be read.
	Topics []TopicLag
}

// TopicLag is one group's lag on one topic.
type TopicLag struct {
	// Topic is the topic name.
	Topic string
	// Lag is the sum over the topic's partitions of max(0, end offset −
	// committed offset); a partition never committed counts from its log
	// start offset (see the package doc).
	Lag int64
}

// classicGroups is the ListGroups type filter: the groups DescribeGroups, and
// so kadm.Client.Lag, can read.
var classicGroups = []string{"classic"}

// Collect reads the lag of every classic group whose name match accepts (nil
// accepts all), sorted by group.
//
// The error is nil only when everything was read. It is non-nil with no
// groups when a request failed as a whole; it is non-nil with groups when
// some groups or topics carried their own error: those are left out and the
// rest is returned (see FromLags). Every error names the group, topic and
// partition it is about.
func Collect(ctx context.Context, adm *kadm.Client, match func(group string) bool) ([]GroupLag, error) {
	listed, err := adm.ListGroupsByType(ctx, classicGroups)
	var listErr error
	if err != nil {
		// Some brokers answered: their groups can still be read.
		if se, ok := errors.AsType[*kadm.ShardErrors](err); !ok || se.AllFailed {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		listErr = fmt.Errorf("list groups (some brokers): %w", err)
	}
	var names []string
	for _, g := range listed.Groups() {
		if match == nil || match(g) {
			names = append(names, g)
		}
	}
	// kadm.Client.Lag with no group describes every group in the cluster:
	// never call it with an empty list, or the filter would be ignored.
	if len(names) == 0 {
		return nil, listErr
	}
	lags, err := adm.Lag(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("lag of %d groups: %w", len(names), err)
	}
	groups, err := FromLags(lags)
	return groups, errors.Join(listErr, err)
}

// FromLags turns kadm's lag answer into GroupLag values sorted by group, each
// with its topics sorted by name.
//
// A group kadm could not describe is left out; a group whose offsets could
// not be fetched keeps its member count but no topic; a topic with a
// partition error is left out of its group, except that a topic whose every
// partition is UNKNOWN_TOPIC_OR_PARTITION (deleted since the group committed
// on it) is dropped without an error. The error joins one line per problem,
// in group, topic, partition order.
func FromLags(lags kadm.DescribedGroupLags) ([]GroupLag, error) {
	var out []GroupLag
	var errs []error
	for _, l := range lags.Sorted() {
		if l.DescribeErr != nil {
			errs = append(errs, fmt.Errorf("group %q: describe: %w", l.Group, l.DescribeErr))
			continue
		}
		g := GroupLag{Group: l.Group, State: l.State, Members: memberCount(l)}
		if l.FetchErr != nil {
			errs = append(errs, fmt.Errorf("group %q: fetch committed offsets: %w", l.Group, l.FetchErr))
			out = append(out, g)
			continue
		}
		topics := make([]string, 0, len(l.Lag))
		for t := range l.Lag {
			topics = append(topics, t)
		}
		sort.Strings(topics)
		for _, t := range topics {
			lag, gone, terrs := topicLag(l.Group, t, l.Lag[t])
			errs = append(errs, terrs...)
			if len(terrs) == 0 && !gone {
				g.Topics = append(g.Topics, TopicLag{Topic: t, Lag: lag})
			}
		}
		out = append(out, g)
	}
	return out, errors.Join(errs...)
}

// topicLag sums one topic's partition lags (kadm already clamps each at 0).
// gone is true when every partition is UNKNOWN_TOPIC_OR_PARTITION; errs has
// one error per other failing partition.
func topicLag(group, topic string, parts map[int32]kadm.GroupMemberLag) (lag int64, gone bool, errs []error) {
	ids := make([]int32, 0, len(parts))
	for p := range parts {
		ids = append(ids, p)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	unknown := 0
	for _, p := range ids {
		pl := parts[p]
		switch {
		case pl.Err != nil:
			if errors.Is(pl.Err, kerr.UnknownTopicOrPartition) {
				unknown++
			}
			errs = append(errs, fmt.Errorf("group %q topic %q partition %d: %w", group, topic, p, pl.Err))
		case pl.Lag > 0:
			lag += pl.Lag
		}
	}
	if unknown > 0 && unknown == len(ids) {
		return 0, true, nil
	}
	// Some partitions unknown and others not is no deleted topic: an error.
	return lag, false, errs
}

// memberCount is the group's member count; an Empty or Dead group has none,
// whatever the description lists.
func memberCount(l kadm.DescribedGroupLag) int {
	switch l.State {
	case "Empty", "Dead":
		return 0
	}
	return len(l.Members)
}
