package provider

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkTopics compares N topics managed one by one through the provider's
// gRPC surface (what the engine does: one Create, Read or Delete per topic,
// each confirmed by a direct metadata request) with one batched kadm call per
// phase for the same N. Against kfake this measures the provider's own
// overhead only; broker-side costs need the real-Kafka benchmark.
//
//	go test ./provider -run '^$' -bench BenchmarkTopics -benchtime 1x
func BenchmarkTopics(b *testing.B) {
	for _, n := range []int{50, 200, 500} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			var prov, batch [3]time.Duration // create, read, delete
			for i := 0; i < b.N; i++ {
				p, k := benchOnce(b, n)
				for j := range prov {
					prov[j] += p[j]
					batch[j] += k[j]
				}
			}
			for j, phase := range []string{"create", "read", "delete"} {
				pms := float64(prov[j].Microseconds()) / 1000 / float64(b.N)
				kms := float64(batch[j].Microseconds()) / 1000 / float64(b.N)
				b.ReportMetric(pms, "provider-"+phase+"-ms")
				b.ReportMetric(kms, "kadm-"+phase+"-ms")
				b.ReportMetric(pms/kms, phase+"-ratio")
				b.Logf("N=%d %-6s provider %8.1f ms  kadm batch %7.1f ms  ratio %6.1fx", n, phase, pms, kms, pms/kms)
			}
		})
	}
}

// benchOnce runs both paths on fresh clusters and returns the durations of
// create, no-op read and delete for each.
func benchOnce(b *testing.B, n int) (prov, batch [3]time.Duration) {
	b.StopTimer()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%04d", i)
	}
	c := newCluster(b)
	s := server(b, c.addrs, nil)
	states := make(map[string]property.Map, n)
	b.StartTimer()

	start := time.Now()
	for _, name := range names {
		states[name] = mustCreate(b, s, topicProps(name, 3, 3, map[string]string{"retention.ms": "3600000"}))
	}
	prov[0] = time.Since(start)
	start = time.Now()
	for _, name := range names {
		r, err := read(s, name, states[name])
		require.NoError(b, err)
		require.Equal(b, name, r.ID)
	}
	prov[1] = time.Since(start)
	start = time.Now()
	for _, name := range names {
		require.NoError(b, del(s, name, states[name]))
	}
	prov[2] = time.Since(start)

	b.StopTimer()
	k := newCluster(b)
	ctx := context.Background()
	b.StartTimer()

	start = time.Now()
	created, err := k.adm.CreateTopics(ctx, 3, 3, map[string]*string{"retention.ms": kmsg.StringPtr("3600000")}, names...)
	require.NoError(b, err)
	require.NoError(b, created.Error())
	batch[0] = time.Since(start)
	start = time.Now()
	req := kmsg.NewPtrMetadataRequest()
	for _, name := range names {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	md, err := req.RequestWith(ctx, k.raw)
	require.NoError(b, err)
	require.Len(b, md.Topics, n)
	cfgs, err := k.adm.DescribeTopicConfigs(ctx, names...)
	require.NoError(b, err)
	require.Len(b, cfgs, n)
	batch[1] = time.Since(start)
	start = time.Now()
	deleted, err := k.adm.DeleteTopics(ctx, names...)
	require.NoError(b, err)
	require.NoError(b, deleted.Error())
	batch[2] = time.Since(start)
	return prov, batch
}
