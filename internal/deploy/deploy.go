// Package deploy drives the real Pulumi engine over the program through the
// Automation API's inline programs: the engine runs the very program main.go runs,
// in-process, so no Go language host is needed. It is what the integration tests
// and the README's main command (cmd/umbrella) use.
package deploy

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/program"
)

// DefaultPassphrase encrypts secrets in the local file backend. It protects nothing
// and is for local stacks only; set PULUMI_CONFIG_PASSPHRASE for anything shared.
const DefaultPassphrase = "umbrella-streaming-local"

// Options say which stack to drive and where its state lives.
type Options struct {
	// Stack is the stack name (dev, prod); Pulumi.<Stack>.yaml is read.
	Stack string
	// ProjectDir holds Pulumi.yaml; default: the current directory.
	ProjectDir string
	// StateDir holds the file backend and a private PULUMI_HOME; default
	// <ProjectDir>/.pulumi-local.
	StateDir string
	// Env is added to the engine's environment (KUBECONFIG, …).
	Env map[string]string
	// Config overrides stack config values (key without the project prefix → value
	// as the engine would hold it: plain string or JSON). Tests use it to vary config.
	Config map[string]string
	// Program tunes the program (render mode).
	Program program.Options
	// Run, when set, replaces the program: for tests that drive the engine with
	// a program of their own (an import through the engine).
	Run pulumi.RunFunc
	// Progress receives the engine's progress output; nil discards it.
	Progress io.Writer
}

// Stack is an opened stack.
type Stack struct {
	opts  Options
	stack auto.Stack
}

func (o *Options) defaults() error {
	if o.Stack == "" {
		return fmt.Errorf("deploy: no stack named (use dev or prod)")
	}
	if o.ProjectDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		o.ProjectDir = wd
	}
	abs, err := filepath.Abs(o.ProjectDir)
	if err != nil {
		return err
	}
	o.ProjectDir = abs
	if _, err := os.Stat(filepath.Join(o.ProjectDir, "Pulumi.yaml")); err != nil {
		return fmt.Errorf("deploy: %s has no Pulumi.yaml: run from the repository root or set the project dir", o.ProjectDir)
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(o.ProjectDir, ".pulumi-local")
	}
	if sd, err := filepath.Abs(o.StateDir); err == nil {
		o.StateDir = sd
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	o.Program.ProjectDir = o.ProjectDir
	return nil
}

// EngineEnv is the environment of every engine run in this project (the deploy
// command, the tests and the benchmarks): a file backend and a PULUMI_HOME under
// stateDir, no update check, and no plugin download ever. The network here holds
// only package registries, and a plugin the engine fetched would be code nobody
// built from source: plugins come from PATH and Pulumi.yaml, and a missing one is
// the engine's "no resource plugin" error at once. (PULUMI_IGNORE_AMBIENT_PLUGINS,
// set here before, only chooses whether PATH is searched; it never stopped a
// download.)
func EngineEnv(stateDir, passphrase string) map[string]string {
	return map[string]string{
		"PULUMI_BACKEND_URL":                          "file://" + filepath.Join(stateDir, "backend"),
		"PULUMI_HOME":                                 filepath.Join(stateDir, "home"),
		"PULUMI_SKIP_UPDATE_CHECK":                    "true",
		"PULUMI_CONFIG_PASSPHRASE":                    passphrase,
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
	}
}

// engineEnv returns the engine environment for these options: EngineEnv, the
// caller's PULUMI_CONFIG_PASSPHRASE if set, then Options.Env.
func (o *Options) engineEnv() map[string]string {
	passphrase := DefaultPassphrase
	if p, ok := os.LookupEnv("PULUMI_CONFIG_PASSPHRASE"); ok {
		passphrase = p
	}
	env := EngineEnv(o.StateDir, passphrase)
	for k, v := range o.Env {
		env[k] = v
	}
	return env
}

// Open creates or selects the stack, reading Pulumi.yaml and Pulumi.<stack>.yaml
// from the project dir, and applies config overrides.
func Open(ctx context.Context, opts Options) (*Stack, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	for _, d := range []string{filepath.Join(opts.StateDir, "backend"), filepath.Join(opts.StateDir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("deploy: state dir: %w", err)
		}
	}
	work, err := prepareWorkDir(opts)
	if err != nil {
		return nil, err
	}
	st, err := auto.UpsertStackInlineSource(ctx, opts.Stack, config.Project, program.RunWith(opts.Program),
		auto.WorkDir(work),
		auto.PulumiHome(filepath.Join(opts.StateDir, "home")),
		auto.EnvVars(opts.engineEnv()),
	)
	if err != nil {
		return nil, fmt.Errorf("deploy: open stack %s: %w", opts.Stack, err)
	}
	if opts.Program.ConfigKeys, err = configKeys(ctx, st); err != nil {
		return nil, err
	}
	if opts.Run != nil {
		st.Workspace().SetProgram(opts.Run)
	} else {
		st.Workspace().SetProgram(program.RunWith(opts.Program))
	}
	return &Stack{opts: opts, stack: st}, nil
}

