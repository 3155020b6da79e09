// Command kafka-docker-run is the umbrella Kafka image's default command, at
// /etc/kafka/docker/run as in apache/kafka: it turns the container's KAFKA_*
// variables, CLUSTER_ID and /mnt/shared/config into the node's configuration
// (package kafkaenv holds every rule), checks it, formats the storage on the
// first start only, and then becomes kafka-server-start.sh.
//
// A mistake stops it before Kafka starts, with one line on stderr naming the
// variable, its value and the fix, and exit status 1.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaenv"
)

// paths are the image's folders; tests point them elsewhere.
type paths struct {
	Config  string // the final configuration, read by Kafka (writable)
	Mounted string // the developer's own files, apache/kafka's file input
	Secrets string // SSL stores and their password files
	Bin     string // Kafka's scripts
	// Log4j is the image's own log4j2.yaml, kept apart from the final folder so
	// each start begins from it.
	Log4j string
}

var image = paths{Config: "/opt/kafka/config", Mounted: "/mnt/shared/config", Secrets: kafkaenv.SecretsDir,
	Bin: "/opt/kafka/bin", Log4j: "/etc/kafka/docker/log4j2.yaml"}

const (
	serverProps = "server.properties"
	log4jFile   = "log4j2.yaml"
)

func main() {
	if err := run(image, environ(), os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "[kafka-docker] ERROR: %v\n", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) { fmt.Printf("[kafka-docker] "+format+"\n", args...) }

// run prepares the node and execs Kafka; it returns only on a problem.
func run(p paths, env kafkaenv.Env, args []string) error {
	env, notes, err := kafkaenv.Prepare(env, args, func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(p.Secrets, name))
		return string(b), err
	})
	if err != nil {
		return err
	}
	for _, n := range notes {
		say("%s", n)
	}
	config, err := configure(p, env)
	if err != nil {
		return err
	}
	launch := kafkaenv.LaunchEnv(env, hostIP())
	if err := formatStorage(p, env, config, launch); err != nil {
		return err
	}
	start := filepath.Join(p.Bin, "kafka-server-start.sh")
	say("starting Kafka: %s %s", start, filepath.Join(p.Config, serverProps))
	return execKafka(start, []string{start, filepath.Join(p.Config, serverProps)}, envList(launch))
}

// execKafka becomes Kafka (tests record the call instead).
var execKafka = syscall.Exec

// configured is the checked configuration and the node it describes.
type configured struct {
	cfg  *kafkaenv.Config
	node *kafkaenv.Node
}

// configure writes the final folder: the developer's mounted files, then
// server.properties and log4j2.yaml built from them and the variables.
func configure(p paths, env kafkaenv.Env) (configured, error) {
	var mounted *string
	mountedPath := filepath.Join(p.Mounted, serverProps)
	if b, err := os.ReadFile(mountedPath); err == nil {
		s := string(b)
		mounted = &s
	} else if !errors.Is(err, fs.ErrNotExist) {
		return configured{}, fmt.Errorf("reading %s: %w", mountedPath, err)
	}
	text, cfg := kafkaenv.Build(env, mounted, mountedPath)
	node, err := kafkaenv.Validate(env, cfg)
	if err != nil {
		return configured{}, err
	}
	if err := copyMounted(p); err != nil {
		return configured{}, err
	}
	if err := writeLog4j(p, env); err != nil {
		return configured{}, err
	}
	if err := os.WriteFile(filepath.Join(p.Config, serverProps), []byte(text), 0o644); err != nil {
		return configured{}, fmt.Errorf("writing the configuration: %w (the image's %s must be writable)", err, p.Config)
	}
	say("node %d (%s), %d properties in %s", node.ID, roles(node), cfg.Len(), filepath.Join(p.Config, serverProps))
	return configured{cfg: cfg, node: node}, nil
}

// copyMounted copies every file of the mounted folder but server.properties
// (merged by Build) into the final folder, as apache/kafka does.
func copyMounted(p paths) error {
	entries, err := os.ReadDir(p.Mounted)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == serverProps {
			continue
		}
		b, err := os.ReadFile(filepath.Join(p.Mounted, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(p.Config, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeLog4j adds KAFKA_LOG4J_LOGGERS to the log4j2.yaml in use: a mounted
// one, else the image's own.
func writeLog4j(p paths, env kafkaenv.Env) error {
	base, err := os.ReadFile(filepath.Join(p.Mounted, log4jFile))
	if errors.Is(err, fs.ErrNotExist) {
		base, err = os.ReadFile(p.Log4j)
	}
	if err != nil {
		return fmt.Errorf("reading log4j2.yaml: %w", err)
	}
	out, err := kafkaenv.Log4j(env, string(base))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p.Config, log4jFile), []byte(out), 0o644)
}

// formatStorage runs kafka-storage.sh format when StoragePlan asks for it.
func formatStorage(p paths, env kafkaenv.Env, c configured, launch kafkaenv.Env) error {
	var dirs []kafkaenv.LogDir
	for _, d := range kafkaenv.LogDirs(c.cfg) {
		dir := kafkaenv.LogDir{Path: d}
		if b, err := os.ReadFile(filepath.Join(d, kafkaenv.MetaFile)); err == nil {
			s := string(b)
			dir.Meta = &s
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reading %s: %w", filepath.Join(d, kafkaenv.MetaFile), err)
		}
		dirs = append(dirs, dir)
	}
	plan, err := kafkaenv.StoragePlan(env, c.node, filepath.Join(p.Config, serverProps), dirs)
	if err != nil {
		return err
	}
	if !plan.Format {
		say("storage already formatted for cluster %s: keeping it", env[kafkaenv.ClusterIDVar])
		return nil
	}
	say("formatting storage for cluster %s (first start)", env[kafkaenv.ClusterIDVar])
	cmd := exec.Command(filepath.Join(p.Bin, "kafka-storage.sh"), plan.Args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = os.Stdout, os.Stderr, envList(launch)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kafka-storage.sh %s: %w", strings.Join(plan.Args, " "), err)
	}
	return nil
}

func roles(n *kafkaenv.Node) string {
	switch {
	case n.Broker && n.Controller:
		return "broker and controller"
	case n.Controller:
		return "controller"
	}
	return "broker"
}

// hostIP is the container's first non-loopback address (apache/kafka uses
// `hostname -i`), for remote JMX.
func hostIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && !ip.IP.IsLoopback() && ip.IP.To4() != nil {
			return ip.IP.String()
		}
	}
	return "127.0.0.1"
}

func environ() kafkaenv.Env {
	env := kafkaenv.Env{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

func envList(env kafkaenv.Env) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
