//go:build monitoring

package monitoring

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
)

const installPrometheus = "apt-get install -y prometheus (Debian's package brings promtool)"

// step is the scrape and rule evaluation interval of the promtool cases: fine
// enough to put a case one step before an alert's `for` ends.
const step = 15 * time.Second

// otherNamespace is a second Kafka in the same cluster: its series must never
// raise this stack's alerts.
const otherNamespace = "other-kafka"

// series is one synthetic input series with its value while healthy and while
// broken.
type series struct {
	metric    string
	labels    map[string]string // besides namespace
	good, bad float64
	// growth is added to bad at every step while broken: a series whose
	// breakage is that it grows (consumer lag).
	growth float64
}

// broken renders s while broken for d, from time 0.
func (s series) broken(d time.Duration) string {
	if s.growth == 0 {
		return constant(s.bad, d)
	}
	return fmt.Sprintf("%s+%sx%d", num(s.bad), num(s.growth), int(d/step))
}

// scenario describes one alert for promtool: the series it reads, how they look
// healthy and broken, and what the firing alert carries.
type scenario struct {
	series []series
	// fireLabels are the firing alert's labels besides alertname, severity and namespace.
	fireLabels map[string]string
	// fireDescription is the description annotation when all series are bad.
	fireDescription string
	// extra are cases beyond the generated fire/quiet ones.
	extra []promCase
	// lead is how long after the breakage starts the expression first holds:
	// one step for a delta() or rate(), which needs two samples.
	lead time.Duration
}

// promCase is one promtool test group with a single alert_rule_test.
type promCase struct {
	name     string
	series   map[string]string // series selector -> promtool values notation
	evalTime time.Duration
	firing   []firing // empty: the alert must not fire
}

// firing is one expected firing alert.
type firing struct {
	labels      map[string]string
	description string
}

