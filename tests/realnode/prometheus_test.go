//go:build realnode

package realnode

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
)

// The platform's Prometheus (scripts/monitoring.sh: the Prometheus Operator and
// one Prometheus selecting every PodMonitor and PrometheusRule) as the tests
// read it: its HTTP API on its pod address, from this machine.

const (
	monitoringNS   = "monitoring"
	platformProm   = "prometheus-platform-0"
	promPort       = 9090
	scrapeInterval = 30 * time.Second // the shipped PodMonitor's interval
)

// promAddr is a Prometheus pod's address now (a restarted pod has a new one).
func promAddr(t *testing.T, namespace, pod string) string {
	t.Helper()
	ip, err := kubectl("-n", namespace, "get", "pod", pod, "-o", "jsonpath={.status.podIP}")
	require.NoError(t, err)
	require.NotEmpty(t, ip, "pod %s/%s has no address", namespace, pod)
	return fmt.Sprintf("%s:%d", ip, promPort)
}

// promGet calls the HTTP API (path below /api/v1/) and decodes data into out.
func promGet(addr, path string, out any) error {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/api/v1/" + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("GET %s: %v: %s", path, err, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: %s %s", path, env.Status, env.Error)
	}
	return json.Unmarshal(env.Data, out)
}

// promTarget is one active scrape target.
type promTarget struct {
	ScrapePool string            `json:"scrapePool"`
	Labels     map[string]string `json:"labels"`
	Health     string            `json:"health"`
	LastError  string            `json:"lastError"`
}

func promTargets(addr string) ([]promTarget, error) {
	var d struct {
		Active []promTarget `json:"activeTargets"`
	}
	err := promGet(addr, "targets?state=active", &d)
	return d.Active, err
}

// brokerTargets are the targets of the program's PodMonitor, by pod.
func brokerTargets(addr string) (map[string]promTarget, error) {
	all, err := promTargets(addr)
	if err != nil {
		return nil, err
	}
	pool := fmt.Sprintf("podMonitor/%s/%s/", ns, components.PodMonitorName)
	out := map[string]promTarget{}
	for _, tg := range all {
		if strings.HasPrefix(tg.ScrapePool, pool) {
			out[tg.Labels["pod"]] = tg
		}
	}
	return out, nil
}

// promSeries runs an instant query and returns each series' labels.
func promSeries(addr, expr string) ([]map[string]string, error) {
	var d struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
		} `json:"result"`
	}
	if err := promGet(addr, "query?query="+url.QueryEscape(expr), &d); err != nil {
		return nil, err
	}
	out := make([]map[string]string, len(d.Result))
	for i, r := range d.Result {
		out[i] = r.Metric
	}
	return out, nil
}

// promValue runs an instant query that must return exactly one series and
// returns its value.
func promValue(addr, expr string) (float64, bool) {
	var d struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if err := promGet(addr, "query?query="+url.QueryEscape(expr), &d); err != nil || len(d.Result) != 1 {
		return 0, false
	}
	v, err := strconv.ParseFloat(fmt.Sprint(d.Result[0].Value[1]), 64)
	return v, err == nil
}

// promRange runs a range query from start to now at step and returns each
// series as its labels and its "t=value" points, for a log a person reads.
func promRange(addr, expr string, start time.Time, step time.Duration) (map[string][]string, error) {
	var d struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	q := fmt.Sprintf("query_range?query=%s&start=%d&end=%d&step=%ds", url.QueryEscape(expr),
		start.Unix(), time.Now().Unix(), int(step.Seconds()))
	if err := promGet(addr, q, &d); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, r := range d.Result {
		key := fmt.Sprint(r.Metric)
		for _, v := range r.Values {
			at, _ := v[0].(float64)
			out[key] = append(out[key], fmt.Sprintf("%+.0fs=%v", at-float64(start.Unix()), v[1]))
		}
	}
	return out, nil
}

