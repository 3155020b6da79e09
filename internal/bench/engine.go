package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
)

// Project is the Pulumi project name of the benchmark programs.
const Project = "bench"

// passphrase encrypts the throw-away local state; it protects nothing.
const passphrase = "umbrella-bench-local"

// Topic shape of every benchmark topic, engine and raw floor alike.
const (
	TopicPartitions        = 3
	TopicReplicationFactor = 3
)

// TopicName is the name of benchmark topic i: bench-0000, bench-0001, ...
func TopicName(i int) string { return fmt.Sprintf("bench-%04d", i) }

// TopicNames are the first n benchmark topic names.
func TopicNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = TopicName(i)
	}
	return names
}

// Workspace is a throw-away Pulumi project, file backend and PULUMI_HOME
// under one folder; every stack of a benchmark run lives in it.
type Workspace struct {
	dir     string
	project string
	env     map[string]string
}

// NewWorkspace writes dir/project/Pulumi.yaml (runtime go, the umbrellakafka
// plugin taken from pluginDir) and prepares the file backend. noopPort is the
// port of ServeNoop's provider, which the engine attaches to.
func NewWorkspace(dir, pluginDir string, noopPort int) (*Workspace, error) {
	plugin := filepath.Join(pluginDir, "pulumi-resource-umbrellakafka")
	if _, err := os.Stat(plugin); err != nil {
		return nil, fmt.Errorf("bench: the provider plugin %s: %w (build it: go build -o bin/pulumi-resource-umbrellakafka "+
			"./cmd/pulumi-resource-umbrellakafka)", plugin, err)
	}
	w := &Workspace{dir: dir, project: filepath.Join(dir, "project")}
	for _, d := range []string{w.project, filepath.Join(dir, "backend"), filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	yaml := "name: " + Project + "\nruntime: go\nplugins:\n  providers:\n    - name: umbrellakafka\n      path: " +
		strconv.Quote(pluginDir) + "\n"
	if err := os.WriteFile(filepath.Join(w.project, "Pulumi.yaml"), []byte(yaml), 0o644); err != nil {
		return nil, err
	}
	w.env = deploy.EngineEnv(dir, passphrase)
	w.env["PULUMI_DEBUG_PROVIDERS"] = NoopPackage + ":" + strconv.Itoa(noopPort)
	return w, nil
}

// TopicsProgram registers an explicit umbrellakafka provider for bootstrap
// and n Topics (bench-0000..., 3 partitions, RF 3) through the generated SDK.
func TopicsProgram(n int, bootstrap []string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		prov, err := umbrellakafka.NewProvider(ctx, "kafka", &umbrellakafka.ProviderArgs{
			BootstrapServers: pulumi.ToStringArray(bootstrap),
			TlsEnabled:       pulumi.Bool(false), // localkafka's PLAINTEXT listeners
		})
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			name := TopicName(i)
			if _, err := umbrellakafka.NewTopic(ctx, name, &umbrellakafka.TopicArgs{
				Name:              pulumi.String(name),
				Partitions:        pulumi.Int(TopicPartitions),
				ReplicationFactor: pulumi.Int(TopicReplicationFactor),
			}, pulumi.Provider(prov)); err != nil {
				return err
			}
		}
		return nil
	}
}

// NoopProgram registers an explicit no-op provider and n Things with the
// same inputs as TopicsProgram's topics.
func NoopProgram(n int) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		var prov pulumi.ProviderResourceState
		if err := ctx.RegisterResource("pulumi:providers:"+NoopPackage, "noop", pulumi.Map{}, &prov); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			name := TopicName(i)
			var r pulumi.CustomResourceState
			if err := ctx.RegisterResource(NoopToken, name, pulumi.Map{
				"name":              pulumi.String(name),
				"partitions":        pulumi.Int(TopicPartitions),
				"replicationFactor": pulumi.Int(TopicReplicationFactor),
			}, &r, pulumi.Provider(&prov)); err != nil {
				return err
			}
		}
		return nil
	}
}

