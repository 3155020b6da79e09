//go:build realkafka

package realkafka

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/topicconfig"
)

// The preview checks topic configs against internal/topicconfig's table, which
// is kept in code: this holds it to a real Kafka 4.1.1 broker. A topic's
// DescribeConfigs (with documentation, so each entry carries its type) lists
// exactly the table's names with the table's types; and for probe values at and
// beyond every bound, CreateTopics with validateOnly accepts exactly the values
// Check accepts. A Kafka upgrade that adds, drops or retypes a topic config, or
// moves a bound, fails here.
func TestTopicConfigTableMatchesKafka(t *testing.T) {
	c := cluster(t, "dev")
	const topic = "topicconfig-table"
	createTopic(t, c, topic, 1, 1, nil)

	cl, err := c.Client()
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.IncludeDocumentation = true
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeTopic
	res.ResourceName = topic
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(testCtx(t, 10*time.Second), cl)
	require.NoError(t, err)
	require.Len(t, resp.Resources, 1)
	require.Zero(t, resp.Resources[0].ErrorCode)

	got := map[string]string{}
	for _, e := range resp.Resources[0].Configs {
		got[e.Name] = e.ConfigType.String()
		assert.NotEmpty(t, e.Documentation, "%s: Kafka documents every topic config", e.Name)
	}
	want := map[string]string{}
	for _, d := range topicconfig.All() {
		want[d.Name] = string(d.Type)
	}
	assert.Equal(t, want, got, "topic config names and types: internal/topicconfig vs the broker's DescribeConfigs")

	// A name outside the table is refused, e.g. one Kafka 4.0 removed.
	old := "3.0"
	r, err := c.Admin().ValidateCreateTopics(testCtx(t, 10*time.Second), 1, 1, map[string]*string{"message.format.version": &old}, "topicconfig-probe")
	require.NoError(t, err)
	tr, err := r.On("topicconfig-probe", nil)
	require.NoError(t, err)
	assert.Error(t, tr.Err, "message.format.version is gone in Kafka 4")

	for _, d := range topicconfig.All() {
		vals := probes(d)
		require.NotEmpty(t, vals, "%s: no probe values for type %s: its bounds would go unchecked", d.Name, d.Type)
		for _, v := range vals {
			problem, _ := d.Check(v)
			r, err := c.Admin().ValidateCreateTopics(testCtx(t, 10*time.Second), 1, 1, map[string]*string{d.Name: &v}, "topicconfig-probe")
			require.NoError(t, err)
			tr, err := r.On("topicconfig-probe", nil)
			require.NoError(t, err)
			if problem == "" {
				assert.NoError(t, tr.Err, "%s=%q: the table accepts it, Kafka refuses it: %s", d.Name, v, tr.ErrMessage)
			} else {
				assert.Error(t, tr.Err, "%s=%q: the table refuses it (%s), Kafka accepts it", d.Name, v, problem)
			}
		}
	}
}

// probes are values at and just beyond each bound and kind of value d takes.
// remote.storage.enable=true is left out: it is a legal value that these
// brokers refuse (no tiered storage), which config/topics.go reports on its own.
func probes(d topicconfig.Def) []string {
	switch d.Type {
	case topicconfig.Boolean:
		if d.Name == "remote.storage.enable" {
			return []string{"false", "FALSE", "yes", "1"}
		}
		return []string{"true", "FALSE", " false ", "yes", "1"}
	case topicconfig.Int, topicconfig.Long:
		return wholeProbes(d)
	case topicconfig.Double:
		return []string{fmt.Sprint(d.Min), fmt.Sprint(d.Max), "0.5", fmt.Sprint(float64(d.Min) - 0.01), fmt.Sprint(float64(d.Max) + 0.01), "half"}
	case topicconfig.String:
		out := append([]string{}, d.Values...)
		return append(out, strings.ToUpper(d.Values[0]), d.Values[0]+"x")
	case topicconfig.List:
		if d.Replicas {
			return []string{"*", "", "0:0", "0:0, 1:0", "x", "*,0:0", "-1:0"}
		}
		out := append([]string{""}, d.Values...)
		return append(out, strings.Join(d.Values, ","), strings.ToUpper(d.Values[0]), d.Values[0]+",")
	}
	return nil
}

func wholeProbes(d topicconfig.Def) []string {
	typeMin, typeMax := int64(math.MinInt32), int64(math.MaxInt32)
	if d.Type == topicconfig.Long {
		typeMin, typeMax = math.MinInt64, math.MaxInt64
	}
	out := []string{strconv.FormatInt(d.Min, 10), strconv.FormatInt(d.Max, 10), "x", "1.5"}
	if d.Min > typeMin {
		out = append(out, strconv.FormatInt(d.Min-1, 10))
	}
	if d.Max < typeMax {
		out = append(out, strconv.FormatInt(d.Max+1, 10))
	}
	if d.Type == topicconfig.Int {
		out = append(out, "2147483648") // past a Java int
	}
	for _, a := range d.Also {
		out = append(out, strconv.FormatInt(a, 10))
	}
	return out
}
