package localkafka

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// File names inside a node's folder.
const (
	propertiesFile = "server.properties"
	log4jFile      = "log4j2.properties"
	kafkaLogFile   = "kafka.log"
	consoleFile    = "console.log"
	pidFile        = "kafka.pid"
	dataDir        = "data"
)

// nodeDir is node id's folder under dir.
func nodeDir(dir string, id int) string { return filepath.Join(dir, "node-"+strconv.Itoa(id)) }

// nodeLog4j is a node's logging: Kafka's INFO log to kafka.log in the node
// folder (the launcher's stdout and stderr go to console.log).
func nodeLog4j(logPath string) string {
	return `status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ` + logPath + `
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = warn
`
}

// logsOf names a node's two log files, for error messages.
func logsOf(dir string, id int) string {
	d := nodeDir(dir, id)
	return fmt.Sprintf("log %s, console %s", filepath.Join(d, kafkaLogFile), filepath.Join(d, consoleFile))
}

// tail returns the last n lines of path, or "" if it cannot be read.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// problems returns the last n ERROR/FATAL lines of a Kafka log: what usually
// explains a node that will not start.
func problems(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, "] ERROR ") || strings.Contains(l, "] FATAL ") {
			out = append(out, l)
			if len(out) > n {
				out = out[1:]
			}
		}
	}
	return out
}

// diagnose is the part of an error that shows why node id failed: its log
// paths, its recent errors and the end of its console output.
func diagnose(dir string, id int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "node %d (%s)", id, logsOf(dir, id))
	d := nodeDir(dir, id)
	if errs := problems(filepath.Join(d, kafkaLogFile), 5); len(errs) > 0 {
		b.WriteString("\n  last errors in kafka.log:\n    " + strings.Join(errs, "\n    "))
	}
	if t := tail(filepath.Join(d, consoleFile), 10); t != "" {
		b.WriteString("\n  end of console.log:\n    " + strings.ReplaceAll(t, "\n", "\n    "))
	}
	return b.String()
}

// writePid records a running node's pid.
func writePid(dir string, id, pid int) error {
	return os.WriteFile(filepath.Join(nodeDir(dir, id), pidFile), []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

// removePid forgets a node's pid once it has exited.
func removePid(dir string, id int) {
	_ = os.Remove(filepath.Join(nodeDir(dir, id), pidFile))
}

// pidRecord is one node's pid file.
type pidRecord struct {
	Node int
	Pid  int
	Path string
}

// readPids returns the pid files under dir, by node.
func readPids(dir string) ([]pidRecord, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "node-*", pidFile))
	if err != nil {
		return nil, err
	}
	var out []pidRecord
	for _, m := range matches {
		id, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(filepath.Dir(m)), "node-"))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			return nil, fmt.Errorf("%s: not a pid: %q", m, strings.TrimSpace(string(b)))
		}
		out = append(out, pidRecord{Node: id, Pid: pid, Path: m})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out, nil
}

// isNodeProcess reports whether pid is alive (not a zombie) and is the Kafka
// server of node id under dir: a pid file can outlive its process, and the
// pid can be reused by anything.
func isNodeProcess(pid int, dir string, id int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(cmdline), "\x00")
	props := filepath.Join(nodeDir(dir, id), propertiesFile)
	hasClass, hasProps := false, false
	for _, a := range args {
		hasClass = hasClass || a == ServerClass
		hasProps = hasProps || a == props
	}
	return hasClass && hasProps
}

// signalNode sends sig to the node's process group (each node leads its own
// session), falling back to the pid alone.
func signalNode(pid int, sig syscall.Signal) error {
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
		if err := syscall.Kill(-pid, sig); err == nil || !errors.Is(err, syscall.ESRCH) {
			return err
		}
	}
	err := syscall.Kill(pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// StopDir stops the nodes recorded by pid files under dir (started by Start in
// this or another process, e.g. `cmd/localkafka start`): SIGTERM, then SIGKILL
// for any still running after timeout. Pid files whose process is gone or is
// no longer that node's Kafka are removed without signalling anything. It
// returns the nodes it signalled.
func StopDir(dir string, timeout time.Duration) ([]int, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	recs, err := readPids(dir)
	if err != nil {
		return nil, err
	}
	var live []pidRecord
	for _, r := range recs {
		if isNodeProcess(r.Pid, dir, r.Node) {
			live = append(live, r)
		} else {
			_ = os.Remove(r.Path)
		}
	}
	var errs []error
	for _, r := range live {
		if err := signalNode(r.Pid, syscall.SIGTERM); err != nil {
			errs = append(errs, fmt.Errorf("node %d (pid %d): SIGTERM: %w", r.Node, r.Pid, err))
		}
	}
	// One grace period for all nodes: they got SIGTERM together.
	grace, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stopped []int
	for _, r := range live {
		gone := func(context.Context) (bool, error) { return !isNodeProcess(r.Pid, dir, r.Node), nil }
		_ = poll.Until(grace, 50*time.Millisecond, 0, gone) // still running afterwards: SIGKILL
		if isNodeProcess(r.Pid, dir, r.Node) {
			if err := signalNode(r.Pid, syscall.SIGKILL); err != nil {
				errs = append(errs, fmt.Errorf("node %d (pid %d): SIGKILL: %w", r.Node, r.Pid, err))
			}
			_ = poll.Until(context.Background(), 20*time.Millisecond, 10*time.Second, gone)
			if isNodeProcess(r.Pid, dir, r.Node) {
				errs = append(errs, fmt.Errorf("node %d (pid %d) still runs after SIGKILL", r.Node, r.Pid))
				continue
			}
		}
		_ = os.Remove(r.Path)
		stopped = append(stopped, r.Node)
	}
	return stopped, errors.Join(errs...)
}

// RunningNodes returns the nodes under dir whose pid file names a live Kafka
// process of that node, with their pids.
func RunningNodes(dir string) (map[int]int, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	recs, err := readPids(dir)
	if err != nil {
		return nil, err
	}
	out := map[int]int{}
	for _, r := range recs {
		if isNodeProcess(r.Pid, dir, r.Node) {
			out[r.Node] = r.Pid
		}
	}
	return out, nil
}