// scenarios returns one scenario per alert of the stack. Every alert in
// components.Alerts must have one (TestAlertRules fails otherwise).
func scenarios(s *config.Spec) map[string]scenario {
	pct := s.Monitoring.DiskFillPercent
	const capacity = 100e9
	pvc := func(name string) map[string]string { return map[string]string{"persistentvolumeclaim": name} }
	pod := func(i int) map[string]string { return map[string]string{"pod": components.PodName(i)} }
	// gone is an earlier pod of the same name: another address, so another series.
	gone := func(i int) map[string]string {
		return map[string]string{"pod": components.PodName(i), "instance": "198.18.3.3:9404"}
	}
	// The lag exporter runs as one pod; its series carry that pod's labels.
	exporter := map[string]string{"pod": "kafka-lag-exporter-5d9c7b-x2x4q"}
	lagOf := func(group, topic string) map[string]string {
		return map[string]string{"pod": exporter["pod"], "group": group, "topic": topic}
	}
	membersOf := func(group string) map[string]string { return map[string]string{"pod": exporter["pod"], "group": group} }
	lag, members := components.MetricConsumerGroupLag, components.MetricConsumerGroupMembers
	ns := s.Namespace
	growing := func(start, perStep float64, d time.Duration) string {
		return fmt.Sprintf("%s+%sx%d", num(start), num(perStep), int(d/step))
	}
	return map[string]scenario{
		"KafkaConsumerGroupLagGrowingWithoutMembers": {
			// Healthy: email-processor has a member and a steady lag of 40.
			// Broken: it has no member and its lag grows by 25 every step.
			series: []series{
				{metric: lag, labels: lagOf("email-processor", "raw-messages"), good: 40, bad: 40, growth: 25},
				{metric: members, labels: membersOf("email-processor"), good: 1, bad: 0},
			},
			lead:            step,
			fireLabels:      map[string]string{"group": "email-processor", "topic": "raw-messages"},
			fireDescription: "Consumer group email-processor has no members while its lag on raw-messages grew over the last 5 minutes: what is produced there is not consumed.",
			extra: []promCase{{
				// A live group behind its producers catches up, or its own
				// lag alerting is the service's business: no members missing.
				name: "quiet: a live group (2 members) whose lag grows for 30m",
				series: map[string]string{
					sel(lag, ns, lagOf("email-processor", "raw-messages")): growing(40, 25, 30*time.Minute),
					sel(members, ns, membersOf("email-processor")):         constant(2, 30*time.Minute),
				},
				evalTime: 30 * time.Minute,
			}, {
				// Nothing is written to the topic: the stopped group loses
				// nothing by waiting.
				name: "quiet: a stopped group whose lag is flat at 500 for 30m",
				series: map[string]string{
					sel(lag, ns, lagOf("email-processor", "raw-messages")): constant(500, 30*time.Minute),
					sel(members, ns, membersOf("email-processor")):         constant(0, 30*time.Minute),
				},
				evalTime: 30 * time.Minute,
			}, {
				// The lag grew for 5m after the group stopped, then the
				// producers stopped too: it resolves one window later.
				name: "quiet: a stopped group whose lag grew for 5m, then stayed flat for 20m",
				series: map[string]string{
					sel(lag, ns, lagOf("email-processor", "raw-messages")): growing(40, 25, 5*time.Minute) + " " + constant(540, 20*time.Minute),
					sel(members, ns, membersOf("email-processor")):         constant(0, 25*time.Minute),
				},
				evalTime: 25 * time.Minute,
			}, {
				// A gone exporter pod's last "1 member" (no staleness marker
				// ended it) does not hide the stopped group for five minutes.
				name: "fires: a stopped group beside a gone exporter pod's last sample of 1 member",
				series: map[string]string{
					sel(members, ns, map[string]string{"pod": "kafka-lag-exporter-0ld-pod", "group": "email-processor"}): constant(1, 45*time.Second),
					sel(lag, ns, lagOf("email-processor", "raw-messages")):                                               "_x4 " + growing(40, 25, 30*time.Minute),
					sel(members, ns, membersOf("email-processor")):                                                       "_x4 " + constant(0, 30*time.Minute),
				},
				// Its 10m `for` ends at 11m45s with the filter; the lingering
				// sample alone would hold it off until 15m45s.
				evalTime: 12 * time.Minute,
				firing: []firing{{labels: map[string]string{"group": "email-processor", "topic": "raw-messages"},
					description: "Consumer group email-processor has no members while its lag on raw-messages grew over the last 5 minutes: what is produced there is not consumed."}},
			}, {
				// Two groups read raw-messages: only the stopped one fires,
				// and the live one's lag does not leak into its labels.
				name: "fires: only the stopped group of two whose lags both grow",
				series: map[string]string{
					sel(lag, ns, lagOf("email-processor", "raw-messages")): growing(40, 25, 30*time.Minute),
					sel(members, ns, membersOf("email-processor")):         constant(0, 30*time.Minute),
					sel(lag, ns, lagOf("audit", "raw-messages")):           growing(10, 5, 30*time.Minute),
					sel(members, ns, membersOf("audit")):                   constant(3, 30*time.Minute),
				},
				evalTime: 30 * time.Minute,
				firing: []firing{{labels: map[string]string{"group": "email-processor", "topic": "raw-messages"},
					description: "Consumer group email-processor has no members while its lag on raw-messages grew over the last 5 minutes: what is produced there is not consumed."}},
			}},
		},
		"KafkaUnderReplicatedPartitions": {
			series: []series{
				{metric: components.MetricUnderReplicated, labels: pod(0), good: 0, bad: 1},
				{metric: components.MetricUnderReplicated, labels: pod(1), good: 0, bad: 0},
			},
			fireDescription: "1 partitions have fewer in-sync replicas than their replication factor for 5 minutes.",
		},
		"KafkaOfflinePartitions": {
			series: []series{
				{metric: components.MetricOfflinePartitions, labels: pod(0), good: 0, bad: 2},
				{metric: components.MetricOfflinePartitions, labels: pod(1), good: 0, bad: 0},
			},
			fireDescription: "2 partitions have no leader: producers and consumers of them are stopped.",
		},
		"KafkaActiveControllerCount": {
			// Healthy: exactly one node of the quorum is the active controller.
			series: []series{
				{metric: components.MetricActiveController, labels: pod(0), good: 1, bad: 0},
				{metric: components.MetricActiveController, labels: pod(1), good: 0, bad: 0},
				{metric: components.MetricActiveController, labels: pod(2), good: 0, bad: 0},
			},
			fireDescription: "0 active controllers: the KRaft quorum has no leader or the metrics are split.",
			extra: []promCase{{
				name: "fires: two nodes claim to be the active controller for 1m",
				series: map[string]string{
					sel(components.MetricActiveController, s.Namespace, pod(0)): constant(1, 10*time.Minute),
					sel(components.MetricActiveController, s.Namespace, pod(1)): constant(1, 10*time.Minute),
					sel(components.MetricActiveController, s.Namespace, pod(2)): constant(0, 10*time.Minute),
				},
				evalTime: time.Minute,
				firing: []firing{{labels: map[string]string{},
					description: "2 active controllers: the KRaft quorum has no leader or the metrics are split."}},
			}, {
				// A destroy and an up in the same namespace, as on real pods:
				// the destroyed leader's last sample ends without a staleness
				// marker, and Prometheus would show it for five minutes beside
				// the new leader's. Only the last two scrape intervals count.
				name: "quiet: a gone pod's last sample as the active controller lingers beside the new leader",
				series: map[string]string{
					sel(components.MetricActiveController, s.Namespace, gone(0)): constant(1, 45*time.Second),
					sel(components.MetricActiveController, s.Namespace, pod(0)):  "_x4 " + constant(0, 10*time.Minute),
					sel(components.MetricActiveController, s.Namespace, pod(1)):  "_x4 " + constant(1, 10*time.Minute),
					sel(components.MetricActiveController, s.Namespace, pod(2)):  "_x4 " + constant(0, 10*time.Minute),
				},
				evalTime: 4 * time.Minute,
			}, {
				// The same filter does not let a dead leader's last sample
				// stand in for a leader: nobody took over, and it fires.
				name: "fires: the leader's series ends without a staleness marker and no node takes over",
				series: map[string]string{
					sel(components.MetricActiveController, s.Namespace, pod(0)): constant(1, 45*time.Second),
					sel(components.MetricActiveController, s.Namespace, pod(1)): constant(0, 10*time.Minute),
					sel(components.MetricActiveController, s.Namespace, pod(2)): constant(0, 10*time.Minute),
				},
				evalTime: 3 * time.Minute,
				firing: []firing{{labels: map[string]string{},
					description: "0 active controllers: the KRaft quorum has no leader or the metrics are split."}},
			}},
		},
		"KafkaUnderMinIsrPartitions": {
			series: []series{
				{metric: components.MetricUnderMinISR, labels: pod(0), good: 0, bad: 3},
				{metric: components.MetricUnderMinISR, labels: pod(2), good: 0, bad: 0},
			},
			fireDescription: "3 partitions refuse acks=all writes (NOT_ENOUGH_REPLICAS).",
		},
		"KafkaDiskFilling": {
			series: []series{
				{metric: components.MetricVolumeUsedBytes, labels: pvc("data-kafka-0"), good: capacity / 2, bad: capacity * float64(pct+5) / 100},
				{metric: components.MetricVolumeCapacityBytes, labels: pvc("data-kafka-0"), good: capacity, bad: capacity},
				{metric: components.MetricVolumeUsedBytes, labels: pvc("data-kafka-1"), good: capacity / 2, bad: capacity / 2},
				{metric: components.MetricVolumeCapacityBytes, labels: pvc("data-kafka-1"), good: capacity, bad: capacity},
			},
			fireLabels:      pvc("data-kafka-0"),
			fireDescription: fmt.Sprintf("data-kafka-0 is over %d%% full.", pct),
			extra: []promCase{{
				// Only the brokers' data volumes count: another app's full PVC in
				// the namespace is not Kafka's problem.
				name: "quiet: a PVC that is not a Kafka data volume is 99% full",
				series: map[string]string{
					sel(components.MetricVolumeUsedBytes, s.Namespace, pvc("scratch-0")):     constant(capacity*0.99, 30*time.Minute),
					sel(components.MetricVolumeCapacityBytes, s.Namespace, pvc("scratch-0")): constant(capacity, 30*time.Minute),
				},
				evalTime: 30 * time.Minute,
			}, {
				// Exactly at the threshold is not over it.
				name: fmt.Sprintf("quiet: a data volume exactly %d%% full for 30m", pct),
				series: map[string]string{
					sel(components.MetricVolumeUsedBytes, s.Namespace, pvc("data-kafka-0")):     constant(capacity*float64(pct)/100, 30*time.Minute),
					sel(components.MetricVolumeCapacityBytes, s.Namespace, pvc("data-kafka-0")): constant(capacity, 30*time.Minute),
				},
				evalTime: 30 * time.Minute,
			}},
		},
	}
}

