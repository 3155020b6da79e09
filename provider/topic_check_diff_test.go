package provider

import (
	"strings"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	long := strings.Repeat("a", 250)
	// The topic-name rule and its message are shared with the stack config
	// (internal/rules), so both name the field, the value, the limit and the fix.
	const nameFix = "use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'"
	tests := []struct {
		name   string
		inputs property.Map
		want   []p.CheckFailure
	}{
		{"valid", topicProps("Orders.v1_eu-west", 1, 1, nil), nil},
		{"249 characters is allowed", topicProps(long[:249], 1, 1, nil), nil},
		{"empty name", topicProps("", 1, 1, nil), []p.CheckFailure{{Property: "name",
			Reason: `name = "": invalid topic name: is empty; ` + nameFix}}},
		{"name too long", topicProps(long, 1, 1, nil), []p.CheckFailure{{Property: "name",
			Reason: `name = "` + long + `": invalid topic name: is 250 characters long, over Kafka's limit of 249; ` + nameFix}}},
		{"dot", topicProps(".", 1, 1, nil), []p.CheckFailure{{Property: "name",
			Reason: `name = ".": invalid topic name: is '.' or '..', which Kafka forbids; ` + nameFix}}},
		{"dot dot", topicProps("..", 1, 1, nil), []p.CheckFailure{{Property: "name",
			Reason: `name = "..": invalid topic name: is '.' or '..', which Kafka forbids; ` + nameFix}}},
		{"slash", topicProps("a/b", 1, 1, nil), []p.CheckFailure{{Property: "name",
			Reason: `name = "a/b": invalid topic name: has characters outside [a-zA-Z0-9._-]; ` + nameFix}}},
		{"non-ASCII", topicProps("café", 1, 1, nil), []p.CheckFailure{{Property: "name",
			Reason: `name = "café": invalid topic name: has characters outside [a-zA-Z0-9._-]; ` + nameFix}}},
		{"zero partitions", topicProps("t", 0, 1, nil), []p.CheckFailure{{Property: "partitions",
			Reason: "partitions = 0: must be at least 1; set partitions to 1 or more"}}},
		{"zero replication factor", topicProps("t", 1, 0, nil), []p.CheckFailure{{Property: "replicationFactor",
			Reason: "replicationFactor = 0: must be at least 1; set it between 1 and the number of brokers (3 on a production cluster)"}}},
		{"unknown name is checked later", topicProps("x", 1, 1, nil).Set("name", property.New(property.Computed)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.Check(p.CheckRequest{Urn: urn("t"), Inputs: tt.inputs})
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.Failures)
		})
	}
}

func TestCheckMissingRequiredField(t *testing.T) {
	s := server(t, []string{"127.0.0.1:1"}, nil)
	resp, err := s.Check(p.CheckRequest{Urn: urn("t"), Inputs: topicProps("t", 1, 1, nil).Delete("partitions")})
	require.NoError(t, err)
	assert.Equal(t, []p.CheckFailure{{Property: "partitions", Reason: "Missing required field 'partitions' on 'provider.TopicArgs'"}}, resp.Failures)
}

func topic(name string, partitions, rf int, config map[string]string) TopicArgs {
	return TopicArgs{Name: name, Partitions: partitions, ReplicationFactor: rf, Config: config}
}

