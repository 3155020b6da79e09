//go:build realkafka

package lagexporter

import (
	"context"
	"maps"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
	"github.com/umbrella-platform/umbrella-streaming/internal/testkafka"
)

// scrapeValues GETs /metrics and returns every sample by its series
// ("name{labels}").
func scrapeValues(t *testing.T, url string) map[string]float64 {
	t.Helper()
	body, err := scrape(url)
	require.NoError(t, err)
	out := map[string]float64{}
	for _, line := range samples(body) {
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, line)
		out[line[:i]] = v
	}
	return out
}

const (
	lagSeries     = `umbrella_consumergroup_lag{group="billing",topic="orders"}`
	membersSeries = `umbrella_consumergroup_members{group="billing"}`
	upSeries      = "umbrella_lag_exporter_up"
)

// waitScrape polls /metrics until ok accepts the values, and returns them.
func waitScrape(t *testing.T, ctx context.Context, url, what string, ok func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	var last map[string]float64
	err := poll.Until(ctx, 200*time.Millisecond, 60*time.Second, func(context.Context) (bool, error) {
		last = scrapeValues(t, url)
		return ok(last), nil
	})
	require.NoError(t, err, "waiting for %s; last scrape: %v", what, last)
	return last
}

// consumeGroup runs a billing consumer that commits after every poll until
// ctx ends or it read want records (want < 0: forever), then leaves the group.
func consumeGroup(ctx context.Context, c *localkafka.Cluster, want int) (read int, err error) {
	cl, err := c.Client(kgo.ConsumerGroup("billing"), kgo.ConsumeTopics("orders"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, err
	}
	defer cl.Close() // LeaveGroup: the group is Empty at once
	for want < 0 || read < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return read, nil
		}
		if err := fs.Err0(); err != nil {
			return read, err
		}
		read += fs.NumRecords()
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			return read, err
		}
	}
	return read, nil
}

