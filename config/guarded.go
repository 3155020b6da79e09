package config

import (
	"fmt"
	"strconv"
)

// GuardedField is one field whose change on a live cluster a plain update cannot
// apply. The program compares its value with the stack's last deployment and
// refuses a change unless guardOverrides names the field (program/guard.go).
type GuardedField struct {
	// Field is the config path, as written in guardOverrides and in the README's
	// "Guarded changes" table.
	Field string
	// Why says what breaks if the change were applied by an update.
	Why string
	// ByHand says how to make the change safely by hand (then override the guard
	// for one update), or to restore the value.
	ByHand string
	// Value reads the field's deployed value from a spec, as recorded in the
	// stack's guarded output.
	Value func(*Spec) string
	// Refused says whether a change from prev to next is refused; nil means any
	// change is. brokers refuses only a decrease.
	Refused func(prev, next string) bool
	// Unrecorded is the value a stack deployed before this field was guarded
	// ran with, for a deployed stack whose recorded values lack the field;
	// "" means unknown, and such a stack's first update is not checked.
	Unrecorded string
	// Checked marks a field whose refusal the program lifts by itself when the
	// live cluster shows the change is safe (program/guard.go runs the check).
	Checked bool
}

// Refuses reports whether changing the field from prev to next is refused
// (before any override or live check).
func (g GuardedField) Refuses(prev, next string) bool {
	if prev == next {
		return false
	}
	return g.Refused == nil || g.Refused(prev, next)
}

// Advice is the text a refused change prints after the field's old and new values.
func (g GuardedField) Advice() string { return g.Why + ". " + g.ByHand }