// sel renders a series selector with the namespace label.
func sel(metric, namespace string, labels map[string]string) string {
	all := map[string]string{"namespace": namespace}
	for k, v := range labels {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, all[k]))
	}
	return metric + "{" + strings.Join(parts, ", ") + "}"
}

// num renders a sample value for promtool.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// constant is v for d (one sample per step, from time 0).
func constant(v float64, d time.Duration) string {
	return fmt.Sprintf("%sx%d", num(v), int(d/step))
}

// cases generates the promtool cases of one alert: it fires once broken for its
// `for` duration, and stays quiet while healthy, one step short of `for`, after
// a breakage that healed before `for`, and for another namespace's Kafka.
func cases(a components.Alert, sc scenario, ns string) []promCase {
	hold, err := time.ParseDuration(a.For)
	if err != nil {
		panic(fmt.Sprintf("alert %s: for %q: %v", a.Name, a.For, err))
	}
	long := hold + 20*time.Minute
	build := func(namespace string, values func(s series) string) map[string]string {
		out := map[string]string{}
		for _, s := range sc.series {
			out[sel(s.metric, namespace, s.labels)] = values(s)
		}
		return out
	}
	labels := map[string]string{}
	for k, v := range sc.fireLabels {
		labels[k] = v
	}
	list := []promCase{
		{
			name:     fmt.Sprintf("fires: broken for %s", a.For),
			series:   build(ns, func(s series) string { return s.broken(long) }),
			evalTime: sc.lead + hold,
			firing:   []firing{{labels: labels, description: sc.fireDescription}},
		},
		{
			name:     fmt.Sprintf("still fires: broken for %s", long),
			series:   build(ns, func(s series) string { return s.broken(long) }),
			evalTime: long,
			firing:   []firing{{labels: labels, description: sc.fireDescription}},
		},
		{
			name:     fmt.Sprintf("quiet: healthy for %s", long),
			series:   build(ns, func(s series) string { return constant(s.good, long) }),
			evalTime: long,
		},
		{
			name:     fmt.Sprintf("quiet: broken for one step less than %s", a.For),
			series:   build(ns, func(s series) string { return s.broken(long) }),
			evalTime: sc.lead + hold - step,
		},
		{
			name:     fmt.Sprintf("quiet: broken for %s, then healthy", hold/2),
			series:   build(ns, func(s series) string { return s.broken(hold/2-step) + " " + constant(s.good, long) }),
			evalTime: long,
		},
		{
			name:     fmt.Sprintf("quiet: broken in namespace %s for %s", otherNamespace, long),
			series:   build(otherNamespace, func(s series) string { return s.broken(long) }),
			evalTime: long,
		},
	}
	return append(list, sc.extra...)
}

