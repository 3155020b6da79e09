package bench

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// ClientTimes are the client floor for n topics (issue 26): the creates and
// deletes the provider makes, made by a plain kafkaadmin.Client with the
// same every-broker guarantee and the engine's parallelism, with no
// provider, gRPC or engine around them.
type ClientTimes struct {
	// Create is CreateTopic + WaitCreated per topic, what Topic.Create does
	// (provider/topic.go) for a topic with no config and no adopt.
	Create time.Duration
	// Delete is DeleteTopic + WaitGone per topic, what Topic.Delete does.
	Delete time.Duration
}

// RunClient creates, then deletes, the n benchmark topics through
// kafkaadmin, each topic its own goroutine doing exactly the provider's
// calls, at most parallel at once (the engine runs at most --parallel
// resource operations at once, and the provider's calls batch among
// themselves in kafkaadmin as they would there). Each phase gets a fresh
// client made from the same Connection the provider makes of its
// configuration (bootstrap servers, plaintext, the default timeout), as each
// engine operation starts a fresh provider process with its own client; the
// dial is part of the phase's time, as it is there.
func RunClient(ctx context.Context, bootstrap []string, n, parallel int) (ClientTimes, error) {
	names := TopicNames(n)
	var t ClientTimes
	phase := func(what string, op func(cl *kafkaadmin.Client, name string) error) (time.Duration, error) {
		cl, err := kafkaadmin.New(kafkaadmin.Connection{BootstrapServers: bootstrap})
		if err != nil {
			return 0, fmt.Errorf("bench: kafkaadmin client: %w", err)
		}
		defer cl.Close()
		return parallelEach("kafkaadmin client floor, "+what, parallel, names,
			func(_ int, name string) error { return op(cl, name) })
	}
	var err error
	t.Create, err = phase("create", func(cl *kafkaadmin.Client, name string) error {
		if err := cl.CreateTopic(ctx, name, TopicPartitions, TopicReplicationFactor, nil); err != nil {
			return fmt.Errorf("CreateTopic: %w", err)
		}
		if err := cl.WaitCreated(ctx, name, TopicPartitions, nil); err != nil {
			return fmt.Errorf("WaitCreated: %w", err)
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	t.Delete, err = phase("delete", func(cl *kafkaadmin.Client, name string) error {
		if err := cl.DeleteTopic(ctx, name); err != nil {
			return fmt.Errorf("DeleteTopic: %w", err)
		}
		if err := cl.WaitGone(ctx, name); err != nil {
			return fmt.Errorf("WaitGone: %w", err)
		}
		return nil
	})
	return t, err
}

// ClientGoal is issue 26's bound: the engine with umbrellakafka takes at
// most this many times the floor it can be held to, the engine with the
// do-nothing provider plus the kafkaadmin client floor, same N and phase.
const ClientGoal = 1.3

// clientPhase is one row of issue 26's tables.
type clientPhase struct {
	name     string
	engine   func(EngineTimes) time.Duration
	skip     func(EngineTimes) time.Duration // the same phase with checkpoints skipped; nil on those rows
	client   func(ClientTimes) time.Duration
	provider func(ProviderTimes) time.Duration
}

var clientPhases = []clientPhase{
	{"create up", func(e EngineTimes) time.Duration { return e.Create },
		func(e EngineTimes) time.Duration { return e.CreateSkip },
		func(c ClientTimes) time.Duration { return c.Create }, func(p ProviderTimes) time.Duration { return p.Create }},
	{"create up, skip checkpoints", func(e EngineTimes) time.Duration { return e.CreateSkip }, nil,
		func(c ClientTimes) time.Duration { return c.Create }, func(p ProviderTimes) time.Duration { return p.Create }},
	{"destroy", func(e EngineTimes) time.Duration { return e.Destroy },
		func(e EngineTimes) time.Duration { return e.DestroySkip },
		func(c ClientTimes) time.Duration { return c.Delete }, func(p ProviderTimes) time.Duration { return p.Delete }},
	{"destroy, skip checkpoints", func(e EngineTimes) time.Duration { return e.DestroySkip }, nil,
		func(c ClientTimes) time.Duration { return c.Delete }, func(p ProviderTimes) time.Duration { return p.Delete }},
}

// clientSplit is one row's figures: the floor, and the rest (what the engine
// with umbrellakafka takes beyond it) split into three parts that add up to
// it.
type clientSplit struct {
	noop, client, floor, engine time.Duration
	ratio                       float64
	// rest = engine − floor = provider + checkpoints + process.
	rest time.Duration
	// provider is umbrellakafka alone − the client floor: Check, the
	// provider's own work around the kafkaadmin calls, its in-process gRPC
	// surface.
	provider time.Duration
	// checkpoints is what the engine's checkpoints cost with umbrellakafka
	// beyond what they cost with the do-nothing provider (0 on the rows that
	// skip them).
	checkpoints time.Duration
	// process is the rest of the rest: the engine driving the real plugin
	// process rather than the do-nothing provider served in this process
	// (both over loopback gRPC): plugin start and CheckConfig/Configure once
	// per operation, and per resource the engine's waits on a plugin busy
	// with Kafka work (the engine calls Check one resource at a time in its
	// event loop), with checkpoints skipped in both.
	process time.Duration
}

func splitOf(r TopicsResult, ph clientPhase) clientSplit {
	s := clientSplit{noop: ph.engine(r.Noop), client: ph.client(r.Client), engine: ph.engine(r.Engine)}
	s.floor = s.noop + s.client
	if s.floor > 0 {
		s.ratio = s.engine.Seconds() / s.floor.Seconds()
	}
	s.rest = s.engine - s.floor
	s.provider = ph.provider(r.Provider) - s.client
	if ph.skip != nil {
		s.checkpoints = (s.engine - ph.skip(r.Engine)) - (s.noop - ph.skip(r.Noop))
	}
	s.process = s.rest - s.provider - s.checkpoints
	return s
}

// printClientGoal writes issue 26's tables: the engine with umbrellakafka
// against the engine with the do-nothing provider plus the kafkaadmin client
// floor, where the rest goes, how the rest grows with N, and the verdict.
func printClientGoal(w io.Writer, rs []TopicsResult) {
	fmt.Fprintf(w, "\n### umbrellakafka through the engine vs the floor it can be held to: the engine's do-nothing floor + "+
		"the same creates/deletes by a plain kafkaadmin client (every broker shows it; %d at once = the engine's "+
		"parallelism); goal ≤ %.1f×\n\n", rs[0].Parallel, ClientGoal)
	fmt.Fprintln(w, "| N | phase | engine + do-nothing provider s | kafkaadmin client s | floor sum s | engine + umbrellakafka s | ratio | goal |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	var misses []string
	for _, r := range rs {
		for _, ph := range clientPhases {
			s := splitOf(r, ph)
			ratio, goal := fmt.Sprintf("%.2f×", s.ratio), "holds"
			if s.floor <= 0 || s.ratio > ClientGoal {
				ratio, goal = "**"+ratio+"**", "**misses**"
				misses = append(misses, fmt.Sprintf("N = %d %s (%.2f×; of the %s s beyond the floor, %s)",
					r.N, ph.name, s.ratio, secs(s.rest), s.largest()))
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", r.N, ph.name, secs(s.noop), secs(s.client),
				secs(s.floor), secs(s.engine), ratio, goal)
		}
	}

	fmt.Fprintln(w, "\nWhere the rest goes (engine + umbrellakafka − floor sum, split into parts that add up to it; "+
		"differences of separate runs, so a part can come out negative under load):")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "| N | phase | rest s | umbrellakafka alone − client s (Check, the provider's own work, in-process gRPC) | "+
		"checkpoints beyond the do-nothing provider's s | the engine driving the real plugin process beyond both alone s "+
		"(plugin start, Configure; per resource, the engine's serial Check and step waits on a busy plugin; checkpoints skipped) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rs {
		for _, ph := range clientPhases {
			s := splitOf(r, ph)
			ck := "–"
			if ph.skip != nil {
				ck = secs(s.checkpoints)
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", r.N, ph.name, secs(s.rest), secs(s.provider), ck, secs(s.process))
		}
	}

	if fits := restFits(rs); len(fits) > 0 {
		fmt.Fprintf(w, "\nThe rest against N (least squares over N = %s): a fixed part per operation and a part per topic:\n",
			sizesOf(rs))
		for _, f := range fits {
			fmt.Fprintln(w, "- "+f)
		}
	}

	fmt.Fprintf(w, "\nIssue 26's goal (engine + umbrellakafka ≤ %.1f × (engine + do-nothing provider + kafkaadmin client), "+
		"every N and phase): ", ClientGoal)
	if len(misses) == 0 {
		fmt.Fprintln(w, "holds.")
		return
	}
	fmt.Fprintf(w, "misses at %d of %d:\n", len(misses), len(rs)*len(clientPhases))
	for _, m := range misses {
		fmt.Fprintln(w, "- "+m)
	}
}

// largest names the part of the rest that costs the most.
func (s clientSplit) largest() string {
	parts := []struct {
		name string
		d    time.Duration
	}{
		{"the engine driving the real plugin process beyond both alone (plugin start, Configure; per resource, the engine's serial Check and step waits on a busy plugin)", s.process},
		{"the provider's own work beyond the client (Check, its handlers, in-process gRPC)", s.provider},
		{"the engine's checkpoints beyond the do-nothing provider's", s.checkpoints},
	}
	best := parts[0]
	for _, p := range parts[1:] {
		if p.d > best.d {
			best = p
		}
	}
	return fmt.Sprintf("%s s is %s", secs(best.d), best.name)
}

// restFits fits, per phase, each part of the rest as a + b·N over the
// sizes measured; none with fewer than two distinct sizes.
func restFits(rs []TopicsResult) []string {
	distinct := map[int]bool{}
	for _, r := range rs {
		distinct[r.N] = true
	}
	if len(distinct) < 2 {
		return nil
	}
	var out []string
	for _, ph := range clientPhases {
		parts := []struct {
			name string
			of   func(clientSplit) time.Duration
		}{
			{"rest", func(s clientSplit) time.Duration { return s.rest }},
			{"provider − client", func(s clientSplit) time.Duration { return s.provider }},
			{"checkpoints", func(s clientSplit) time.Duration { return s.checkpoints }},
			{"process", func(s clientSplit) time.Duration { return s.process }},
		}
		var items []string
		for _, p := range parts {
			if p.name == "checkpoints" && ph.skip == nil {
				continue
			}
			var xs, ys []float64
			for _, r := range rs {
				xs = append(xs, float64(r.N))
				ys = append(ys, p.of(splitOf(r, ph)).Seconds())
			}
			a, b := linearFit(xs, ys)
			sign := "+"
			if b < 0 {
				sign, b = "−", -b
			}
			items = append(items, fmt.Sprintf("%s ≈ %.2f s %s %.1f ms × N", p.name, a, sign, 1000*b))
		}
		out = append(out, ph.name+": "+strings.Join(items, "; "))
	}
	return out
}

// linearFit is the least-squares line y = a + b·x.
func linearFit(xs, ys []float64) (a, b float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	if d := n*sxx - sx*sx; d != 0 {
		b = (n*sxy - sx*sy) / d
	}
	return (sy - b*sx) / n, b
}

func sizesOf(rs []TopicsResult) string {
	var s []string
	for _, r := range rs {
		s = append(s, strconv.Itoa(r.N))
	}
	return strings.Join(s, ", ")
}
