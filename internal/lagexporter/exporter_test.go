package lagexporter

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	if rec.Code == http.StatusOK && path == "/metrics" {
		assert.Equal(t, ContentType, rec.Header().Get("Content-Type"))
	}
	return rec.Code, string(body)
}

// scrape GETs /metrics from the server at url (http://host:port) over real
// HTTP, as Prometheus does, and returns the body.
func scrape(url string) (string, error) {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// samples are the exposition's sample lines (no HELP or TYPE).
func samples(body string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// What a scrape serves across collections: nothing but up 0 before the
// first; the groups after a good one; up 0 and only the groups read after a
// partly failed one (never the earlier values); up 0 and no groups once the
// last collection started more than two intervals ago, when /healthz turns
// 503.
func TestExporterServesLastCollection(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var result []GroupLag
	var resultErr error
	var log strings.Builder
	e := newExporter(func(context.Context) ([]GroupLag, error) {
		clk.add(40 * time.Millisecond)
		return result, resultErr
	}, Config{Interval: 10 * time.Second, Log: &log})
	e.now = clk.now
	e.last.At = clk.now()
	h := e.Handler()

	_, body := get(t, h, "/metrics")
	assert.Equal(t, []string{"umbrella_lag_exporter_up 0", "umbrella_lag_exporter_collect_seconds 0"}, samples(body))

	result = []GroupLag{{Group: "a", State: "Stable", Members: 1, Topics: []TopicLag{{"t", 5}}},
		{Group: "b", State: "Empty", Topics: []TopicLag{{"t", 9}}}}
	e.CollectOnce(context.Background())
	_, body = get(t, h, "/metrics")
	assert.Equal(t, []string{
		`umbrella_consumergroup_lag{group="a",topic="t"} 5`,
		`umbrella_consumergroup_lag{group="b",topic="t"} 9`,
		`umbrella_consumergroup_members{group="a"} 1`,
		`umbrella_consumergroup_members{group="b"} 0`,
		"umbrella_lag_exporter_up 1",
		"umbrella_lag_exporter_collect_seconds 0.04",
	}, samples(body))

	clk.add(10 * time.Second)
	result = []GroupLag{{Group: "a", State: "Stable", Members: 1, Topics: []TopicLag{{"t", 6}}}}
	resultErr = errors.New(`group "b": describe: COORDINATOR_LOAD_IN_PROGRESS` + "\n" + `group "c": x`)
	e.CollectOnce(context.Background())
	_, body = get(t, h, "/metrics")
	assert.Equal(t, []string{
		`umbrella_consumergroup_lag{group="a",topic="t"} 6`,
		`umbrella_consumergroup_members{group="a"} 1`,
		"umbrella_lag_exporter_up 0",
		"umbrella_lag_exporter_collect_seconds 0.04",
	}, samples(body), "group b's old lag is not served after a collection that could not read it")
	assert.Equal(t, "kafka-lag-exporter: collection ok: 2 groups in 40ms\n"+
		`kafka-lag-exporter: collection failed after 40ms (1 groups read): group "b": describe: COORDINATOR_LOAD_IN_PROGRESS; group "c": x`+"\n",
		log.String())

	resultErr = nil
	e.CollectOnce(context.Background())
	code, health := get(t, h, "/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok (up true)\n", health)

	clk.add(20 * time.Second) // the last collection started 20.04 s ago: more than two intervals
	_, body = get(t, h, "/metrics")
	assert.Equal(t, []string{"umbrella_lag_exporter_up 0", "umbrella_lag_exporter_collect_seconds 0.04"}, samples(body))
	code, health = get(t, h, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "stale: the last collection started 20s ago, more than two intervals (10s)\n", health)
}

// A scrape never waits for Kafka: while a collection hangs, /metrics answers
// at once from the previous snapshot; the collection is cut off after one
// interval and then serves up 0.
func TestScrapeDoesNotWaitForCollection(t *testing.T) {
	started := make(chan struct{})
	var calls int
	e := newExporter(func(ctx context.Context) ([]GroupLag, error) {
		calls++
		if calls == 1 {
			return []GroupLag{{Group: "g", Members: 2}}, nil
		}
		close(started)
		<-ctx.Done() // a broker that does not answer
		return nil, ctx.Err()
	}, Config{Interval: 1500 * time.Millisecond})
	e.CollectOnce(context.Background())
	done := make(chan Snapshot)
	go func() { done <- e.CollectOnce(context.Background()) }()
	<-started

	_, body := get(t, e.Handler(), "/metrics")
	select {
	case <-done:
		t.Fatal("/metrics answered only after the hanging collection ended")
	default: // answered while the collection still hangs
	}
	assert.Contains(t, samples(body), `umbrella_consumergroup_members{group="g"} 2`)
	assert.Contains(t, samples(body), "umbrella_lag_exporter_up 1")

	var s Snapshot
	select {
	case s = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the hanging collection was not cut off")
	}
	assert.False(t, s.Up)
	assert.GreaterOrEqual(t, s.Took, 1500*time.Millisecond, "cut off at one interval")
	_, body = get(t, e.Handler(), "/metrics")
	assert.Equal(t, "umbrella_lag_exporter_up 0", samples(body)[0])
}
