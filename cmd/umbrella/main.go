// Command umbrella runs the umbrella-streaming Pulumi program through the real
// Pulumi engine (Automation API, inline program, local file backend): preview, up,
// refresh, destroy, outputs and render for a stack. It needs the `pulumi` CLI and
// the provider plugins on PATH (scripts/tools.sh env) and a kubeconfig.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
)

// setFlags collects repeated -set key=value flags.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

const usage = `usage: umbrella [-stack dev] [-state DIR] [-project DIR] COMMAND

commands:
  preview        show what up would change
  up             deploy the stack and print its outputs
  refresh        read the live state back into the stack
  destroy        delete the stack's resources (broker volumes are kept)
  outputs        print the stack's outputs as JSON
  render DIR     write every Kubernetes object as YAML into DIR (GitOps), applying nothing
  kafka-version  print the Kafka release the stack runs (kafka.version), for the image scripts
`

func main() {
	stack := flag.String("stack", "dev", "stack name: dev or prod (reads Pulumi.<stack>.yaml)")
	state := flag.String("state", "", "state dir (file backend); default <project>/.pulumi-local")
	project := flag.String("project", ".", "folder holding Pulumi.yaml")
	quiet := flag.Bool("quiet", false, "do not stream the engine's progress")
	var sets setFlags
	flag.Var(&sets, "set", "override a stack config key for this run: key=value (value as in the stack file: a string, or JSON for objects); repeatable")
	flag.Usage = func() { fmt.Fprint(os.Stderr, usage); flag.PrintDefaults() }
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *stack, *state, *project, *quiet, sets, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "umbrella:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stackName, state, project string, quiet bool, sets setFlags, args []string) error {
	opts := deploy.Options{Stack: stackName, StateDir: state, ProjectDir: project, Progress: os.Stdout, Config: map[string]string{}}
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("-set %q: want key=value", kv)
		}
		opts.Config[k] = v
	}
	if quiet {
		opts.Progress = nil
	}
	cmd := args[0]
	if cmd == "kafka-version" {
		return printKafkaVersion(project, stackName, opts.Config)
	}
	if cmd == "render" {
		if len(args) != 2 {
			return fmt.Errorf("render needs a target folder: umbrella render DIR")
		}
		dir, err := absPath(args[1])
		if err != nil {
			return err
		}
		opts.Program.RenderDir = dir
		if opts.StateDir == "" {
			opts.StateDir = ".pulumi-local/render"
		}
	}
	st, err := deploy.Open(ctx, opts)
	if err != nil {
		return err
	}
	switch cmd {
	case "preview":
		res, err := st.Preview(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("\n%d change(s)\n", deploy.Changes(res.ChangeSummary))
	case "up", "render":
		if _, err := st.Up(ctx); err != nil {
			return err
		}
		if cmd == "render" {
			fmt.Printf("\nrendered manifests in %s\n", args[1])
			return nil
		}
		if err := printOutputs(ctx, st); err != nil {
			return err
		}
		fmt.Printf("\ntear down with: go run ./cmd/umbrella -stack %s destroy\n", stackName)
	case "refresh":
		_, err := st.Refresh(ctx)
		return err
	case "destroy":
		_, err := st.Destroy(ctx)
		return err
	case "outputs":
		return printOutputs(ctx, st)
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	return nil
}

func absPath(p string) (string, error) {
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", err
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if len(p) > 0 && p[0] == '/' {
		return p, nil
	}
	return wd + "/" + p, nil
}

func printOutputs(ctx context.Context, st *deploy.Stack) error {
	outs, err := st.Outputs(ctx)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(outs))
	for k := range outs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	flat := map[string]any{}
	for _, k := range keys {
		flat[k] = outs[k].Value
	}
	b, err := json.MarshalIndent(flat, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// printKafkaVersion prints the validated kafka.version of the stack file with
// the -set values over it: scripts/dev.sh builds and pushes that release's
// images. A config the program would refuse is refused here the same way.
func printKafkaVersion(project, stackName string, sets map[string]string) error {
	values, err := config.ReadStackFile(filepath.Join(project, "Pulumi."+stackName+".yaml"))
	if err != nil {
		return err
	}
	maps.Copy(values, sets)
	s, err := config.Load(stackName, values)
	if err != nil {
		return err
	}
	fmt.Println(s.Kafka.Version)
	return nil
}