// configKeys lists every config key of the stack, as the engine will hand
// them to the program (namespace:key), for program.Options.ConfigKeys. An
// inline program cannot list them itself (see program.stackConfigKeys); the
// workspace can: `pulumi config --json` on the stack file Open just wrote. The
// stack's config changes only through Open, so the list holds for every
// operation on the returned Stack. Values are not read, so secrets stay
// encrypted.
func configKeys(ctx context.Context, st auto.Stack) ([]string, error) {
	all, err := st.GetAllConfigWithOptions(ctx, &auto.GetAllConfigOptions{ShowSecrets: false})
	if err != nil {
		return nil, fmt.Errorf("deploy: stack %s: listing its config keys: %w", st.Name(), err)
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// Changes counts a preview's or update's steps that change something: all but
// "same" and "read" (the guard reads the stack's own outputs on every run).
func Changes(summary map[apitype.OpType]int) int {
	n := 0
	for op, c := range summary {
		if op != apitype.OpSame && op != apitype.OpRead {
			n += c
		}
	}
	return n
}

// Preview runs `pulumi preview` and returns the change summary and the engine's text.
func (s *Stack) Preview(ctx context.Context) (auto.PreviewResult, error) {
	return s.stack.Preview(ctx, optpreview.ProgressStreams(s.opts.Progress), optpreview.Diff())
}

// PreviewDiagnostics runs Preview and also returns the message of every
// diagnostic the program and the providers reported (info and above), in
// order: the diff display Preview's text comes from leaves them out, and a
// provider's preview (a ReplicaPlacement's plan) speaks through them.
func (s *Stack) PreviewDiagnostics(ctx context.Context) (auto.PreviewResult, []string, error) {
	ch := make(chan events.EngineEvent)
	var mu sync.Mutex
	var msgs []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			if d := e.DiagnosticEvent; d != nil && d.Severity != "debug" {
				mu.Lock()
				msgs = append(msgs, strings.TrimSpace(d.Message))
				mu.Unlock()
			}
		}
	}()
	res, err := s.stack.Preview(ctx, optpreview.ProgressStreams(s.opts.Progress), optpreview.Diff(), optpreview.EventStreams(ch))
	select { // the Automation API closes the channel once the engine's event log is read
	case <-done:
	case <-time.After(5 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	return res, append([]string(nil), msgs...), err
}

// Up runs `pulumi up`.
func (s *Stack) Up(ctx context.Context) (auto.UpResult, error) {
	return s.stack.Up(ctx, optup.ProgressStreams(s.opts.Progress))
}

// Refresh runs `pulumi refresh`.
func (s *Stack) Refresh(ctx context.Context) (auto.RefreshResult, error) {
	return s.stack.Refresh(ctx, optrefresh.ProgressStreams(s.opts.Progress))
}

// Destroy runs `pulumi destroy`.
func (s *Stack) Destroy(ctx context.Context) (auto.DestroyResult, error) {
	return s.stack.Destroy(ctx, optdestroy.ProgressStreams(s.opts.Progress))
}

// Outputs returns the stack's outputs.
func (s *Stack) Outputs(ctx context.Context) (auto.OutputMap, error) {
	return s.stack.Outputs(ctx)
}

// Remove deletes the stack's state (not its resources).
func (s *Stack) Remove(ctx context.Context) error {
	return s.stack.Workspace().RemoveStack(ctx, s.opts.Stack)
}

// PreviewRefresh shows what a refresh would change, without changing the state.
func (s *Stack) PreviewRefresh(ctx context.Context) (auto.PreviewResult, error) {
	return s.stack.PreviewRefresh(ctx, optrefresh.ProgressStreams(s.opts.Progress))
}

// Export returns the stack's checkpoint (`pulumi stack export`): every
// resource's URN, parent, provider reference and state as the engine holds
// them.
func (s *Stack) Export(ctx context.Context) (apitype.UntypedDeployment, error) {
	return s.stack.Export(ctx)
}
