package lagexporter

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
)

// Exit codes of Main.
const (
	ExitOK    = 0 // stopped by SIGTERM/SIGINT after a graceful shutdown
	ExitError = 1 // the HTTP server failed
	ExitUsage = 2 // bad flags or credentials, or the listen address is taken
)

// DefaultListen is the default --listen address.
const DefaultListen = ":9308"

// EnvPrefix prefixes the environment variable of every flag: --dns-server is
// also LAG_EXPORTER_DNS_SERVER. A flag given on the command line wins.
const EnvPrefix = "LAG_EXPORTER_"

// ShutdownTimeout bounds how long in-flight scrapes may finish after SIGTERM.
const ShutdownTimeout = 5 * time.Second

// Usage is the command line help.
const Usage = `kafka-lag-exporter: consumer-group lag read from the brokers, for Prometheus

Usage:
  kafka-lag-exporter --bootstrap host:port[,...] [--listen :9308] [--interval 15s]
                     [--groups REGEX] [--credentials DIR] [--dns-server IP:53]

Every --interval it reads each classic consumer group's committed offsets and
the partitions' end offsets, and serves on --listen:
  /metrics  umbrella_consumergroup_lag{group,topic}, umbrella_consumergroup_members{group},
            umbrella_lag_exporter_up, umbrella_lag_exporter_collect_seconds
  /healthz  200 while collections run on time, 503 when they are stuck
--groups keeps the groups whose whole name matches (RE2, e.g. 'email-.*').
--credentials is a service's mounted credentials Secret (username, password,
sasl.mechanism, ca.crt): the exporter then speaks SASL_SSL; it needs only
Describe on the groups and on their topics.
Every flag can also be set as LAG_EXPORTER_<FLAG> (e.g. LAG_EXPORTER_BOOTSTRAP).
`

// Options are Main's parsed flags.
type Options struct {
	Client   loadgen.ClientConfig
	Listen   string
	Interval time.Duration
	Groups   *regexp.Regexp
}

// ParseArgs reads the flags, after the LAG_EXPORTER_* environment variables
// getenv returns, and validates them. Errors name the flag (or variable), the
// value and the fix; flag.ErrHelp asks for the usage.
func ParseArgs(args []string, getenv func(string) string) (Options, error) {
	o := Options{Listen: DefaultListen, Interval: DefaultInterval}
	fs := flag.NewFlagSet("kafka-lag-exporter", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	loadgen.ConnectionFlags(fs, &o.Client)
	fs.StringVar(&o.Listen, "listen", o.Listen, "HTTP address for /metrics and /healthz, [host]:port")
	fs.Func("interval", "time between collections (default 15s)", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return errors.New("want a duration such as 15s or 1m")
		}
		o.Interval = d
		return nil
	})
	fs.Func("groups", "report only the groups whose whole name matches this RE2 expression", func(s string) error {
		re, err := regexp.Compile(`^(?:` + s + `)$`)
		if err != nil {
			return fmt.Errorf("%v: want an RE2 expression matched against the whole group name, e.g. 'email-.*'",
				strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		o.Groups = re
		return nil
	})

	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" && err == nil {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s %q: %v", env, v, serr)
			}
		}
	})
	if err != nil {
		return Options{}, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Options{}, err
		}
		// flag's own message reads: invalid value "x" for flag -interval: <ours>.
		return Options{}, errors.New(strings.Replace(err.Error(), "flag -", "--", 1))
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("unexpected argument %q: flags are --name value", fs.Arg(0))
	}
	if len(o.Client.Bootstrap) == 0 {
		return Options{}, errors.New("--bootstrap is empty: give the seed brokers, host:port[,host:port...] " +
			"(or set " + EnvPrefix + "BOOTSTRAP)")
	}
	if err := o.Client.Validate(); err != nil {
		return Options{}, err
	}
	if o.Interval < MinInterval {
		return Options{}, fmt.Errorf("--interval %s is below the minimum %s: give 1s or more (the default is %s)",
			o.Interval, MinInterval, DefaultInterval)
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return Options{}, fmt.Errorf("--listen %q: want [host]:port, e.g. %s or 127.0.0.1:9308", o.Listen, DefaultListen)
	}
	o.Client.ClientID = "kafka-lag-exporter"
	return o, nil
}

// Main runs the command line args (without the program name), logging to
// stderr, and returns the exit code. Cancelling ctx (SIGTERM) shuts it down.
func Main(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	o, err := ParseArgs(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, Usage)
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "kafka-lag-exporter: %v\n", err)
		return ExitUsage
	}
	opts, err := o.Client.Opts()
	if err != nil {
		fmt.Fprintf(stderr, "kafka-lag-exporter: %v\n", err)
		return ExitUsage
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-lag-exporter: --listen %s: %v: pick a free port\n", o.Listen, err)
		return ExitUsage
	}
	if err := Serve(ctx, o, opts, ln, stderr); err != nil {
		fmt.Fprintf(stderr, "kafka-lag-exporter: %v\n", err)
		return ExitError
	}
	return ExitOK
}

// Serve collects with a client built from opts and serves the exporter's
// Handler on ln until ctx ends, then shuts the server down gracefully (in-flight
// scrapes get ShutdownTimeout) and returns nil.
func Serve(ctx context.Context, o Options, opts []kgo.Opt, ln net.Listener, stderr io.Writer) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		ln.Close()
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	e := New(kadm.NewClient(cl), Config{Interval: o.Interval, Groups: o.Groups, Log: stderr})

	runCtx, stopRun := context.WithCancel(ctx)
	collectorDone := make(chan struct{})
	go func() {
		defer close(collectorDone)
		e.Run(runCtx)
	}()
	defer func() { stopRun(); <-collectorDone }()

	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "kafka-lag-exporter: serving /metrics on %s, collecting every %s from %s\n",
		ln.Addr(), o.Interval, strings.Join(o.Client.Bootstrap, ","))

	select {
	case err := <-served:
		return fmt.Errorf("http server on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "kafka-lag-exporter: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