// Against a real Kafka 4.1.1 (one node, the dev stack's configuration) the
// exporter, scraped over HTTP every second, shows what the issue asks for:
// a billing group that consumed and committed everything lags 0 with 1
// member; once its consumer stops while a producer keeps writing, members is
// 0 and the lag grows, and after the producer stops it equals exactly the
// records written since the last commit; a restarted consumer drains it back
// to 0 with 1 member. On the SASL_SSL listener (SCRAM-SHA-512, the
// StandardAuthorizer, no ACL means no access), a principal holding only
// DESCRIBE on group billing and topic orders reads the same numbers through
// loadgen's credentials code; one with DESCRIBE on the group only sees the
// group but no topic; one with no ACL sees no group at all, and no error.
func TestLagAgainstRealKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	c := testkafka.Start(t, ctx, testkafka.Options{Stack: "dev",
		Security: &localkafka.Security{SuperUser: "lag-admin", SuperPassword: "admin-secret"}})
	testkafka.CreateTopic(t, ctx, c, "orders", 3, 1, nil)

	producer, err := c.Client(kgo.DefaultProduceTopic("orders"))
	require.NoError(t, err)
	defer producer.Close()
	produce := func(n int) {
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Value: []byte("order")}
		}
		require.NoError(t, producer.ProduceSync(ctx, recs...).FirstErr())
	}

	// The exporter under test, over the PLAINTEXT listener, behind real HTTP.
	adminClient, err := c.Client()
	require.NoError(t, err)
	defer adminClient.Close()
	e := New(kadm.NewClient(adminClient), Config{Interval: time.Second, Groups: regexp.MustCompile(`^billing$`)})
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go e.Run(runCtx)
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()

	// 1. Consumed and committed: lag 0, 1 member.
	produce(300)
	consumerCtx, stopConsumer := context.WithCancel(ctx)
	consumerDone := make(chan error, 1)
	go func() { _, err := consumeGroup(consumerCtx, c, -1); consumerDone <- err }()
	waitScrape(t, ctx, srv.URL, "billing caught up with its consumer", func(v map[string]float64) bool {
		return v[upSeries] == 1 && v[membersSeries] == 1 && v[lagSeries] == 0 && hasSeries(v, lagSeries)
	})

	// 2. The consumer stops; a producer keeps writing: 0 members, lag grows.
	stopConsumer()
	require.NoError(t, <-consumerDone)
	var mu sync.Mutex
	written := 0
	prodCtx, stopProducing := context.WithCancel(ctx)
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		for prodCtx.Err() == nil {
			recs := make([]*kgo.Record, 20)
			for i := range recs {
				recs[i] = &kgo.Record{Value: []byte("late")}
			}
			if producer.ProduceSync(ctx, recs...).FirstErr() == nil {
				mu.Lock()
				written += len(recs)
				mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	first := waitScrape(t, ctx, srv.URL, "billing without members and lagging", func(v map[string]float64) bool {
		return v[upSeries] == 1 && v[membersSeries] == 0 && hasSeries(v, membersSeries) && v[lagSeries] > 0
	})
	second := waitScrape(t, ctx, srv.URL, "the lag growing", func(v map[string]float64) bool {
		return v[upSeries] == 1 && v[lagSeries] > first[lagSeries]
	})
	assert.Zero(t, second[membersSeries])
	t.Logf("lag grew from %v to %v with no member", first[lagSeries], second[lagSeries])

	// 3. The producer stops: the lag is exactly what was written since.
	stopProducing()
	<-prodDone
	mu.Lock()
	behind := float64(written)
	mu.Unlock()
	stopped := waitScrape(t, ctx, srv.URL, "the lag to settle", func(v map[string]float64) bool {
		return v[upSeries] == 1 && v[lagSeries] == behind
	})
	assert.Equal(t, behind, stopped[lagSeries])
	assert.Zero(t, stopped[membersSeries])
	assert.Equal(t, []string{lagSeries, membersSeries, "umbrella_lag_exporter_collect_seconds", upSeries},
		slices.Sorted(maps.Keys(stopped)), "no other group, topic or series")

	// 4. The secure path: DESCRIBE on the group and the topic is enough.
	readers := map[string]*kadm.ACLBuilder{
		"lag-reader": kadm.NewACLs().Allow("User:lag-reader").Groups("billing").Topics("orders").
			Operations(kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral),
		"group-only": kadm.NewACLs().Allow("User:group-only").Groups("billing").
			Operations(kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral),
		"no-acls": nil,
	}
	collectAs := map[string]func() ([]GroupLag, error){}
	for user, acls := range readers {
		testkafka.AddUser(t, ctx, c, user, user+"-secret", acls)
		cfg := loadgen.ClientConfig{Bootstrap: c.SASLBootstrap(), ClientID: "kafka-lag-exporter",
			CredentialsDir: testkafka.WriteCredentials(t, user, user+"-secret", localkafka.MechanismScramSHA512, c.CACertPEM())}
		opts, err := cfg.Opts()
		require.NoError(t, err)
		cl, err := kgo.NewClient(opts...)
		require.NoError(t, err)
		defer cl.Close()
		adm := kadm.NewClient(cl)
		collectAs[user] = func() ([]GroupLag, error) { return Collect(ctx, adm, nil) }
	}
	want := []GroupLag{{Group: "billing", State: "Empty", Members: 0, Topics: []TopicLag{{"orders", int64(behind)}}}}
	var got []GroupLag
	// ACLs reach the authorizer through the metadata log: wait for them.
	require.NoError(t, poll.Until(ctx, 200*time.Millisecond, 30*time.Second, func(context.Context) (bool, error) {
		got, err = collectAs["lag-reader"]()
		return err == nil && len(got) == 1 && len(got[0].Topics) == 1, nil
	}), "lag-reader's collection: %v, %v", got, err)
	assert.Equal(t, want, got)

	got, err = collectAs["group-only"]()
	require.NoError(t, err, "no error: the broker leaves the topic out")
	assert.Equal(t, []GroupLag{{Group: "billing", State: "Empty", Members: 0}}, got)

	got, err = collectAs["no-acls"]()
	require.NoError(t, err, "no error: the broker lists no group")
	assert.Empty(t, got)

	// 5. A consumer restarts and drains: lag 0, 1 member.
	restartCtx, stopRestarted := context.WithCancel(ctx)
	restarted := make(chan error, 1)
	go func() { _, err := consumeGroup(restartCtx, c, -1); restarted <- err }()
	waitScrape(t, ctx, srv.URL, "the restarted consumer draining the lag", func(v map[string]float64) bool {
		return v[upSeries] == 1 && v[membersSeries] == 1 && v[lagSeries] == 0 && hasSeries(v, lagSeries)
	})
	got, err = collectAs["lag-reader"]()
	require.NoError(t, err)
	assert.Equal(t, []GroupLag{{Group: "billing", State: "Stable", Members: 1, Topics: []TopicLag{{"orders", 0}}}}, got,
		"the describe-only principal sees the member too")
	stopRestarted()
	require.NoError(t, <-restarted)
}

func hasSeries(v map[string]float64, series string) bool { _, ok := v[series]; return ok }
