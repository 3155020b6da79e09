package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicsOptions configure RunTopics.
type TopicsOptions struct {
	// Bootstrap are the cluster's client addresses.
	Bootstrap []string
	// Client is a connected client of the cluster, for the raw floor.
	Client *kgo.Client
	// Sizes are the topic counts N to measure, in order.
	Sizes []int
	// Workspace holds the stacks.
	Workspace *Workspace
	// Parallel is the engine's --parallel and how many provider calls (and
	// kafkaadmin client calls) run at once without the engine; 0 means the
	// CLI's default, EngineParallel().
	Parallel int
	// Progress receives one line per finished step; nil discards them.
	Progress io.Writer
}

// TopicsResult holds one N's figures.
type TopicsResult struct {
	N int
	// Floor is the raw floor: one batched kadm call per phase.
	Floor FloorTimes
	// Engine is umbrellakafka through the engine.
	Engine EngineTimes
	// Noop is the do-nothing provider through the engine, with and without
	// checkpoints: the engine's own cost.
	Noop EngineTimes
	// Provider is umbrellakafka with no engine.
	Provider ProviderTimes
	// Client is the client floor: the provider's kafkaadmin calls made by a
	// plain kafkaadmin.Client, no provider, no engine (issue 26).
	Client ClientTimes
	// Parallel is the concurrency Provider and Client ran with.
	Parallel int
	// LoadBefore and LoadAfter are /proc/loadavg's three figures around this N.
	LoadBefore, LoadAfter string
}

// RunTopics measures every size in turn: the raw floor, umbrellakafka
// through the engine, umbrellakafka alone, the kafkaadmin client floor and
// the no-op provider through the engine, after one small warm-up round of each (a fresh broker JVM, CLI and
// plugin cache are slower the first time). Every step leaves no topic
// behind; leftovers of an interrupted run are deleted first.
func RunTopics(ctx context.Context, o TopicsOptions) ([]TopicsResult, error) {
	engineParallel := o.Parallel
	if o.Parallel == 0 {
		o.Parallel = EngineParallel()
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if err := Cleanup(ctx, o.Client); err != nil {
		return nil, err
	}
	start := time.Now()
	if _, err := RunFloor(ctx, o.Client, 20); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if _, err := RunClient(ctx, o.Bootstrap, 20, o.Parallel); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if err := o.Workspace.Warm(ctx, "warmup-kafka", TopicsProgram(20, o.Bootstrap)); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if err := o.Workspace.Warm(ctx, "warmup-noop", NoopProgram(20)); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	fmt.Fprintf(o.Progress, "topics: warm-up done in %.1f s\n", time.Since(start).Seconds())

	var results []TopicsResult
	for _, n := range o.Sizes {
		r := TopicsResult{N: n, Parallel: o.Parallel, LoadBefore: LoadAvg()}
		var err error
		if r.Floor, err = RunFloor(ctx, o.Client, n); err != nil {
			return results, err
		}
		fmt.Fprintf(o.Progress, "topics: N=%d kadm batch done (load %s)\n", n, LoadAvg())
		if r.Engine, err = o.Workspace.RunEngine(ctx, fmt.Sprintf("kafka-%d", n), n, TopicsProgram(n, o.Bootstrap),
			EngineRun{Checkpointed: true, Parallel: engineParallel}); err != nil {
			return results, err
		}
		fmt.Fprintf(o.Progress, "topics: N=%d engine + umbrellakafka done (load %s)\n", n, LoadAvg())
		if r.Provider, err = RunProvider(ctx, o.Bootstrap, n, o.Parallel); err != nil {
			return results, err
		}
		fmt.Fprintf(o.Progress, "topics: N=%d umbrellakafka alone done (load %s)\n", n, LoadAvg())
		if r.Client, err = RunClient(ctx, o.Bootstrap, n, o.Parallel); err != nil {
			return results, err
		}
		fmt.Fprintf(o.Progress, "topics: N=%d kafkaadmin client floor done (load %s)\n", n, LoadAvg())
		if r.Noop, err = o.Workspace.RunEngine(ctx, fmt.Sprintf("noop-%d", n), n, NoopProgram(n),
			EngineRun{Checkpointed: true, Parallel: engineParallel}); err != nil {
			return results, err
		}
		r.LoadAfter = LoadAvg()
		fmt.Fprintf(o.Progress, "topics: N=%d engine + no-op provider done (load %s)\n", n, r.LoadAfter)
		results = append(results, r)
	}
	return results, nil
}

// topicPhase is one row of the tables: how each measurement answers it.
type topicPhase struct {
	name   string
	engine func(EngineTimes) time.Duration
	floor  func(FloorTimes) (call, settled time.Duration) // nil: Kafka is not asked
}

var topicPhases = []topicPhase{
	{"create up", func(e EngineTimes) time.Duration { return e.Create },
		func(f FloorTimes) (time.Duration, time.Duration) { return f.Create, f.CreateSettled }},
	{"create up, skip checkpoints", func(e EngineTimes) time.Duration { return e.CreateSkip },
		func(f FloorTimes) (time.Duration, time.Duration) { return f.Create, f.CreateSettled }},
	{"no-op up", func(e EngineTimes) time.Duration { return e.NoopUp }, nil},
	{"refresh", func(e EngineTimes) time.Duration { return e.Refresh },
		func(f FloorTimes) (time.Duration, time.Duration) { return f.Read, f.Read }},
	{"destroy", func(e EngineTimes) time.Duration { return e.Destroy },
		func(f FloorTimes) (time.Duration, time.Duration) { return f.Delete, f.DeleteSettled }},
	{"destroy, skip checkpoints", func(e EngineTimes) time.Duration { return e.DestroySkip },
		func(f FloorTimes) (time.Duration, time.Duration) { return f.Delete, f.DeleteSettled }},
}

// PrintTopics writes the two tables (engine vs floor; where the engine's time
// goes) and the verdict on issue 3's goal at the largest N, as Markdown.
func PrintTopics(w io.Writer, cluster string, rs []TopicsResult) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### Topics: umbrellakafka through the Pulumi engine vs one batched kadm call (%s)\n\n", cluster)
	fmt.Fprintln(w, "| N | phase | engine s | kadm batch s | ratio | batch + every broker shows it s | ratio |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rs {
		for _, ph := range topicPhases {
			e := ph.engine(r.Engine)
			if ph.floor == nil {
				fmt.Fprintf(w, "| %d | %s | %s | – | – | – | – |\n", r.N, ph.name, secs(e))
				continue
			}
			call, settled := ph.floor(r.Floor)
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s |\n", r.N, ph.name, secs(e), secs(call), ratio(e, call),
				secs(settled), ratio(e, settled))
		}
	}
	fmt.Fprintf(w, "\n### Where the time goes (same run; umbrellakafka alone = its gRPC surface called in-process, no engine, %d calls at once = the engine's parallelism)\n\n",
		rs[0].Parallel)
	fmt.Fprintln(w, "| N | phase | engine + umbrellakafka s (with checkpoints / skipped) | engine + no-op provider s (with checkpoints / skipped) | umbrellakafka alone s | kafkaadmin client s | load before → after |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rs {
		e, z, p, c := r.Engine, r.Noop, r.Provider, r.Client
		fmt.Fprintf(w, "| %d | create up | %s / %s | %s / %s | %s | %s | %s → %s |\n", r.N, secs(e.Create),
			secs(e.CreateSkip), secs(z.Create), secs(z.CreateSkip), secs(p.Create), secs(c.Create), r.LoadBefore, r.LoadAfter)
		fmt.Fprintf(w, "| %d | no-op up | %s | %s | %s | – | |\n", r.N, secs(e.NoopUp), secs(z.NoopUp), secs(p.CheckDiff))
		fmt.Fprintf(w, "| %d | refresh | %s | %s | %s | – | |\n", r.N, secs(e.Refresh), secs(z.Refresh), secs(p.Read))
		fmt.Fprintf(w, "| %d | destroy | %s / %s | %s / %s | %s | %s | |\n", r.N, secs(e.Destroy), secs(e.DestroySkip),
			secs(z.Destroy), secs(z.DestroySkip), secs(p.Delete), secs(c.Delete))
	}
	printNoopGoal(w, rs)
	printClientGoal(w, rs)
	last := rs[len(rs)-1]
	fmt.Fprintf(w, "\nIssue 3's goal (engine ≤ 2× the raw floor at N = %d):\n", last.N)
	for _, ph := range topicPhases {
		if ph.floor == nil {
			continue
		}
		e := ph.engine(last.Engine)
		call, settled := ph.floor(last.Floor)
		fmt.Fprintf(w, "- %s: %s the kadm call (%s), %s the call plus propagation (%s)\n", ph.name,
			verdict(e, call), ratio(e, call), verdict(e, settled), ratio(e, settled))
	}
}