// promtoolTests renders the promtool test file for the cases, keyed by alert.
func promtoolTests(rulesFile string, s *config.Spec, byAlert map[string][]promCase) ([]byte, error) {
	severity := map[string]string{}
	summary := map[string]string{}
	for _, a := range components.Alerts(s) {
		severity[a.Name], summary[a.Name] = a.Severity, a.Summary
	}
	names := make([]string, 0, len(byAlert))
	for n := range byAlert {
		names = append(names, n)
	}
	sort.Strings(names)
	var groups []any
	for _, alert := range names {
		for _, c := range byAlert[alert] {
			var input []any
			keys := make([]string, 0, len(c.series))
			for k := range c.series {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				input = append(input, map[string]any{"series": k, "values": c.series[k]})
			}
			exp := []any{}
			for _, f := range c.firing {
				labels := map[string]any{"severity": severity[alert], "namespace": s.Namespace}
				for k, v := range f.labels {
					labels[k] = v
				}
				exp = append(exp, map[string]any{
					"exp_labels":      labels,
					"exp_annotations": map[string]any{"summary": summary[alert], "description": f.description},
				})
			}
			groups = append(groups, map[string]any{
				"name":         alert + ": " + c.name,
				"interval":     step.String(),
				"input_series": input,
				"alert_rule_test": []any{map[string]any{
					"eval_time":  c.evalTime.String(),
					"alertname":  alert,
					"exp_alerts": exp,
				}},
			})
		}
	}
	return yaml.Marshal(map[string]any{
		"rule_files":          []string{rulesFile},
		"evaluation_interval": step.String(),
		"tests":               groups,
	})
}

