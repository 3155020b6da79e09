//go:build realkafka

package provider

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/internal/localkafka"
)

// createTopicsKey is the CreateTopics API key.
const createTopicsKey = 19

// replyCutter is a loopback TCP proxy in front of one broker's external
// listener. While armed, it forwards the first CreateTopics request it sees,
// then closes the client's connection when the broker's answer to it comes
// back, instead of passing the answer on: the broker did the work, the client
// never learns it.
type replyCutter struct {
	l      net.Listener
	target string
	armed  atomic.Bool
	cuts   atomic.Int32
	wg     sync.WaitGroup
}

func newReplyCutter(t *testing.T) *replyCutter {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	rc := &replyCutter{l: l}
	t.Cleanup(func() { l.Close(); rc.wg.Wait() })
	return rc
}

func (rc *replyCutter) serve() {
	for {
		client, err := rc.l.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", rc.target)
		if err != nil {
			client.Close()
			continue
		}
		rc.wg.Add(2)
		cut := make(chan int32, 1) // the correlation id whose answer is cut
		go func() {
			defer rc.wg.Done()
			defer server.Close()
			for {
				frame, err := readFrame(client)
				if err != nil {
					return
				}
				if len(frame) >= 12 && binary.BigEndian.Uint16(frame[4:6]) == createTopicsKey && rc.armed.CompareAndSwap(true, false) {
					cut <- int32(binary.BigEndian.Uint32(frame[8:12]))
				}
				if _, err := server.Write(frame); err != nil {
					return
				}
			}
		}()
		go func() {
			defer rc.wg.Done()
			defer client.Close()
			cutID := int32(-1)
			for {
				frame, err := readFrame(server)
				if err != nil {
					return
				}
				select {
				case id := <-cut:
					cutID = id
				default:
				}
				if cutID >= 0 && len(frame) >= 8 && int32(binary.BigEndian.Uint32(frame[4:8])) == cutID {
					rc.cuts.Add(1)
					return // closes the client's connection: the answer is lost
				}
				if _, err := client.Write(frame); err != nil {
					return
				}
			}
		}()
	}
}

// readFrame reads one size-prefixed Kafka frame, prefix included.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	frame := make([]byte, 4+binary.BigEndian.Uint32(size[:]))
	copy(frame, size[:])
	_, err := io.ReadFull(r, frame[4:])
	return frame, err
}

// TestRealKafkaLostCreateTopicsAnswer guards issue 14 item 6: when the
// connection breaks after the broker created the topic but before its answer
// arrived, Create succeeds if the topic is what the inputs ask for, and fails
// saying what differs if it is not. Before, the retry's TOPIC_ALREADY_EXISTS
// failed the create of a topic the provider had just made itself.
func TestRealKafkaLostCreateTopicsAnswer(t *testing.T) {
	rc := newReplyCutter(t)
	lk, c := realClusterWithOptions(t, "dev", func(o *localkafka.Options) {
		o.External = &localkafka.ExternalListener{Advertise: func(int) string { return rc.l.Addr().String() }}
	})
	rc.target = lk.ExternalAddr(0)
	go rc.serve()
	s := server(t, []string{rc.l.Addr().String()}, nil)

	t.Run("the created topic matches: Create succeeds", func(t *testing.T) {
		rc.armed.Store(true)
		inputs := topicProps("lost-answer", 2, 1, map[string]string{"retention.ms": "3600000"})
		assert.Equal(t, inputs, mustCreate(t, s, inputs))
		assert.Equal(t, int32(1), rc.cuts.Load(), "the proxy cut one CreateTopics answer")
		assertEveryBroker(t, c, "lost-answer", 2, 1, map[string]string{"retention.ms": "3600000"})
	})

	t.Run("an existing topic that differs: Create fails saying so", func(t *testing.T) {
		mustCreate(t, s, topicProps("taken", 1, 1, nil))
		rc.armed.Store(true)
		_, err := create(t, s, topicProps("taken", 3, 1, nil), false)
		require.Error(t, err)
		assert.Equal(t, int32(2), rc.cuts.Load(), "the proxy cut a second CreateTopics answer")
		assert.Contains(t, err.Error(), `topic "taken": the answer to CreateTopics was lost and a retry found the topic `+
			`existing, but not as the inputs ask: it has partitions = 1, replicationFactor = 1, configs map[]; the inputs `+
			`ask for 3, 1, map[].`)
	})
}
