package lagexporter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// DefaultInterval is how often the exporter collects.
const DefaultInterval = 15 * time.Second

// MinInterval is the shortest interval Config accepts: each collection is a
// handful of requests to every broker, and Prometheus scrapes are seldom
// more often than 10 s.
const MinInterval = time.Second

// Config configures an Exporter.
type Config struct {
	// Interval is the time between collection starts; 0 means
	// DefaultInterval. A collection is cut off after one interval.
	Interval time.Duration
	// Groups, when set, keeps only the groups whose whole name it matches.
	Groups *regexp.Regexp
	// Log receives one line per failed collection (with every error) and one
	// when collections succeed again; nil discards them.
	Log io.Writer
}

// Exporter collects lag in the background and serves the last collection.
// Its methods are safe for concurrent use.
type Exporter struct {
	collect  func(ctx context.Context) ([]GroupLag, error)
	interval time.Duration
	log      io.Writer
	now      func() time.Time

	mu   sync.Mutex
	last Snapshot
}

// New returns an Exporter that collects through adm. Until its first
// collection ends it serves up 0 and no groups.
func New(adm *kadm.Client, cfg Config) *Exporter {
	var match func(string) bool
	if cfg.Groups != nil {
		match = cfg.Groups.MatchString
	}
	return newExporter(func(ctx context.Context) ([]GroupLag, error) { return Collect(ctx, adm, match) }, cfg)
}

func newExporter(collect func(context.Context) ([]GroupLag, error), cfg Config) *Exporter {
	e := &Exporter{collect: collect, interval: cfg.Interval, log: cfg.Log, now: time.Now}
	if e.interval == 0 {
		e.interval = DefaultInterval
	}
	if e.log == nil {
		e.log = io.Discard
	}
	e.last = Snapshot{At: e.now()}
	return e
}

// CollectOnce runs one collection, bounded by one interval, stores its
// snapshot and returns it. The snapshot is stored only when the collection
// ends, so scrapes meanwhile serve the previous one.
func (e *Exporter) CollectOnce(ctx context.Context) Snapshot {
	start := e.now()
	cctx, cancel := context.WithTimeout(ctx, e.interval)
	groups, err := e.collect(cctx)
	cancel()
	s := Snapshot{At: start, Up: err == nil, Took: e.now().Sub(start), Groups: groups}

	e.mu.Lock()
	wasUp := e.last.Up
	e.last = s
	e.mu.Unlock()
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutting down: the cut-off collection is no news.
	case err != nil:
		fmt.Fprintf(e.log, "kafka-lag-exporter: collection failed after %s (%d groups read): %v\n",
			s.Took.Round(time.Millisecond), len(groups), oneLine(err))
	case !wasUp:
		fmt.Fprintf(e.log, "kafka-lag-exporter: collection ok: %d groups in %s\n",
			len(groups), s.Took.Round(time.Millisecond))
	}
	return s
}

// Run collects at once and then every interval until ctx ends.
func (e *Exporter) Run(ctx context.Context) {
	tick := time.NewTicker(e.interval)
	defer tick.Stop()
	for {
		e.CollectOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Current is the snapshot a scrape serves now: the last collection's, or,
// when that started more than two intervals ago (the collector is stuck), up
// 0 with no groups.
func (e *Exporter) Current() Snapshot {
	e.mu.Lock()
	s := e.last
	e.mu.Unlock()
	if e.stale(s) {
		return Snapshot{At: s.At, Took: s.Took}
	}
	return s
}

func (e *Exporter) stale(s Snapshot) bool { return e.now().Sub(s.At) > 2*e.interval }

// Handler serves GET /metrics (Render of Current) and GET /healthz: 200 while
// the collector runs on time, 503 when its last collection started more
// than two intervals ago. Neither waits for Kafka.
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		var buf bytes.Buffer
		if err := Render(&buf, e.Current()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		_, _ = w.Write(buf.Bytes())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		e.mu.Lock()
		s := e.last
		e.mu.Unlock()
		if e.stale(s) {
			http.Error(w, fmt.Sprintf("stale: the last collection started %s ago, more than two intervals (%s)",
				e.now().Sub(s.At).Round(time.Second), e.interval), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok (up %v)\n", s.Up)
	})
	return mux
}

// oneLine puts errors.Join's lines on one line, so a failure is one log line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
