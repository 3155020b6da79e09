package provider

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