// NoopGoal is issue 14's bound: the engine with umbrellakafka takes at most
// this many times the engine with the do-nothing provider, same N and phase.
const NoopGoal = 1.3

// noopPhases are the phases issue 14's goal compares.
var noopPhases = []struct {
	name string
	of   func(EngineTimes) time.Duration
}{
	{"create up", func(e EngineTimes) time.Duration { return e.Create }},
	{"create up, skip checkpoints", func(e EngineTimes) time.Duration { return e.CreateSkip }},
	{"destroy", func(e EngineTimes) time.Duration { return e.Destroy }},
	{"destroy, skip checkpoints", func(e EngineTimes) time.Duration { return e.DestroySkip }},
}

// printNoopGoal writes the table of issue 14's goal: the same engine run with
// umbrellakafka and with the do-nothing provider of the same resource shape.
func printNoopGoal(w io.Writer, rs []TopicsResult) {
	fmt.Fprintf(w, "\n### umbrellakafka vs a do-nothing provider of the same resource shape, same engine (goal ≤ %.1f×)\n\n", NoopGoal)
	fmt.Fprintln(w, "| N | phase | engine + umbrellakafka s | engine + do-nothing provider s | ratio | goal |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rs {
		for _, ph := range noopPhases {
			e, z := ph.of(r.Engine), ph.of(r.Noop)
			goal := "misses"
			if z > 0 && e.Seconds() <= NoopGoal*z.Seconds() {
				goal = "holds"
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", r.N, ph.name, secs(e), secs(z), ratio(e, z), goal)
		}
	}
}

func verdict(engine, floor time.Duration) string {
	if floor > 0 && engine <= 2*floor {
		return "holds against"
	}
	return "misses against"
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f×", a.Seconds()/b.Seconds())
}

// LoadAvg is /proc/loadavg's 1, 5 and 15 minute load averages ("?" if
// unreadable), the machine's load from every process, this run's included.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], "/")
}