// TestAlertRules writes each stack's PrometheusRule groups to a rule file,
// checks it with promtool and runs promtool unit tests generated per alert.
func TestAlertRules(t *testing.T) {
	promtool := tool(t, "promtool", installPrometheus)
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			spec := stackSpec(t, stack)
			dir := t.TempDir()
			rules := writeRules(t, dir, spec)
			alerts := components.Alerts(spec)

			out, err := exec.Command(promtool, "check", "rules", rules).CombinedOutput()
			require.NoError(t, err, "promtool check rules:\n%s", out)
			assert.Contains(t, string(out), fmt.Sprintf("SUCCESS: %d rules found", len(alerts)))

			// Every alert needs a scenario, and every scenario an alert: an alert
			// without a promtool case is an untested alert.
			sc := scenarios(spec)
			byAlert := map[string][]promCase{}
			for _, a := range alerts {
				s, ok := sc[a.Name]
				if !assert.True(t, ok, "alert %s has no promtool scenario: add one to scenarios()", a.Name) {
					continue
				}
				byAlert[a.Name] = cases(a, s, spec.Namespace)
				var fires, quiet int
				for _, c := range byAlert[a.Name] {
					if len(c.firing) > 0 {
						fires++
					} else {
						quiet++
					}
				}
				assert.Positive(t, fires, "alert %s: no case where it fires", a.Name)
				assert.Positive(t, quiet, "alert %s: no case where it stays quiet", a.Name)
				delete(sc, a.Name)
			}
			for name := range sc {
				t.Errorf("scenario %s matches no alert in components.Alerts: remove or rename it", name)
			}

			tests, err := promtoolTests(filepath.Base(rules), spec, byAlert)
			require.NoError(t, err)
			testFile := filepath.Join(dir, "kafka-alerts.test.yaml")
			require.NoError(t, os.WriteFile(testFile, tests, 0o644))
			start := time.Now()
			out, err = exec.Command(promtool, "test", "rules", testFile).CombinedOutput()
			require.NoError(t, err, "promtool test rules:\n%s\n--- test file:\n%s", out, tests)
			assert.Contains(t, string(out), "SUCCESS")
			n := 0
			for _, a := range alerts {
				n += len(byAlert[a.Name])
			}
			t.Logf("promtool test rules: %d cases for %d alerts passed in %s", n, len(alerts), time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestPromtoolCatchesAWrongExpectation is the control for TestAlertRules: a
// case that expects an alert on healthy series must fail, so a pass above
// means promtool really evaluated our rules.
func TestPromtoolCatchesAWrongExpectation(t *testing.T) {
	promtool := tool(t, "promtool", installPrometheus)
	spec := stackSpec(t, "dev")
	dir := t.TempDir()
	rules := writeRules(t, dir, spec)
	wrong := map[string][]promCase{"KafkaUnderReplicatedPartitions": {{
		name:     "wrong on purpose: healthy series expected to fire",
		series:   map[string]string{sel(components.MetricUnderReplicated, spec.Namespace, nil): constant(0, 10*time.Minute)},
		evalTime: 10 * time.Minute,
		firing:   []firing{{labels: map[string]string{}, description: "0 partitions have fewer in-sync replicas than their replication factor for 5 minutes."}},
	}}}
	tests, err := promtoolTests(filepath.Base(rules), spec, wrong)
	require.NoError(t, err)
	testFile := filepath.Join(dir, "wrong.test.yaml")
	require.NoError(t, os.WriteFile(testFile, tests, 0o644))
	out, err := exec.Command(promtool, "test", "rules", testFile).CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "promtool must fail a wrong expectation:\n%s", out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), "alertname: KafkaUnderReplicatedPartitions")
}
