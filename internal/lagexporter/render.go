package lagexporter

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Metric names. Alerts and dashboards are written against them: renaming one
// breaks them.
const (
	MetricLag            = "umbrella_consumergroup_lag"
	MetricMembers        = "umbrella_consumergroup_members"
	MetricUp             = "umbrella_lag_exporter_up"
	MetricCollectSeconds = "umbrella_lag_exporter_collect_seconds"
)

// ContentType is the Prometheus text exposition format Render writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Help texts, one per metric.
const (
	helpLag = "Records the consumer group has not committed yet, per topic: the sum over the topic's partitions " +
		"of max(0, end offset - committed offset), read from the brokers (a partition never committed counts " +
		"from its log start offset)."
	helpMembers        = "Members of the consumer group; 0 when the group is Empty or Dead."
	helpUp             = "Whether the last collection read every group and topic (1) or not (0)."
	helpCollectSeconds = "How long the last collection took, in seconds."
)

// Snapshot is what a scrape serves: one collection's result.
type Snapshot struct {
	// At is when the collection started.
	At time.Time
	// Up is true when the collection read everything.
	Up bool
	// Took is how long the collection took.
	Took time.Duration
	// Groups are the groups read; they need not be sorted.
	Groups []GroupLag
}

// Render writes s in the Prometheus text exposition format, version 0.0.4:
// the four metrics in a fixed order, each with its HELP and TYPE lines,
// series sorted by group then topic, label values escaped. The same snapshot
// always renders to the same bytes. A metric without series (no groups)
// keeps its HELP and TYPE lines.
func Render(w io.Writer, s Snapshot) error {
	groups := append([]GroupLag(nil), s.Groups...)
	sort.Slice(groups, func(i, j int) bool { return groups[i].Group < groups[j].Group })

	b := bufio.NewWriter(w)
	header(b, MetricLag, helpLag)
	for _, g := range groups {
		topics := append([]TopicLag(nil), g.Topics...)
		sort.Slice(topics, func(i, j int) bool { return topics[i].Topic < topics[j].Topic })
		for _, t := range topics {
			b.WriteString(MetricLag + `{group="` + escapeLabel(g.Group) + `",topic="` + escapeLabel(t.Topic) + `"} `)
			b.WriteString(strconv.FormatInt(t.Lag, 10) + "\n")
		}
	}
	header(b, MetricMembers, helpMembers)
	for _, g := range groups {
		b.WriteString(MetricMembers + `{group="` + escapeLabel(g.Group) + `"} ` + strconv.Itoa(g.Members) + "\n")
	}
	header(b, MetricUp, helpUp)
	up := "0"
	if s.Up {
		up = "1"
	}
	b.WriteString(MetricUp + " " + up + "\n")
	header(b, MetricCollectSeconds, helpCollectSeconds)
	b.WriteString(MetricCollectSeconds + " " + strconv.FormatFloat(s.Took.Seconds(), 'g', -1, 64) + "\n")
	return b.Flush()
}

func header(b *bufio.Writer, name, help string) {
	b.WriteString("# HELP " + name + " " + helpEscaper.Replace(help) + "\n# TYPE " + name + " gauge\n")
}

// The text format escapes backslash and newline in HELP, and also the double
// quote in label values.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeLabel(v string) string { return labelEscaper.Replace(v) }
