package kafkaadmin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/umbrella-platform/umbrella-streaming/internal/placement"
	"github.com/umbrella-platform/umbrella-streaming/internal/poll"
)

// settleInterval is the pause between two rounds of a settler.
const settleInterval = 25 * time.Millisecond

// settleWant is what a caller waits for: every broker showing the topic so
// that done returns true.
type settleWant struct {
	topic string
	// what is the awaited state, for the give-up message.
	what string
	// configs asks for the topic's configs too (a DescribeConfigs per round).
	configs bool
	// done judges one broker's view; it returns false with what the broker
	// shows. c is the zero value when configs is false.
	done func(m TopicMeta, c TopicConfigs) (bool, string)
}

// settleReq is a caller waiting in a settler.
type settleReq struct {
	settleWant
	deadline time.Time
	lag      string
	result   chan error
}

// settler waits for many topics at once until every broker shows each as
// wanted: one metadata request (and one DescribeConfigs, if any waiter needs
// configs) per broker per round covers every topic waited on, and a topic
// leaves as soon as a round shows it settled. It is what waitEveryBroker does
// for one topic, shared (see waitEveryBroker on why every broker is asked).
type settler struct {
	k *Client

	mu      sync.Mutex
	waiting []*settleReq
	running bool
}

// wait blocks until every broker shows w, the context ends or the request
// timeout passes.
func (s *settler) wait(ctx context.Context, w settleWant) error {
	r := &settleReq{settleWant: w, deadline: time.Now().Add(s.k.timeout), result: make(chan error, 1)}
	s.mu.Lock()
	s.waiting = append(s.waiting, r)
	if !s.running {
		s.running = true
		go s.work()
	}
	s.mu.Unlock()
	select {
	case err := <-r.result:
		return err
	case <-ctx.Done():
		s.remove(r)
		return fmt.Errorf("topic %q: waiting until every broker shows %s: %w", w.topic, w.what, ctx.Err())
	}
}

func (s *settler) remove(r *settleReq) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting = slices.DeleteFunc(s.waiting, func(o *settleReq) bool { return o == r })
}

// finish removes r and hands it its outcome.
func (s *settler) finish(r *settleReq, err error) {
	s.remove(r)
	r.result <- err
}

// work runs rounds, settleInterval apart, until nobody waits. Each request
// carries its own deadline (see round), so the loop itself has none.
func (s *settler) work() {
	_ = poll.Until(context.Background(), settleInterval, 0, func(context.Context) (bool, error) {
		s.mu.Lock()
		reqs := slices.Clone(s.waiting)
		if len(reqs) == 0 {
			s.running = false
			s.mu.Unlock()
			return true, nil
		}
		s.mu.Unlock()
		s.round(reqs)
		return false, nil
	})
}

// settleView is one broker's answers in a round.
type settleView struct {
	id      int32
	metas   map[string]TopicMeta
	configs map[string]TopicConfigs
	errs    map[string]error // Kafka's per-topic errors
	err     error            // the request failed as a whole
}

// round asks every broker once about every waiting topic and finishes the
// requests that every broker shows settled, failed with a Kafka error, or
// ran out of time.
func (s *settler) round(reqs []*settleReq) {
	ctx, cancel := context.WithTimeout(context.Background(), s.k.timeout)
	defer cancel()
	views, err := s.ask(ctx, reqs)
	for _, r := range reqs {
		rerr, settled := judge(r, views, err)
		switch {
		case rerr != nil:
			s.finish(r, rerr)
		case settled:
			s.finish(r, nil)
		case time.Now().After(r.deadline):
			s.finish(r, fmt.Errorf("topic %q: waiting until every broker shows %s: gave up after %s; last, %s",
				r.topic, r.what, s.k.timeout, r.lag))
		}
	}
}

// judge decides one request after a round: a Kafka error ends it, every
// Broker showing it done settles it, anything else records the lag.
func judge(r *settleReq, views []settleView, err error) (error, bool) {
	if err != nil {
		if isKafkaError(err) {
			return requestError(r.topic, "Metadata", err), false
		}
		r.lag = err.Error() // no broker list: ask again
		return nil, false
	}
	for _, v := range views {
		if v.err != nil {
			if isKafkaError(v.err) {
				return requestError(r.topic, "Metadata", v.err), false
			}
			r.lag = fmt.Sprintf("broker %d: %v", v.id, v.err) // may be restarting: ask again
			return nil, false
		}
		if terr := v.errs[r.topic]; terr != nil {
			return terr, false
		}
		if ok, seen := r.done(v.metas[r.topic], v.configs[r.topic]); !ok {
			r.lag = fmt.Sprintf("broker %d shows %s", v.id, seen)
			return nil, false
		}
	}
	return nil, len(views) > 0
}

