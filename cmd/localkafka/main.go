// Command localkafka starts and stops a real Kafka cluster on 127.0.0.1 for a
// stack, configured by the program's own server.properties builder (see
// package localkafka). scripts/dev.sh uses it so that the dev stack's
// topics.bootstrapServers ["127.0.0.1:19092"] (scripts/dev.sh sets it) reaches a broker.
//
//	go run ./cmd/localkafka -stack dev -dir .localkafka/dev -port 19092 start
//	go run ./cmd/localkafka -dir .localkafka/dev status
//	go run ./cmd/localkafka -dir .localkafka/dev stop
//
// start returns once the cluster is ready and leaves the nodes running in the
// background (pid files in each node folder); it prints the bootstrap address
// on stdout. Starting a cluster that already runs in -dir prints its bootstrap
// and succeeds. stop ends the nodes named by the pid files (SIGTERM, then
// SIGKILL after -stop-timeout).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// stateFile records what start started, so status and a repeated start can
// print the bootstrap.
const stateFile = "cluster.json"

type state struct {
	Stack     string   `json:"stack"`
	Nodes     int      `json:"nodes"`
	Bootstrap []string `json:"bootstrap"`
	Started   string   `json:"started"`
}

func main() {
	fs := flag.NewFlagSet("localkafka", flag.ContinueOnError)
	stack := fs.String("stack", "dev", "stack whose Pulumi.<stack>.yaml configures the brokers and cluster id")
	project := fs.String("project", ".", "folder holding Pulumi.<stack>.yaml")
	nodes := fs.Int("nodes", 0, "number of nodes; 0 = the stack's brokers (it must equal them)")
	dir := fs.String("dir", "", "folder for the nodes' config, data, logs and pid files (default .localkafka/<stack>)")
	port := fs.Int("port", 19092, "client port of node 0 (other ports are picked free); 0 = any")
	libs := fs.String("libs", "", "folder of Kafka jars (default: scripts/tools.sh's kafka build)")
	timeout := fs.Duration("timeout", localkafka.DefaultStartTimeout, "how long start waits for the cluster")
	stopTimeout := fs.Duration("stop-timeout", localkafka.DefaultStopTimeout, "grace period after SIGTERM before SIGKILL")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: localkafka [flags] start|stop|status\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		os.Exit(2)
	}
	if *dir == "" {
		*dir = filepath.Join(".localkafka", *stack)
	}
	var err error
	switch fs.Arg(0) {
	case "start":
		err = start(*project, *stack, *dir, *libs, *nodes, *port, *timeout, *stopTimeout)
	case "stop":
		err = stop(*dir, *stopTimeout)
	case "status":
		err = status(*dir)
	default:
		fs.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localkafka:", err)
		os.Exit(1)
	}
}

func start(project, stack, dir, libs string, nodes, port int, timeout, stopTimeout time.Duration) error {
	if running, err := localkafka.RunningNodes(dir); err != nil {
		return err
	} else if len(running) > 0 {
		st, err := readState(dir)
		if err != nil {
			return fmt.Errorf("nodes %v run in %s but %s is unreadable (%v): stop them first", running, dir, stateFile, err)
		}
		if st.Stack != stack {
			return fmt.Errorf("a cluster of stack %s already runs in %s: stop it first (localkafka -dir %s stop)", st.Stack, dir, dir)
		}
		fmt.Fprintf(os.Stderr, "localkafka: stack %s already runs in %s (pids %v)\n", stack, dir, running)
		fmt.Println(strings.Join(st.Bootstrap, ","))
		return nil
	}
	spec, err := localkafka.LoadStack(project, stack)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var ports []int
	if port != 0 {
		ports = []int{port}
	}
	c, err := localkafka.Start(ctx, localkafka.Options{
		Nodes: nodes, Spec: spec, Dir: dir, KafkaLibs: libs, ClientPorts: ports,
		StartTimeout: timeout, StopTimeout: stopTimeout, Detach: true,
	})
	if err != nil {
		return err
	}
	st := state{Stack: stack, Nodes: c.Nodes(), Bootstrap: c.Bootstrap(), Started: time.Now().UTC().Format(time.RFC3339)}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(filepath.Join(c.Dir(), stateFile), append(b, '\n'), 0o644); err != nil {
		_ = c.Stop()
		return err
	}
	for id := 0; id < c.Nodes(); id++ {
		fmt.Fprintf(os.Stderr, "localkafka: node %d at %s (%s)\n", id, c.Addr(id), c.Logs(id))
	}
	fmt.Fprintf(os.Stderr, "localkafka: stack %s ready; stop with: go run ./cmd/localkafka -dir %s stop\n", stack, dir)
	fmt.Println(strings.Join(c.Bootstrap(), ","))
	return nil
}

func stop(dir string, timeout time.Duration) error {
	stopped, err := localkafka.StopDir(dir, timeout)
	if len(stopped) > 0 {
		fmt.Fprintf(os.Stderr, "localkafka: stopped nodes %v in %s\n", stopped, dir)
	} else if err == nil {
		fmt.Fprintf(os.Stderr, "localkafka: nothing runs in %s\n", dir)
	}
	return err
}

func status(dir string) error {
	running, err := localkafka.RunningNodes(dir)
	if err != nil {
		return err
	}
	if len(running) == 0 {
		return fmt.Errorf("no node runs in %s", dir)
	}
	st, err := readState(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "localkafka: stack %s, nodes %d, running pids %v\n", st.Stack, st.Nodes, running)
	if len(running) < st.Nodes {
		fmt.Println(strings.Join(st.Bootstrap, ","))
		return fmt.Errorf("only %d of %d nodes run", len(running), st.Nodes)
	}
	fmt.Println(strings.Join(st.Bootstrap, ","))
	return nil
}

func readState(dir string) (state, error) {
	var st state
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, errors.New(stateFile + ": " + err.Error())
	}
	return st, nil
}
