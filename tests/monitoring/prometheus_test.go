//go:build monitoring

package monitoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// freePort returns a TCP port of 127.0.0.1 that is free now, outside the
// ephemeral range (localkafka.FreePort), for a server started next.
func freePort(t testing.TB) int {
	t.Helper()
	p, err := localkafka.FreePort("127.0.0.1")
	require.NoError(t, err)
	return p
}

// prometheus is a Prometheus server this test started, on 127.0.0.1.
type prometheus struct {
	pid    int
	addr   string
	exited chan struct{}
	log    string
}

// scrapeTarget is one static scrape target with the labels Prometheus
// Operator's PodMonitor would attach to a broker pod.
type scrapeTarget struct {
	addr   string
	labels map[string]string
}

// startPrometheus runs prometheus with a config scraping targets every 2 s (a
// JMX scrape of a broker takes up to a second here), evaluating ruleFile every second, with its storage under dir. It is stopped
// (SIGTERM, then SIGKILL) by pid when the test ends.
func startPrometheus(t *testing.T, bin, dir, ruleFile string, targets ...scrapeTarget) *prometheus {
	t.Helper()
	var static []any
	for _, tg := range targets {
		static = append(static, map[string]any{"targets": []string{tg.addr}, "labels": tg.labels})
	}
	cfg := map[string]any{
		"global":     map[string]any{"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "1s"},
		"rule_files": []string{ruleFile},
		"scrape_configs": []any{map[string]any{
			"job_name":       "kafka",
			"static_configs": static,
		}},
	}
	b, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgPath, b, 0o644))

	out, err := exec.Command(tool(t, "promtool", installPrometheus), "check", "config", cfgPath).CombinedOutput()
	require.NoError(t, err, "promtool check config:\n%s", out)

	p := &prometheus{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), exited: make(chan struct{}), log: filepath.Join(dir, "prometheus.log")}
	logFile, err := os.Create(p.log)
	require.NoError(t, err)
	defer logFile.Close()
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+p.addr,
		"--storage.tsdb.retention.time=1h",
	)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, and killed with the test process should that die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	p.pid = cmd.Process.Pid
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("prometheus exited before it was ready; log %s:\n%s", p.log, readTail(p.log))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready on %s after 30s; log %s:\n%s", p.addr, p.log, readTail(p.log))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the server by its pid: SIGTERM, then SIGKILL after 10 s.
func (p *prometheus) stop(t testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Logf("prometheus (pid %d) ignored SIGTERM for 10s: killing it", p.pid)
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.exited
	}
}

func readTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// sample is one element of an instant vector.
type sample struct {
	Metric map[string]string
	Value  float64
}

// apiResponse is the envelope of every Prometheus HTTP API answer.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func (p *prometheus) get(path string, params url.Values) (json.RawMessage, error) {
	u := "http://" + p.addr + path
	if params != nil {
		u += "?" + params.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("GET %s: %s: %w", path, resp.Status, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("GET %s: %s: %s", path, r.ErrorType, r.Error)
	}
	return r.Data, nil
}

// query evaluates expr now. An error is the query's own error (a bad
// expression) or a failed request.
func (p *prometheus) query(expr string) ([]sample, error) {
	data, err := p.get("/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", expr, err)
	}
	var d struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	if d.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", expr, d.ResultType)
	}
	out := make([]sample, 0, len(d.Result))
	for _, r := range d.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", expr, r.Value[1], err)
		}
		out = append(out, sample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// eventually polls query until ok accepts its result, or fails after timeout
// with the last result.
func (p *prometheus) eventually(t testing.TB, timeout time.Duration, expr string, ok func([]sample) bool) []sample {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got, err := p.query(expr)
		require.NoError(t, err)
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %s = %v", timeout, expr, got)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// ruleState is one alerting rule as /api/v1/rules reports it.
type ruleState struct {
	Name      string `json:"name"`
	Query     string `json:"query"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	State     string `json:"state"`
	Type      string `json:"type"`
}

// rules returns the loaded rule groups' rules, by group name.
func (p *prometheus) rules() (map[string][]ruleState, error) {
	data, err := p.get("/api/v1/rules", nil)
	if err != nil {
		return nil, err
	}
	var d struct {
		Groups []struct {
			Name  string      `json:"name"`
			Rules []ruleState `json:"rules"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	out := map[string][]ruleState{}
	for _, g := range d.Groups {
		out[g.Name] = g.Rules
	}
	return out, nil
}

// fetch returns the body of a plain GET.
func fetch(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(u + ": " + resp.Status)
	}
	return string(b), nil
}