// EngineTimes are the wall times of one stack's lifecycle through the engine,
// each the whole Automation API call (CLI start, plugin start, program, steps,
// state writes). A phase not run is zero.
type EngineTimes struct {
	// Create and Destroy ran with the file backend's checkpoints.
	Create, Destroy time.Duration
	// CreateSkip and DestroySkip ran with PULUMI_SKIP_CHECKPOINTS=true.
	CreateSkip, DestroySkip time.Duration
	// NoopUp and Refresh follow a create.
	NoopUp, Refresh time.Duration
}

// EngineRun says which phases RunEngine times.
type EngineRun struct {
	// Checkpointed adds a create up and destroy with checkpoints before the
	// ones with PULUMI_SKIP_CHECKPOINTS=true; without it only the latter run.
	Checkpointed bool
	// Parallel is the engine's --parallel; 0 leaves the CLI's default.
	Parallel int
}

// RunEngine creates (or selects) stack in w with prog, which registers n
// resources besides its provider, and times: [create up, no-op up, refresh,
// destroy] with checkpoints when r.Checkpointed, then create up (skipping
// checkpoints), no-op up and refresh (unless already timed), destroy
// (skipping checkpoints). Each step's change summary is checked, so a figure
// never comes from an update that did less than asked.
func (w *Workspace) RunEngine(ctx context.Context, stack string, n int, prog pulumi.RunFunc, r EngineRun) (EngineTimes, error) {
	st, err := auto.UpsertStackInlineSource(ctx, stack, Project, prog,
		auto.WorkDir(w.project), auto.PulumiHome(w.env["PULUMI_HOME"]), auto.EnvVars(w.env))
	if err != nil {
		return EngineTimes{}, fmt.Errorf("bench: stack %s: %w", stack, err)
	}
	var t EngineTimes
	e := newEngineStack(ctx, st, n, r.Parallel)
	fail := func(op string, err error) (EngineTimes, error) {
		return t, fmt.Errorf("bench: stack %s: %s: %w\n%s", stack, op, err, tail(e.out.String(), 4000))
	}
	// The stack resource, the provider and n resources.
	created := map[string]int{"create": n + 2}
	same := map[string]int{"same": n + 2}
	if r.Checkpointed {
		if t.Create, err = e.up(created); err != nil {
			return fail("create up", err)
		}
		if t.NoopUp, err = e.up(same); err != nil {
			return fail("no-op up", err)
		}
		if t.Refresh, err = e.refresh(); err != nil {
			return fail("refresh", err)
		}
		if t.Destroy, err = e.destroy(); err != nil {
			return fail("destroy", err)
		}
	}
	ws := st.Workspace()
	ws.SetEnvVar("PULUMI_SKIP_CHECKPOINTS", "true")
	defer ws.UnsetEnvVar("PULUMI_SKIP_CHECKPOINTS")
	if t.CreateSkip, err = e.up(created); err != nil {
		return fail("create up (skip checkpoints)", err)
	}
	if !r.Checkpointed {
		if t.NoopUp, err = e.up(same); err != nil {
			return fail("no-op up (skip checkpoints)", err)
		}
		if t.Refresh, err = e.refresh(); err != nil {
			return fail("refresh (skip checkpoints)", err)
		}
	}
	if t.DestroySkip, err = e.destroy(); err != nil {
		return fail("destroy (skip checkpoints)", err)
	}
	return t, nil
}

// engineStack times one stack's Automation API calls for RunEngine. It is
// split out of RunEngine so that the phase sequence there reads on its own;
// out holds the last call's progress output, for the error of a failed one.
type engineStack struct {
	ctx         context.Context
	st          auto.Stack
	n           int
	out         *bytes.Buffer
	upOpts      []optup.Option
	destroyOpts []optdestroy.Option
	refreshOpts []optrefresh.Option
}