// ask sends every broker, at the same time, one metadata request for the
// waiting topics and, if a waiter needs them, one DescribeConfigs.
func (s *settler) ask(ctx context.Context, reqs []*settleReq) ([]settleView, error) {
	var topics, withConfigs []string
	for _, r := range reqs {
		topics = append(topics, r.topic)
		if r.configs {
			withConfigs = append(withConfigs, r.topic)
		}
	}
	topics, withConfigs = sortedUnique(topics), sortedUnique(withConfigs)
	brokers, err := s.k.batchers().brokers.get(func() ([]int32, error) { return s.k.BrokerIDs(ctx) })
	if err != nil {
		return nil, err
	}
	views := make([]settleView, len(brokers))
	var wg sync.WaitGroup
	for i, id := range brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			views[i] = s.k.view(ctx, id, topics, withConfigs)
		}()
	}
	wg.Wait()
	for _, v := range views {
		if v.err != nil {
			s.k.batchers().brokers.forget() // a broker that left, or a new list
		}
	}
	return views, nil
}

// view is one broker's answers about topics (metadata) and withConfigs
// (DescribeConfigs).
func (k *Client) view(ctx context.Context, id int32, topics, withConfigs []string) settleView {
	v := settleView{id: id, errs: map[string]error{}}
	v.metas, v.err = k.metadataMany(ctx, k.Broker(id), topics, v.errs)
	if v.err != nil || len(withConfigs) == 0 {
		return v
	}
	v.configs, v.err = k.ConfigsMany(ctx, k.Broker(id), withConfigs, v.errs)
	return v
}

// BrokerIDs asks any broker for the cluster's broker IDs, sorted.
func (k *Client) BrokerIDs(ctx context.Context) ([]int32, error) {
	rctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	resp, err := req.RequestWith(rctx, k.raw)
	if err != nil {
		return nil, fmt.Errorf("listing the brokers (Metadata): %w%s", err, HintSuffix(RequestHint(err)))
	}
	if len(resp.Brokers) == 0 {
		return nil, errors.New("listing the brokers (Metadata): the answer lists no brokers")
	}
	ids := make([]int32, 0, len(resp.Brokers))
	for _, b := range resp.Brokers {
		ids = append(ids, b.NodeID)
	}
	slices.Sort(ids)
	return ids, nil
}

// brokersOf are the brokers of a metadata answer, sorted by ID.
func brokersOf(bs []kmsg.MetadataResponseBroker) []placement.Broker {
	out := make([]placement.Broker, 0, len(bs))
	for _, b := range bs {
		out = append(out, placement.Broker{ID: b.NodeID, Rack: deref(b.Rack)})
	}
	slices.SortFunc(out, func(a, b placement.Broker) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// HintSuffix is ": hint", or nothing without a hint.
func HintSuffix(h string) string {
	if h == "" {
		return ""
	}
	return ": " + h
}

// metadataMany issues one metadata request for topics through r and returns
// each topic's view (see metadataFrom); a topic Kafka answered with a
// non-retriable error goes to errs instead.
func (k *Client) metadataMany(ctx context.Context, r kmsg.Requestor, topics []string, errs map[string]error) (map[string]TopicMeta, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := metadataRequest(topics...).RequestWith(ctx, r)
	if err != nil {
		return nil, err
	}
	brokers := brokersOf(resp.Brokers)
	metas := make(map[string]TopicMeta, len(topics))
	for _, topic := range topics {
		metas[topic] = TopicMeta{Brokers: brokers}
	}
	for _, t := range resp.Topics {
		topic := deref(t.Topic)
		if _, asked := metas[topic]; !asked {
			continue
		}
		meta, err := topicMetaOf(t, brokers)
		if err != nil {
			errs[topic] = err
			continue
		}
		metas[topic] = meta
	}
	return metas, nil
}

// ConfigsMany issues one DescribeConfigs request for topics through r and
// returns each topic's dynamic configs (see configsFrom); a topic Kafka
// answered with an error other than UNKNOWN_TOPIC_OR_PARTITION goes to errs.
func (k *Client) ConfigsMany(ctx context.Context, r kmsg.Requestor, topics []string, errs map[string]error) (map[string]TopicConfigs, error) {
	ctx, cancel := k.WithTimeout(ctx)
	defer cancel()
	resp, err := topicConfigsRequest(topics...).RequestWith(ctx, r)
	if err != nil {
		return nil, err
	}
	configs := make(map[string]TopicConfigs, len(topics))
	for _, rc := range resp.Resources {
		cfg, err := topicConfigsOf(rc)
		if err != nil {
			errs[rc.ResourceName] = err
			continue
		}
		configs[rc.ResourceName] = cfg
	}
	return configs, nil
}

// topicConfigsOf reads one resource of a DescribeConfigs answer.
func topicConfigsOf(rc kmsg.DescribeConfigsResponseResource) (TopicConfigs, error) {
	if err := kerr.ErrorForCode(rc.ErrorCode); err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return TopicConfigs{}, nil
		}
		return TopicConfigs{}, TopicError(rc.ResourceName, "DescribeConfigs", err, deref(rc.ErrorMessage))
	}
	cfg := TopicConfigs{Exists: true, Dynamic: map[string]string{}}
	for _, c := range rc.Configs {
		if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			cfg.Dynamic[c.Name] = deref(c.Value)
		}
	}
	return cfg, nil
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
