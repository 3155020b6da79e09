package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrCreateUnanswered marks a CreateTopics whose outcome is unknown: an
// attempt got no answer (the connection broke after the request was sent, or
// the controller timed out), so the broker may have created the topic, and a
// later attempt's TOPIC_ALREADY_EXISTS may be this call's own topic.
var ErrCreateUnanswered = errors.New("an earlier CreateTopics attempt got no answer")

// createArgs are one topic of a CreateTopics request.
type createArgs struct {
	topic      string
	partitions int
	rf         int
	configs    map[string]string
}

// CreateTopic creates one topic, in one CreateTopics request together with
// the other topics whose Creates arrive at the same time (batch.go). The
// returned error wraps the topic's kerr error, so errors.Is(err,
// kerr.TopicAlreadyExists) works; see createBatch for ErrCreateUnanswered.
func (k *Client) CreateTopic(ctx context.Context, topic string, partitions, rf int, configs map[string]string) error {
	return k.batchers().creates.do(ctx, topic, createArgs{topic, partitions, rf, configs})
}

// createRequest is the CreateTopics request for the batch's topics, in the
// batch's order.
func (k *Client) createRequest(ops []*pendingOp[createArgs]) *kmsg.CreateTopicsRequest {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(k.timeout / time.Millisecond)
	for _, op := range ops {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic = op.arg.topic
		rt.NumPartitions = int32(op.arg.partitions)
		rt.ReplicationFactor = int16(op.arg.rf)
		for _, key := range slices.Sorted(maps.Keys(op.arg.configs)) {
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name = key
			c.Value = kmsg.StringPtr(op.arg.configs[key])
			rt.Configs = append(rt.Configs, c)
		}
		req.Topics = append(req.Topics, rt)
	}
	return req
}

// createState is what createBatch knows of one topic between attempts.
type createState struct {
	op         *pendingOp[createArgs]
	unanswered bool  // an attempt got no answer: Kafka may have created it
	last       error // the last retriable error, for the give-up message
}

// createBatch issues CreateTopics for a batch of topics to the controller and
// retries itself, instead of through the client's retries, so that it knows
// when an attempt went unanswered. A later attempt's TOPIC_ALREADY_EXISTS is
// then returned wrapped together with ErrCreateUnanswered, and the caller
// checks whether the topic there is the one it asked for (matchesInputs).
// Each topic's answer is its own: one topic's Kafka error ends that topic's
// call only, a retriable one sends it again with the others still pending.
// A request that never gets an answer gives up after twice the request
// timeout.
func (k *Client) createBatch(ops []*pendingOp[createArgs]) {
	pending := make(map[string]*createState, len(ops))
	for _, op := range ops {
		pending[op.arg.topic] = &createState{op: op}
	}
	done := func(topic string, err error) {
		pending[topic].op.finish(err)
		delete(pending, topic)
	}
	ctx := context.Background()
	err := Poll(ctx, 2*k.timeout, "CreateTopics", func(ctx context.Context) (bool, error) {
		batch := make([]*pendingOp[createArgs], 0, len(pending))
		for _, op := range ops {
			if pending[op.arg.topic] != nil {
				batch = append(batch, op)
			}
		}
		ids, err := k.batchers().controller.get(func() ([]int32, error) {
			id, err := k.controller(ctx)
			return []int32{id}, err
		})
		if err != nil {
			return false, batchError{"Metadata", err}
		}
		controller := ids[0]
		// Request (unlike the client's own) does not retry, so a lost answer is
		// seen here. Kafka's brokers forward CreateTopics to the controller, but
		// sending it there directly works with any broker implementation.
		rctx, cancel := k.WithTimeout(ctx)
		defer cancel()
		kresp, err := k.raw.Broker(int(controller)).Request(rctx, k.createRequest(batch))
		switch {
		case err != nil && (kgo.IsRetryableBrokerErr(err) || errors.Is(err, io.EOF)):
			// io.EOF: the broker closed the connection after the request went out
			// (franz-go reports it as ErrFirstReadEOF on a fresh connection).
			k.batchers().controller.forget()
			for _, st := range pending {
				st.unanswered = true
				st.last = requestError(st.op.arg.topic, "CreateTopics", err)
			}
			return false, nil
		case err != nil:
			k.batchers().controller.forget()
			return false, batchError{"CreateTopics", err}
		}
		answered := map[string]bool{}
		for _, t := range kresp.(*kmsg.CreateTopicsResponse).Topics {
			st := pending[t.Topic]
			if st == nil || answered[t.Topic] {
				continue
			}
			answered[t.Topic] = true
			terr := kerr.ErrorForCode(t.ErrorCode)
			switch {
			case terr == nil:
				done(t.Topic, nil)
			case errors.Is(terr, kerr.TopicAlreadyExists) && st.unanswered:
				done(t.Topic, errors.Join(TopicError(t.Topic, "CreateTopics", terr, deref(t.ErrorMessage)), ErrCreateUnanswered))
			case errors.Is(terr, kerr.RequestTimedOut):
				// The controller may still create it.
				st.unanswered = true
				st.last = TopicError(t.Topic, "CreateTopics", terr, deref(t.ErrorMessage))
			case kerr.IsRetriable(terr):
				k.batchers().controller.forget() // e.g. NOT_CONTROLLER
				st.last = TopicError(t.Topic, "CreateTopics", terr, deref(t.ErrorMessage))
			default:
				done(t.Topic, TopicError(t.Topic, "CreateTopics", terr, deref(t.ErrorMessage)))
			}
		}
		for _, op := range batch {
			if !answered[op.arg.topic] {
				done(op.arg.topic, fmt.Errorf("topic %q: CreateTopics answered without this topic", op.arg.topic))
			}
		}
		return len(pending) == 0, nil
	})
	for topic, st := range pending {
		done(topic, createGaveUp(topic, err, st.last))
	}
}

// createGaveUp is a topic's error when its batch ended without an answer for
// it: the batch's error in the topic's words, and the last retriable error.
func createGaveUp(topic string, err, last error) error {
	var be batchError
	if errors.As(err, &be) {
		return requestError(topic, be.op, be.err)
	}
	err = fmt.Errorf("topic %q: %w", topic, err)
	if last != nil {
		return fmt.Errorf("%w; last, %w", err, last)
	}
	return err
}

// batchError is a request of a batch that failed as a whole; each topic gets
// it as its own requestError.
type batchError struct {
	op  string
	err error
}

func (e batchError) Error() string { return e.op + " request failed: " + e.err.Error() }
func (e batchError) Unwrap() error { return e.err }

// controller asks any broker which node is the active controller.
func (k *Client) controller(ctx context.Context) (int32, error) {
	mctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	mreq := kmsg.NewPtrMetadataRequest()
	mreq.Topics = []kmsg.MetadataRequestTopic{}
	mresp, err := mreq.RequestWith(mctx, k.raw)
	if err != nil {
		return -1, err
	}
	return mresp.ControllerID, nil
}
