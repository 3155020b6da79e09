package provider

import (
	"context"
	"fmt"
	"maps"

	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// matchesInputs checks, after a CreateTopics whose answer was lost, that the
// topic Kafka has is the one the inputs ask for: same partitions, replication
// factor and dynamic configs. It returns an error saying what differs.
func matchesInputs(ctx context.Context, k *kafkaadmin.Client, in TopicArgs) error {
	meta, broker, err := k.Lookup(ctx, in.Name)
	if err != nil {
		return err
	}
	if !meta.Exists {
		return fmt.Errorf("topic %q: CreateTopics said it exists but metadata does not show it "+
			"(it may be being deleted): retry the update", in.Name)
	}
	cfg, err := k.ConfigsFrom(ctx, k.Broker(broker), in.Name)
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
