//go:build realkafka

package realkafka

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// Record batch compression codecs: the low three bits of the batch attributes.
const (
	codecNone = 0
	codecGzip = 1
	codecLZ4  = 3
	codecZstd = 4
	codecMask = 0x07
)

// storedCodecs fetches partition p of topic from its leader with a raw
// FetchRequest (a consumer would decompress) and returns the compression
// codec of every record batch on disk.
func storedCodecs(t *testing.T, ctx context.Context, c *localkafka.Cluster, topic string, p int32) []int16 {
	t.Helper()
	ts, err := c.Describe(ctx, topic)
	require.NoError(t, err)
	leader := ts.Partitions[p].Leader
	cl, err := c.Client()
	require.NoError(t, err)
	defer cl.Close()

	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = 500
	req.MinBytes = 1
	req.MaxBytes = 1 << 20
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rt.TopicID = ts.ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = p
	rp.FetchOffset = 0
	rp.PartitionMaxBytes = 1 << 20
	rp.CurrentLeaderEpoch = -1
	rp.LogStartOffset = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(int(leader)))
	require.NoError(t, err)
	require.NoError(t, kerr.ErrorForCode(resp.ErrorCode))
	require.Len(t, resp.Topics, 1)
	require.Len(t, resp.Topics[0].Partitions, 1)
	part := resp.Topics[0].Partitions[0]
	require.NoError(t, kerr.ErrorForCode(part.ErrorCode))

	var codecs []int16
	raw := part.RecordBatches
	for len(raw) >= 12 {
		var b kmsg.RecordBatch
		require.NoError(t, b.ReadFrom(raw))
		require.Equal(t, int8(2), b.Magic)
		codecs = append(codecs, b.Attributes&codecMask)
		raw = raw[12+int(b.Length):]
	}
	require.NotEmpty(t, codecs, "no record batch fetched from %s[%d]", topic, p)
	return codecs
}

// compression.type=producer (the program's broker setting) stores each batch
// with the codec its producer chose: gzip stays gzip, lz4 stays lz4 and an
// uncompressed batch stays uncompressed.
func TestBrokerKeepsProducerCompression(t *testing.T) {
	c := cluster(t, "dev")
	ctx := testCtx(t, 2*time.Minute)
	const topic = "compression"
	createTopic(t, c, topic, 3, 1, nil)
	ct := topicConfig(t, c.Admin(), topic, "compression.type")
	require.Equal(t, "producer", ct.MaybeValue())

	// Repetitive values, so that compressing makes the batch smaller (franz-go
	// sends a batch uncompressed otherwise).
	value := []byte(strings.Repeat("umbrella streaming compression check ", 30))
	cases := []struct {
		name      string
		partition int32
		codec     kgo.CompressionCodec
		want      int16
	}{
		{"gzip", 0, kgo.GzipCompression(), codecGzip},
		{"lz4", 1, kgo.Lz4Compression(), codecLZ4},
		{"none", 2, kgo.NoCompression(), codecNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			producer, err := c.Client(kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
				kgo.ProducerBatchCompression(tc.codec))
			require.NoError(t, err)
			defer producer.Close()
			recs := make([]*kgo.Record, 20)
			for i := range recs {
				recs[i] = &kgo.Record{Partition: tc.partition, Value: value}
			}
			require.NoError(t, producer.ProduceSync(ctx, recs...).FirstErr())
			codecs := storedCodecs(t, ctx, c, topic, tc.partition)
			for _, got := range codecs {
				assert.Equal(t, tc.want, got, "codec of a stored batch in %s[%d]", topic, tc.partition)
			}
		})
	}

	// The control: the fetch shows the codec on disk, not the producer's. A
	// topic that overrides compression.type=zstd recompresses a gzip batch.
	t.Run("zstd topic override recompresses", func(t *testing.T) {
		const override = "compression-zstd"
		createTopic(t, c, override, 1, 1, map[string]*string{"compression.type": kmsg.StringPtr("zstd")})
		producer, err := c.Client(kgo.DefaultProduceTopic(override), kgo.ProducerBatchCompression(kgo.GzipCompression()))
		require.NoError(t, err)
		defer producer.Close()
		require.NoError(t, producer.ProduceSync(ctx, &kgo.Record{Value: value}, &kgo.Record{Value: value}).FirstErr())
		for _, got := range storedCodecs(t, ctx, c, override, 0) {
			assert.Equal(t, int16(codecZstd), got)
		}
	})
}
