package provider

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

// errCreateUnanswered marks a CreateTopics whose outcome is unknown: an
// attempt got no answer (the connection broke after the request was sent, or
// the controller timed out), so the broker may have created the topic, and a
// later attempt's TOPIC_ALREADY_EXISTS may be this call's own topic.
var errCreateUnanswered = errors.New("an earlier CreateTopics attempt got no answer")

// createTopic issues CreateTopics for one topic to one broker at a time
// and retries itself, instead of through the client's retries, so that it
// knows when an attempt went unanswered. It then returns the
// TOPIC_ALREADY_EXISTS of a later attempt wrapped together with
// errCreateUnanswered, and the caller checks whether the topic there is the
// one it asked for (matchesInputs). The returned error wraps the item's kerr
// error, so errors.Is(err, kerr.TopicAlreadyExists) works. Kafka errors other than retriable ones end
// the call; a call that never gets an answer gives up after the request
// timeout.
func (k *kafkaClient) createTopic(ctx context.Context, topic string, partitions, rf int, configs map[string]string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(k.timeout / time.Millisecond)
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = topic
	rt.NumPartitions = int32(partitions)
	rt.ReplicationFactor = int16(rf)
	for _, key := range slices.Sorted(maps.Keys(configs)) {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name = key
		c.Value = kmsg.StringPtr(configs[key])
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)

	unanswered := false
	var last error
	err := poll(ctx, 2*k.timeout, fmt.Sprintf("topic %q: CreateTopics", topic), func(ctx context.Context) (bool, error) {
		mctx, cancel := k.withTimeout(ctx)
		defer cancel()
		mreq := kmsg.NewPtrMetadataRequest()
		mreq.Topics = []kmsg.MetadataRequestTopic{}
		mresp, err := mreq.RequestWith(mctx, k.raw)
		if err != nil {
			return false, requestError(topic, "Metadata", err)
		}
		// Request (unlike the client's own) does not retry, so a lost answer is
		// seen here. Kafka's brokers forward CreateTopics to the controller, but
		// sending it there directly works with any broker implementation.
		rctx, cancel := k.withTimeout(ctx)
		defer cancel()
		kresp, err := k.raw.Broker(int(mresp.ControllerID)).Request(rctx, req)
		switch {
		case err != nil && (kgo.IsRetryableBrokerErr(err) || errors.Is(err, io.EOF)):
			// io.EOF: the broker closed the connection after the request went out
			// (franz-go reports it as ErrFirstReadEOF on a fresh connection).
			unanswered = true
			last = requestError(topic, "CreateTopics", err)
			return false, nil
		case err != nil:
			return false, requestError(topic, "CreateTopics", err)
		}
		resp := kresp.(*kmsg.CreateTopicsResponse)
		for _, t := range resp.Topics {
			if t.Topic != topic {
				continue
			}
			terr := kerr.ErrorForCode(t.ErrorCode)
			switch {
			case terr == nil:
				return true, nil
			case errors.Is(terr, kerr.TopicAlreadyExists) && unanswered:
				return false, errors.Join(topicError(topic, "CreateTopics", terr, deref(t.ErrorMessage)), errCreateUnanswered)
			case errors.Is(terr, kerr.RequestTimedOut):
				// The controller may still create it.
				unanswered = true
				last = topicError(topic, "CreateTopics", terr, deref(t.ErrorMessage))
				return false, nil
			case kerr.IsRetriable(terr):
				last = topicError(topic, "CreateTopics", terr, deref(t.ErrorMessage))
				return false, nil
			default:
				return false, topicError(topic, "CreateTopics", terr, deref(t.ErrorMessage))
			}
		}
		return false, fmt.Errorf("topic %q: CreateTopics answered without this topic", topic)
	})
	if err != nil && last != nil && !isKafkaError(err) && !errors.Is(err, errCreateUnanswered) {
		return fmt.Errorf("%w; last, %w", err, last)
	}
	return err
}

// matchesInputs checks, after a CreateTopics whose answer was lost, that the
// topic Kafka has is the one the inputs ask for: same partitions, replication
// factor and dynamic configs. It returns an error saying what differs.
func (k *kafkaClient) matchesInputs(ctx context.Context, in TopicArgs) error {
	meta, broker, err := k.lookup(ctx, in.Name)
	if err != nil {
		return err
	}
	if !meta.Exists {
		return fmt.Errorf("topic %q: CreateTopics said it exists but metadata does not show it "+
			"(it may be being deleted): retry the update", in.Name)
	}
	cfg, err := k.configsFrom(ctx, k.broker(broker), in.Name)
	if err != nil {
		return err
	}
	want := in.Config
	if want == nil {
		want = map[string]string{}
	}
	if meta.Partitions != in.Partitions || meta.ReplicationFactor != in.ReplicationFactor || !maps.Equal(cfg.Dynamic, want) {
		return fmt.Errorf("topic %q: the answer to CreateTopics was lost and a retry found the topic existing, but "+
			"not as the inputs ask: it has partitions = %d, replicationFactor = %d, configs %v; the inputs ask for %d, %d, "+
			"%v. Someone else may have created it: check who uses it, then either import it (pulumi import %s "+
			"<resource name> %s) or choose another name", in.Name, meta.Partitions, meta.ReplicationFactor, cfg.Dynamic,
			in.Partitions, in.ReplicationFactor, want, TopicToken, in.Name)
	}
	return nil
}
