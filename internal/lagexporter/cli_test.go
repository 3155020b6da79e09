package lagexporter

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/umbrella-platform/umbrella-streaming/internal/testkafka"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// Every bad flag is refused with a message naming the flag (or variable),
// the value and the fix.
func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no bootstrap", nil, nil,
			"--bootstrap is empty: give the seed brokers, host:port[,host:port...] (or set LAG_EXPORTER_BOOTSTRAP)"},
		{"bootstrap without port", []string{"--bootstrap", "kafka"}, nil,
			`--bootstrap "kafka": address kafka: missing port in address: want host:port`},
		{"interval not a duration", []string{"--bootstrap", "k:9092", "--interval", "15"}, nil,
			`invalid value "15" for --interval: want a duration such as 15s or 1m`},
		{"interval too short", []string{"--bootstrap", "k:9092", "--interval", "500ms"}, nil,
			"--interval 500ms is below the minimum 1s: give 1s or more (the default is 15s)"},
		{"listen without port", []string{"--bootstrap", "k:9092", "--listen", "9308"}, nil,
			`--listen "9308": want [host]:port, e.g. :9308 or 127.0.0.1:9308`},
		{"bad regex", []string{"--bootstrap", "k:9092", "--groups", "email-(.*"}, nil,
			`invalid value "email-(.*" for --groups: missing closing ): ` + "`^(?:email-(.*)$`" +
				`: want an RE2 expression matched against the whole group name, e.g. 'email-.*'`},
		{"leftover argument", []string{"--bootstrap", "k:9092", "interval"}, nil,
			`unexpected argument "interval": flags are --name value`},
		{"bad env value", []string{"--bootstrap", "k:9092"}, map[string]string{"LAG_EXPORTER_INTERVAL": "soon"},
			`LAG_EXPORTER_INTERVAL "soon": want a duration such as 15s or 1m`},
		{"dns server and credentials", []string{"--bootstrap", "k:9092", "--dns-server", "10.96.0.10:53", "--credentials", "/c"}, nil,
			"--dns-server and --credentials together are not supported: run the client inside the cluster, where pod names resolve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseArgs(tc.args, env(tc.env))
			assert.EqualError(t, err, tc.want)
		})
	}
}

// Defaults, environment variables, and flags winning over them.
func TestParseArgs(t *testing.T) {
	o, err := ParseArgs([]string{"--bootstrap", "a:9092, b:9092"}, env(nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"a:9092", "b:9092"}, o.Client.Bootstrap)
	assert.Equal(t, ":9308", o.Listen)
	assert.Equal(t, 15*time.Second, o.Interval)
	assert.Nil(t, o.Groups)
	assert.Equal(t, "kafka-lag-exporter", o.Client.ClientID)

	o, err = ParseArgs([]string{"--interval", "30s"}, env(map[string]string{
		"LAG_EXPORTER_BOOTSTRAP": "k:9093", "LAG_EXPORTER_INTERVAL": "1m", "LAG_EXPORTER_GROUPS": "email-.*",
		"LAG_EXPORTER_CREDENTIALS": "/var/run/kafka", "LAG_EXPORTER_LISTEN": "127.0.0.1:9400"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"k:9093"}, o.Client.Bootstrap)
	assert.Equal(t, 30*time.Second, o.Interval, "the flag wins over the variable")
	assert.Equal(t, "/var/run/kafka", o.Client.CredentialsDir)
	assert.Equal(t, "127.0.0.1:9400", o.Listen)
	assert.True(t, o.Groups.MatchString("email-processor"))
	assert.False(t, o.Groups.MatchString("x-email-processor"), "the pattern matches the whole name")

	_, err = ParseArgs([]string{"--help"}, env(nil))
	assert.True(t, errors.Is(err, flag.ErrHelp))
}

// Credentials are read at start through loadgen's code: a missing Secret
// stops the exporter with exit 2 and the loadgen message.
func TestMainRefusesMissingCredentials(t *testing.T) {
	var stderr bytes.Buffer
	dir := t.TempDir() + "/none"
	code := Main(context.Background(), []string{"--bootstrap", "127.0.0.1:9", "--credentials", dir}, env(nil), &stderr)
	assert.Equal(t, ExitUsage, code)
	assert.True(t, strings.HasPrefix(stderr.String(), "kafka-lag-exporter: --credentials "+dir+": "), stderr.String())
	assert.Contains(t, stderr.String(), "username")
	assert.Contains(t, stderr.String(), "mount the service's kafka-<service> Secret there")
}

// Serve against kfake over real HTTP: /metrics carries the group's lag once
// the first collection ran, /healthz is 200, and cancelling the context (what
// SIGTERM does in Main) shuts the server down and returns nil.
func TestServeKfake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, adm := fakeKafka(t, ctx, 4)
	o, err := ParseArgs([]string{"--bootstrap", strings.Join(c.ListenAddrs(), ","), "--interval", "1s"}, env(nil))
	require.NoError(t, err)
	opts, err := o.Client.Opts()
	require.NoError(t, err)
	var commits kadm.Offsets // lag 3 + 0 + 4
	commits.AddOffset("orders", 0, 1, -1)
	commits.AddOffset("orders", 1, 4, -1)
	commits.AddOffset("orders", 2, 0, -1)
	require.NoError(t, adm.CommitAllOffsets(ctx, "svc", commits))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sctx, stop := context.WithCancel(ctx)
	var logs testkafka.SyncBuffer
	served := make(chan error, 1)
	go func() { served <- Serve(sctx, o, opts, ln, &logs) }()

	url := "http://" + ln.Addr().String()
	var body string
	require.Eventually(t, func() bool {
		b, err := scrape(url)
		body = b
		return err == nil && slices.Contains(samples(body), "umbrella_lag_exporter_up 1")
	}, 20*time.Second, 100*time.Millisecond)
	assert.Equal(t, []string{`umbrella_consumergroup_lag{group="svc",topic="orders"} 7`,
		`umbrella_consumergroup_members{group="svc"} 0`, "umbrella_lag_exporter_up 1"}, samples(body)[:3])
	resp, err := http.Get(url + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	stop()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	_, err = http.Get(url + "/metrics")
	assert.Error(t, err, "the listener is closed")
	assert.Contains(t, logs.String(), fmt.Sprintf("kafka-lag-exporter: serving /metrics on %s, collecting every 1s", ln.Addr()))
	assert.Contains(t, logs.String(), "kafka-lag-exporter: shutting down\n")
}