// newEngineStack streams every call's progress into one buffer and passes
// parallel (when above 0) as --parallel to up, destroy and refresh alike.
func newEngineStack(ctx context.Context, st auto.Stack, n, parallel int) *engineStack {
	out := &bytes.Buffer{}
	e := &engineStack{
		ctx: ctx, st: st, n: n, out: out,
		upOpts:      []optup.Option{optup.ProgressStreams(out), optup.ErrorProgressStreams(out)},
		destroyOpts: []optdestroy.Option{optdestroy.ProgressStreams(out), optdestroy.ErrorProgressStreams(out)},
		refreshOpts: []optrefresh.Option{optrefresh.ProgressStreams(out), optrefresh.ErrorProgressStreams(out)},
	}
	if parallel > 0 {
		e.upOpts = append(e.upOpts, optup.Parallel(parallel))
		e.destroyOpts = append(e.destroyOpts, optdestroy.Parallel(parallel))
		e.refreshOpts = append(e.refreshOpts, optrefresh.Parallel(parallel))
	}
	return e
}

// up times one up and checks its change summary is exactly want.
func (e *engineStack) up(want map[string]int) (time.Duration, error) {
	e.out.Reset()
	start := time.Now()
	res, err := e.st.Up(e.ctx, e.upOpts...)
	d := time.Since(start)
	if err != nil {
		return d, err
	}
	return d, checkChanges(res.Summary.ResourceChanges, want)
}

// destroy times one destroy, which must delete every resource.
func (e *engineStack) destroy() (time.Duration, error) {
	e.out.Reset()
	start := time.Now()
	res, err := e.st.Destroy(e.ctx, e.destroyOpts...)
	d := time.Since(start)
	if err != nil {
		return d, err
	}
	// The stack resource and the provider go too.
	return d, checkChanges(res.Summary.ResourceChanges, map[string]int{"delete": e.n + 2})
}

// refresh times one refresh, which must find every resource unchanged.
func (e *engineStack) refresh() (time.Duration, error) {
	e.out.Reset()
	start := time.Now()
	res, err := e.st.Refresh(e.ctx, e.refreshOpts...)
	d := time.Since(start)
	if err != nil {
		return d, err
	}
	return d, checkChanges(res.Summary.ResourceChanges, map[string]int{"same": e.n + 2})
}

// Warm runs one up and one destroy of prog on stack, untimed: the first
// operations of a fresh PULUMI_HOME and provider binary are slower.
func (w *Workspace) Warm(ctx context.Context, stack string, prog pulumi.RunFunc) error {
	st, err := auto.UpsertStackInlineSource(ctx, stack, Project, prog,
		auto.WorkDir(w.project), auto.PulumiHome(w.env["PULUMI_HOME"]), auto.EnvVars(w.env))
	if err != nil {
		return fmt.Errorf("bench: stack %s: %w", stack, err)
	}
	var out bytes.Buffer
	if _, err := st.Up(ctx, optup.ProgressStreams(&out), optup.ErrorProgressStreams(&out)); err != nil {
		return fmt.Errorf("bench: stack %s: warm-up up: %w\n%s", stack, err, tail(out.String(), 4000))
	}
	if _, err := st.Destroy(ctx, optdestroy.ProgressStreams(&out), optdestroy.ErrorProgressStreams(&out)); err != nil {
		return fmt.Errorf("bench: stack %s: warm-up destroy: %w\n%s", stack, err, tail(out.String(), 4000))
	}
	return nil
}

// checkChanges fails unless the summary holds exactly want (other operations
// must be absent).
func checkChanges(got *map[string]int, want map[string]int) error {
	if got == nil {
		return errors.New("the engine reported no change summary")
	}
	for k, v := range *got {
		if want[k] != v {
			return fmt.Errorf("changes %v, want %v", *got, want)
		}
	}
	for k, v := range want {
		if (*got)[k] != v {
			return fmt.Errorf("changes %v, want %v", *got, want)
		}
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