// promAlert is one alert of /api/v1/alerts.
type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func promAlerts(addr string) ([]promAlert, error) {
	var d struct {
		Alerts []promAlert `json:"alerts"`
	}
	err := promGet(addr, "alerts", &d)
	return d.Alerts, err
}

// alertState is the state of the named alert in this namespace: "" (inactive),
// "pending" or "firing" (firing wins when several label sets are active).
func alertState(addr, name string) (string, error) {
	alerts, err := promAlerts(addr)
	if err != nil {
		return "", err
	}
	state := ""
	for _, a := range alerts {
		if a.Labels["alertname"] != name || a.Labels["namespace"] != ns {
			continue
		}
		if a.State == "firing" || state == "" {
			state = a.State
		}
	}
	return state, nil
}

// promRule is one loaded rule of /api/v1/rules.
type promRule struct {
	Name      string `json:"name"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	Type      string `json:"type"`
}

// promRuleGroups are the loaded rule groups by name.
func promRuleGroups(addr string) (map[string][]promRule, error) {
	var d struct {
		Groups []struct {
			Name  string     `json:"name"`
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	}
	if err := promGet(addr, "rules", &d); err != nil {
		return nil, err
	}
	out := map[string][]promRule{}
	for _, g := range d.Groups {
		out[g.Name] = append(out[g.Name], g.Rules...)
	}
	return out, nil
}

// waitBrokerTargetsUp waits until the platform Prometheus scrapes every broker
// pod through the shipped PodMonitor, healthy, and returns the targets.
func waitBrokerTargetsUp(t *testing.T, pods []string) map[string]promTarget {
	t.Helper()
	var got map[string]promTarget
	var lastErr error
	waitFor(t, 3*time.Minute, fmt.Sprintf("a healthy target per broker pod %v", pods), func() bool {
		got, lastErr = brokerTargets(promAddr(t, monitoringNS, platformProm))
		if lastErr != nil || len(got) != len(pods) {
			return false
		}
		for _, p := range pods {
			if got[p].Health != "up" {
				return false
			}
		}
		return true
	})
	return got
}

// seriesPods is the set of pod labels of an instant query's series.
func seriesPods(series []map[string]string) []string {
	set := map[string]bool{}
	for _, s := range series {
		set[s["pod"]] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// assertBrokerMetrics checks the plan's broker gauges are in Prometheus for
// every broker pod, with the pod and namespace labels the alerts and the
// dashboard select on (the traffic counters exist once a broker has traffic:
// assertDashboardAnswers reads them after load). Only the pods' current
// addresses count: a pod of an earlier stack in this namespace (the dev test's)
// can leave its last samples visible for the 5-minute lookback when its scrape
// job went with its PodMonitor.
func assertBrokerMetrics(t *testing.T, pods []string) {
	t.Helper()
	addr := promAddr(t, monitoringNS, platformProm)
	instances := currentInstances(t, pods)
	for _, m := range []string{components.MetricUnderReplicated, components.MetricUnderMinISR, components.MetricPartitionCount,
		components.MetricActiveController, components.MetricOfflinePartitions, components.MetricLogSize, components.MetricBrokerState} {
		series, err := promSeries(addr, fmt.Sprintf(`count by (pod, namespace) (%s{namespace=%q,instance=~%q})`, m, ns, instances))
		require.NoError(t, err, m)
		assert.Equal(t, pods, seriesPods(series), "%s: one series set per broker pod, labelled pod and namespace", m)
	}
}

// currentInstances is a regular expression matching the pods' metrics
// endpoints at their current addresses.
func currentInstances(t *testing.T, pods []string) string {
	t.Helper()
	var alts []string
	for _, p := range pods {
		alts = append(alts, regexp.QuoteMeta(fmt.Sprintf("%s:%d", brokerIP(t, p), components.MetricsPort)))
	}
	return strings.Join(alts, "|")
}

// assertShippedRulesLoaded checks Prometheus loaded the program's
// PrometheusRule as shipped: one group, every alert, each evaluating without
// error.
func assertShippedRulesLoaded(t *testing.T, alertNames []string) {
	t.Helper()
	var rules []promRule
	waitFor(t, 2*time.Minute, "the shipped rule group loaded and evaluated", func() bool {
		groups, err := promRuleGroups(promAddr(t, monitoringNS, platformProm))
		if err != nil {
			return false
		}
		rules = groups["umbrella-streaming.kafka"]
		if len(rules) != len(alertNames) {
			return false
		}
		for _, r := range rules {
			if r.Health != "ok" {
				return false
			}
		}
		return true
	})
	var names []string
	for _, r := range rules {
		names = append(names, r.Name)
		assert.Equal(t, "alerting", r.Type, r.Name)
		assert.Empty(t, r.LastError, r.Name)
	}
	assert.ElementsMatch(t, alertNames, names)
}

// assertOperatorAccepted reads the live operator's own verdict on the
// monitoring objects it found (prometheus_operator_managed_resources on its
// metrics port): at least the program's PodMonitors and PrometheusRule
// selected, none rejected.
func assertOperatorAccepted(t *testing.T, podMonitors, rules int) {
	t.Helper()
	ip, err := kubectl("-n", monitoringNS, "get", "pod", "-l", "app.kubernetes.io/name=prometheus-operator", "-o", "jsonpath={.items[0].status.podIP}")
	require.NoError(t, err)
	var text string
	waitFor(t, 2*time.Minute, "the operator to count the program's monitoring objects", func() bool {
		c := http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get("http://" + ip + ":8080/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		text = string(b)
		return managed(text, "PodMonitor", "selected") >= podMonitors && managed(text, "PrometheusRule", "selected") >= rules
	})
	for _, kind := range []string{"PodMonitor", "PrometheusRule"} {
		assert.Zero(t, managed(text, kind, "rejected"), "the operator rejected a %s", kind)
	}
	t.Logf("FIGURE operator verdict: PodMonitor selected %d rejected %d; PrometheusRule selected %d rejected %d",
		managed(text, "PodMonitor", "selected"), managed(text, "PodMonitor", "rejected"),
		managed(text, "PrometheusRule", "selected"), managed(text, "PrometheusRule", "rejected"))
}

// managed reads prometheus_operator_managed_resources for the Prometheus
// controller (-1 when absent).
func managed(metrics, kind, state string) int {
	prefix := fmt.Sprintf(`prometheus_operator_managed_resources{controller="prometheus",resource=%q,state=%q} `, kind, state)
	for _, line := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// alertTimes records when an alert was first seen pending, firing, and then
// inactive again, from samples of /api/v1/alerts.
type alertTimes struct {
	pending, firing, resolved time.Duration
}

// watchAlerts samples the named alerts' states every second from start until
// done reports true or the timeout, and returns each alert's first pending,
// first firing, and first inactive after firing, relative to start.
func watchAlerts(t *testing.T, start time.Time, timeout time.Duration, names []string, done func(map[string]alertTimes) bool) map[string]alertTimes {
	t.Helper()
	seen := map[string]alertTimes{}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		addr := promAddr(t, monitoringNS, platformProm)
		for _, n := range names {
			st, err := alertState(addr, n)
			if err != nil {
				continue
			}
			at := seen[n]
			now := time.Since(start)
			switch {
			case st == "pending" && at.pending == 0:
				at.pending = now
			case st == "firing" && at.firing == 0:
				if at.pending == 0 {
					at.pending = now
				}
				at.firing = now
			case st == "" && at.firing > 0 && at.resolved == 0:
				at.resolved = now
			}
			seen[n] = at
		}
		if done(seen) {
			return seen
		}
		time.Sleep(time.Second)
	}
	return seen
}