// Guarded is the one table of guarded fields, sorted by Field: the KRaft quorum
// (static voters), the cluster id (storage is formatted with it), the PVC
// template (immutable in a StatefulSet) and the security mode (every
// listener changes at once). broker.minInsyncReplicas is guarded
// too: Kafka 4.1 copies it into a cluster-wide dynamic default when the cluster
// first starts, and that default outranks server.properties afterwards, so a
// changed file would silently change nothing (tests/realkafka pins this).
// README.md's "Guarded changes" table lists the same fields (a test checks it).
var Guarded = []GuardedField{
	{
		Field: "broker.minInsyncReplicas",
		Why: "Kafka 4.1 keeps min.insync.replicas as a cluster-wide dynamic default set when the cluster first started; " +
			"a changed server.properties would change nothing",
		ByHand: "Set it on the live cluster first " +
			"(kafka-configs.sh --bootstrap-server kafka.umbrella-streaming.svc:9092 --alter --entity-type brokers --entity-default " +
			"--add-config min.insync.replicas=<n>), then set guardOverrides: [broker.minInsyncReplicas] for one update",
		Value: func(s *Spec) string { return fmt.Sprint(s.Broker.MinInsyncReplicas) },
	},
	{
		Field: BrokersField,
		Why: "with topics.manager = job (the provider's drain moves the data first otherwise), the broker pods removed would take their partition replicas with them " +
			"(partitions under-replicated, or offline where they held the last copies)",
		ByHand: "Move every replica off the brokers being removed first " +
			"(kafka-reassign-partitions.sh --generate --broker-list 0,...,<brokers-1> --topics-to-move-json-file <all topics>, " +
			"then --execute and --verify); the preview checks the live cluster and lets the change through once they hold nothing. " +
			"guardOverrides: [brokers] skips the check for one update. Raising brokers is never refused",
		Value:   func(s *Spec) string { return fmt.Sprint(s.Brokers) },
		Refused: func(prev, next string) bool { return atoi(next) < atoi(prev) },
		Checked: true,
	},
	{
		Field:  "clusterId",
		Why:    "every broker's storage is formatted with the cluster id; a new id makes the brokers refuse their own data",
		ByHand: "Restore the previous value (a new cluster needs a new stack and new volumes)",
		Value:  func(s *Spec) string { return s.ClusterID },
	},
	{
		Field: ControllersField,
		Why: "with topics.manager = job (with the provider, the program changes the quorum's voters around the roll), " +
			"the nodes would roll to a voter set the running quorum does not have, which splits or orphans it",
		ByHand: "Restore the previous value and add broker-only pods with `brokers` instead; to resize the quorum, " +
			"switch to topics.manager: provider for the update, or do it by hand: kafka-features upgrade --feature kraft.version=1, " +
			"roll the nodes to their new roles, then kafka-metadata-quorum add-controller/remove-controller, " +
			"then set guardOverrides: [controllers] for one update",
		Value: func(s *Spec) string { return fmt.Sprint(s.Controllers) },
	},
	{
		Field: SecurityModeField,
		Why: "security.mode changes every listener at once (the controller quorum's too), so a rolling restart would leave " +
			"nodes on the old listeners unable to reach those on the new ones: the quorum splits, and clients on the old " +
			"protocol are refused",
		ByHand: "Plan a short outage: stop every broker " +
			"(kubectl -n umbrella-streaming scale statefulset kafka --replicas=0, then wait until no kafka pod runs), " +
			"set guardOverrides: [security.mode] and run pulumi up (the pods start together on the new listeners, then the " +
			"service users and ACLs are created), switch the clients to their new bootstrap settings and credentials " +
			"Secrets, and remove the override",
		Value: func(s *Spec) string { return s.Security.Mode },
		// Stacks deployed before issue 16 ran plaintext.
		Unrecorded: SecurityNone,
	},
	{
		Field: "storage.size",
		Why:   "a StatefulSet's volumeClaimTemplates cannot change in place, and replacing the StatefulSet must not touch the volumes",
		ByHand: "Resize each PVC (kubectl -n umbrella-streaming patch pvc data-kafka-N -p '{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"<size>\"}}}}', " +
			"needs a StorageClass with allowVolumeExpansion), delete the StatefulSet keeping its pods and volumes " +
			"(kubectl -n umbrella-streaming delete statefulset kafka --cascade=orphan), run `pulumi refresh`, " +
			"then set guardOverrides: [storage.size] for one update",
		Value: func(s *Spec) string { return s.Storage.Size },
	},
	{
		Field:  "storage.storageClass",
		Why:    "a StatefulSet's volumeClaimTemplates cannot change in place and existing volumes keep their class",
		ByHand: "Restore the previous value, or migrate the data to a new stack",
		Value: func(s *Spec) string {
			return orMarker(s.Storage.StorageClass)
		},
		// Stacks deployed before the marker recorded "" (if anything).
		Refused: func(prev, next string) bool { return orMarker(prev) != orMarker(next) },
	},
}

// ClusterDefaultStorageClass is how an unset storage.storageClass is recorded:
// the engine drops an empty string from the stack's outputs, so "" would read
// back as "never deployed" and a later change would pass unguarded. Parentheses
// cannot occur in a StorageClass name.
const ClusterDefaultStorageClass = "(cluster default)"

func orMarker(class string) string {
	if class == "" {
		return ClusterDefaultStorageClass
	}
	return class
}

// SecurityModeField is the guarded security.mode.
const SecurityModeField = "security.mode"

// ControllersField is the guarded controllers count.
const ControllersField = "controllers"

// BrokersField is the guarded field whose decrease the program checks against
// the live cluster.
const BrokersField = "brokers"

// atoi reads a recorded count; a value that is not a number reads as 0.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// GuardedFields returns the names of the guarded fields, in Guarded's order.
func GuardedFields() []string {
	out := make([]string, len(Guarded))
	for i, g := range Guarded {
		out[i] = g.Field
	}
	return out
}

// GuardedValues returns every guarded field's value in s, keyed by field.
func GuardedValues(s *Spec) map[string]string {
	out := make(map[string]string, len(Guarded))
	for _, g := range Guarded {
		out[g.Field] = g.Value(s)
	}
	return out
}