// TestDiffTopic has one case per field of the pure diff.
func TestDiffTopic(t *testing.T) {
	base := topic("orders", 3, 3, map[string]string{"retention.ms": "1000", "cleanup.policy": "delete"})
	yes := true
	withAdopt := base
	withAdopt.Adopt = &yes
	tests := []struct {
		name    string
		news    TopicArgs
		allow   bool
		want    map[string]p.DiffKind
		replace bool
	}{
		{"no change", base, false, map[string]p.DiffKind{}, false},
		// The names differ, so the new topic is created before the old one is
		// deleted (#14 item 3): never the reverse, which lost the data first.
		{"name change with allowReplace replaces, create first", topic("orders2", 3, 3, base.Config), true,
			map[string]p.DiffKind{"name": p.UpdateReplace}, false},
		{"partitions increase updates", topic("orders", 6, 3, base.Config), false,
			map[string]p.DiffKind{"partitions": p.Update}, false},
		{"replication factor change updates", topic("orders", 3, 2, base.Config), false,
			map[string]p.DiffKind{"replicationFactor": p.Update}, false},
		{"config key added", topic("orders", 3, 3, map[string]string{"retention.ms": "1000", "cleanup.policy": "delete", "segment.ms": "10"}), false,
			map[string]p.DiffKind{`config["segment.ms"]`: p.Add}, false},
		{"config value changed", topic("orders", 3, 3, map[string]string{"retention.ms": "2000", "cleanup.policy": "delete"}), false,
			map[string]p.DiffKind{`config["retention.ms"]`: p.Update}, false},
		{"config key removed", topic("orders", 3, 3, map[string]string{"retention.ms": "1000"}), false,
			map[string]p.DiffKind{`config["cleanup.policy"]`: p.Delete}, false},
		{"config removed entirely", topic("orders", 3, 3, nil), false,
			map[string]p.DiffKind{`config["cleanup.policy"]`: p.Delete, `config["retention.ms"]`: p.Delete}, false},
		{"adopt change is no diff (it acts only in Create)", withAdopt, false, map[string]p.DiffKind{}, false},
		{"unknown partitions during preview", topic("orders", 0, 3, base.Config), false, map[string]p.DiffKind{}, false},
		{"unknown name during preview", topic("", 3, 3, base.Config), false, map[string]p.DiffKind{"name": p.Update}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := diffTopic(base, tt.news, tt.allow)
			require.NoError(t, err)
			kinds := map[string]p.DiffKind{}
			for k, v := range got.DetailedDiff {
				kinds[k] = v.Kind
			}
			assert.Equal(t, tt.want, kinds)
			assert.Equal(t, len(tt.want) > 0, got.HasChanges)
			assert.Equal(t, tt.replace, got.DeleteBeforeReplace)
		})
	}
}

const (
	partitionDecreaseMsg = `topic "orders": partitions 3 -> 2 is a decrease, and Kafka cannot shrink a topic's ` +
		`partitions. Restore partitions = 3, or create a new topic with 2 partitions, migrate producers and ` +
		`consumers to it, then remove this one`
	renameRefusedMsg = `topic "orders": renaming it to "orders2" would replace it: Kafka cannot rename topics, ` +
		`so Pulumi would delete "orders" with all its data and create an empty "orders2". Refused because the ` +
		`provider's allowReplace is false. To keep the data, restore name = "orders" (and add "orders2" as a new ` +
		`Topic, then migrate producers and consumers); to accept the data loss, set allowReplace to true on the ` +
		`provider (pulumi config set umbrellakafka:allowReplace true) for this update`
)

func TestDiffTopicErrors(t *testing.T) {
	base := topic("orders", 3, 3, nil)
	_, err := diffTopic(base, topic("orders", 2, 3, nil), true)
	require.EqualError(t, err, partitionDecreaseMsg)
	_, err = diffTopic(base, topic("orders2", 3, 3, nil), false)
	require.EqualError(t, err, renameRefusedMsg)
}

// TestDiffThroughServer runs Diff over the provider's gRPC surface, where
// allowReplace comes from the provider configuration.
func TestDiffThroughServer(t *testing.T) {
	olds := topicProps("orders", 3, 3, map[string]string{"retention.ms": "1000"})
	refusing := server(t, []string{"127.0.0.1:1"}, nil)
	allowing := server(t, []string{"127.0.0.1:1"}, map[string]property.Value{"allowReplace": property.New(true)})
	diff := func(s *testServer, news property.Map) (p.DiffResponse, error) {
		return s.Diff(p.DiffRequest{ID: "orders", Urn: urn("orders"), State: olds, Inputs: news})
	}

	_, err := diff(refusing, topicProps("orders2", 3, 3, map[string]string{"retention.ms": "1000"}))
	require.EqualError(t, err, renameRefusedMsg)

	got, err := diff(allowing, topicProps("orders2", 3, 3, map[string]string{"retention.ms": "1000"}))
	require.NoError(t, err)
	assert.Equal(t, p.DiffResponse{DeleteBeforeReplace: false, HasChanges: true,
		DetailedDiff: map[string]p.PropertyDiff{"name": {Kind: p.UpdateReplace}}}, got)

	_, err = diff(allowing, topicProps("orders", 2, 3, map[string]string{"retention.ms": "1000"}))
	require.EqualError(t, err, partitionDecreaseMsg)

	got, err = diff(refusing, topicProps("orders", 4, 3, map[string]string{"retention.ms": "5"}))
	require.NoError(t, err)
	assert.Equal(t, p.DiffResponse{HasChanges: true, DetailedDiff: map[string]p.PropertyDiff{
		"partitions": {Kind: p.Update}, `config["retention.ms"]`: {Kind: p.Update},
	}}, got)

	got, err = diff(refusing, olds)
	require.NoError(t, err)
	assert.Equal(t, p.DiffResponse{DetailedDiff: map[string]p.PropertyDiff{}}, got)
}
