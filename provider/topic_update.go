package provider

import (
	"context"
	"fmt"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// configsBeforeReplicas reports whether Update applies the config changes
// before changing the replication factor, so that no step in between
// refuses acks=all writes (NOT_ENOUGH_REPLICAS, when a partition has fewer
// in-sync replicas than min.insync.replicas). Lowering the replication factor
// may drop it below the current min.insync.replicas, so a lowered or removed
// min.insync.replicas goes first; raising it goes last, so that a raised
// min.insync.replicas finds the replicas already there.
func configsBeforeReplicas(currentRF, desiredRF int) bool { return desiredRF < currentRF }

// updateStepHook, when set (by tests), is called after each step of Update
// that Kafka accepted: "partitions", "replicationFactor" or "config".
var updateStepHook func(step string)

func updateStepDone(step string) {
	if updateStepHook != nil {
		updateStepHook(step)
	}
}

// Update changes the topic in place: more partitions via CreatePartitions, a
// new replication factor via partition reassignment, config via
// IncrementalAlterConfigs. First it asks Kafka to validate the partition and
// config changes without applying them, so that a refused config fails the
// update before any partition is added. The config changes go before a
// lowered replication factor and after a raised one, so that acks=all writes
// keep working between the steps (see configsBeforeReplicas). Each step compares against what Kafka reports now,
// so a retried update only does what is left, and returns once every broker
// shows its result. On a failure midway the state records the steps that
// Kafka accepted.
//
// It changes only what the preview shows: config keys of the inputs, and
// removal of keys the state recorded but the inputs lack. Keys set outside
// Pulumi (neither in the state nor in the inputs) are left alone with a
// warning. It refuses fewer partitions than Kafka has (raised outside
// Pulumi), and a replication factor change while a reassignment started
// outside Pulumi is in progress.
func (Topic) Update(ctx context.Context, req infer.UpdateRequest[TopicArgs, TopicState]) (
	infer.UpdateResponse[TopicState], error,
) {
	in, cur := req.Inputs, req.State
	if in.Partitions < cur.Partitions {
		return infer.UpdateResponse[TopicState]{}, partitionDecreaseError(cur.Name, cur.Partitions, in.Partitions)
	}
	if req.DryRun {
		return infer.UpdateResponse[TopicState]{Output: TopicState{in}}, nil
	}
	cl, err := infer.GetConfig[Config](ctx).client()
	if err != nil {
		return infer.UpdateResponse[TopicState]{}, err
	}
	meta, moves, err := checkUpdate(ctx, cl, cur.Name, in)
	if err != nil {
		return infer.UpdateResponse[TopicState]{}, err
	}
	u := &topicUpdate{ctx: ctx, cl: cl, topic: cur.Name, in: in, cur: cur, oldConfig: cur.Config}
	u.cur.Adopt = in.Adopt
	// Nothing is changed until Kafka has said it accepts every step.
	if err := cl.ValidateUpdate(ctx, u.topic, meta, in.Partitions, u.oldConfig, in.Config); err != nil {
		return infer.UpdateResponse[TopicState]{}, err
	}
	if err := u.apply(meta, moves); err != nil {
		// What Kafka accepted is recorded: a retry goes on from there.
		return infer.UpdateResponse[TopicState]{Output: u.cur}, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return infer.UpdateResponse[TopicState]{Output: u.cur}, nil
}

// checkUpdate reads the topic as Kafka has it and refuses an update Kafka
// could not carry out: a topic deleted outside Pulumi, fewer partitions than
// Kafka has, a replication-factor change while another reassignment of the
// topic runs, or more replicas than brokers.
func checkUpdate(ctx context.Context, cl *kafkaadmin.Client, topic string, in TopicArgs) (kafkaadmin.TopicMeta, kafkaadmin.Reassignment, error) {
	meta, _, err := cl.Lookup(ctx, topic)
	if err != nil {
		return meta, kafkaadmin.Reassignment{}, err
	}
	if !meta.Exists {
		return meta, kafkaadmin.Reassignment{}, fmt.Errorf("topic %q does not exist any more: it was deleted "+
			"outside Pulumi; run pulumi refresh, then pulumi up to create it again", topic)
	}
	if in.Partitions < meta.Partitions {
		return meta, kafkaadmin.Reassignment{}, partitionsRaisedError(topic, meta.Partitions, in.Partitions)
	}
	moves, err := cl.ReassignmentOf(ctx, topic, meta)
	if err != nil {
		return meta, moves, err
	}
	if moves.Moving > 0 && in.ReplicationFactor != moves.TargetRF {
		return meta, moves, kafkaadmin.ReassignmentInProgressError(topic, moves, in.ReplicationFactor)
	}
	if in.ReplicationFactor != moves.TargetRF && in.ReplicationFactor > len(meta.Brokers) {
		return meta, moves, fmt.Errorf("topic %q: %s", topic, rules.TopicReplicasAboveBrokers(in.ReplicationFactor, len(meta.Brokers)))
	}
	return meta, moves, nil
}

// topicUpdate carries one Update's steps; cur records each step as Kafka
// accepts it.
type topicUpdate struct {
	ctx       context.Context
	cl        *kafkaadmin.Client
	topic     string
	in        TopicArgs
	cur       TopicState
	oldConfig map[string]string
}

// apply runs the steps in the order that keeps acks=all writes accepted
// (configsBeforeReplicas): configs, partitions, replication factor, or
// partitions, replication factor, configs.
func (u *topicUpdate) apply(meta kafkaadmin.TopicMeta, moves kafkaadmin.Reassignment) error {
	configsFirst := configsBeforeReplicas(meta.ReplicationFactor, u.in.ReplicationFactor)
	if configsFirst {
		if err := u.reconcile(); err != nil {
			return err
		}
	}
	if u.in.Partitions > meta.Partitions {
		if err := u.addPartitions(); err != nil {
			return err
		}
	}
	u.cur.Partitions = u.in.Partitions
	if u.in.ReplicationFactor != moves.TargetRF {
		if err := u.changeReplicationFactor(); err != nil {
			return err
		}
	}
	u.cur.ReplicationFactor = u.in.ReplicationFactor
	if !configsFirst {
		return u.reconcile()
	}
	return nil
}

// reconcile brings the topic's configs to the inputs', warning about keys
// set outside Pulumi (left alone).
func (u *topicUpdate) reconcile() error {
	unmanaged, err := u.cl.ReconcileConfigs(u.ctx, u.topic, u.oldConfig, u.in.Config)
	if len(unmanaged) > 0 {
		p.GetLogger(u.ctx).Warning(kafkaadmin.UnmanagedWarning(u.topic, unmanaged))
	}
	if err != nil {
		return err
	}
	u.cur.Config = u.in.Config
	updateStepDone("config")
	return nil
}

// addPartitions raises the partition count and waits until every new
// partition is led.
func (u *topicUpdate) addPartitions() error {
	if err := u.cl.SetPartitions(u.ctx, u.topic, u.in.Partitions); err != nil {
		return err
	}
	u.cur.Partitions = u.in.Partitions
	if err := u.cl.WaitLed(u.ctx, u.topic, u.in.Partitions); err != nil {
		return err
	}
	updateStepDone("partitions")
	return nil
}

// changeReplicationFactor moves replicas to the new factor and waits until
// every replica is in sync.
func (u *topicUpdate) changeReplicationFactor() error {
	log := p.GetLogger(u.ctx)
	if err := u.cl.ChangeReplicationFactor(u.ctx, u.topic, u.in.ReplicationFactor, log.InfoStatus); err != nil {
		return err
	}
	u.cur.ReplicationFactor = u.in.ReplicationFactor
	if err := u.cl.WaitReassigned(u.ctx, u.topic, u.in.Partitions); err != nil {
		return err
	}
	log.Infof("topic %q: replication factor is now %d", u.topic, u.in.ReplicationFactor)
	updateStepDone("replicationFactor")
	return nil
}
