package program

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// GuardOutput is the stack output recording the guarded fields' deployed values.
const GuardOutput = "guarded"

// GuardValues are the current values of config.Guarded, as exported.
func GuardValues(s *config.Spec) pulumi.StringMap {
	m := pulumi.StringMap{}
	for k, v := range guardValues(s) {
		m[k] = pulumi.String(v)
	}
	return m
}

func guardValues(s *config.Spec) map[string]string {
	return map[string]string{
		"broker.minInsyncReplicas": fmt.Sprint(s.Broker.MinInsyncReplicas),
		"clusterId":                s.ClusterID,
		"controllers":              fmt.Sprint(s.Controllers),
		"storage.size":             s.Storage.Size,
		"storage.storageClass":     s.Storage.StorageClass,
	}
}

// guardAdvice says why each guarded field cannot change by a plain update and what
// to do instead.
var guardAdvice = map[string]string{
	"broker.minInsyncReplicas": "Kafka 4.1 keeps min.insync.replicas as a cluster-wide dynamic default set when the cluster first started; " +
		"a changed server.properties would change nothing. Set it on the live cluster first " +
		"(kafka-configs.sh --bootstrap-server kafka.umbrella-streaming.svc:9092 --alter --entity-type brokers --entity-default " +
		"--add-config min.insync.replicas=<n>), then set guardOverrides: [broker.minInsyncReplicas] for one update",
	"clusterId": "every broker's storage is formatted with the cluster id; a new id makes the brokers refuse their own data. " +
		"Restore the previous value (a new cluster needs a new stack and new volumes)",
	"controllers": "the KRaft quorum is a static voter set; changing it on a live cluster splits or orphans the quorum. " +
		"Restore the previous value and add broker-only pods with `brokers` instead; to really resize the quorum, " +
		"migrate to a dynamic quorum (kafka-features upgrade --feature kraft.version=1, then kafka-metadata-quorum add-controller/remove-controller), " +
		"then set guardOverrides: [controllers] for one update",
	"storage.size": "a StatefulSet's volumeClaimTemplates cannot change in place, and replacing the StatefulSet must not touch the volumes. " +
		"Resize each PVC (kubectl -n umbrella-streaming patch pvc data-kafka-N -p '{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"<size>\"}}}}', " +
		"needs a StorageClass with allowVolumeExpansion), delete the StatefulSet keeping its pods and volumes " +
		"(kubectl -n umbrella-streaming delete statefulset kafka --cascade=orphan), run `pulumi refresh`, " +
		"then set guardOverrides: [storage.size] for one update",
	"storage.storageClass": "a StatefulSet's volumeClaimTemplates cannot change in place and existing volumes keep their class. " +
		"Restore the previous value, or migrate the data to a new stack",
}

// GuardViolations compares the previously deployed guarded values with the new spec
// and returns one message per changed field that is not overridden, sorted.
// previous is empty for a stack that was never deployed.
func GuardViolations(previous map[string]string, s *config.Spec) []string {
	current := guardValues(s)
	var out []string
	for _, field := range config.Guarded {
		prev, ok := previous[field]
		if !ok || prev == current[field] {
			continue
		}
		if contains(s.GuardOverrides, field) {
			continue
		}
		out = append(out, fmt.Sprintf("%s changed from %q to %q on a deployed stack: %s", field, prev, current[field], guardAdvice[field]))
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// GuardError is returned when a guarded field changed.
type GuardError struct{ Violations []string }

func (e *GuardError) Error() string {
	return fmt.Sprintf("%s: refusing a change that cannot be applied safely; nothing was deployed:\n  - %s",
		config.Project, strings.Join(e.Violations, "\n  - "))
}

// CheckGuard reads this stack's own last outputs through a StackReference and
// refuses changes to guarded fields, before any other resource is registered. It
// runs at preview, so a PR preview shows the refusal.
func CheckGuard(ctx *pulumi.Context, s *config.Spec) error {
	self := fmt.Sprintf("%s/%s/%s", ctx.Organization(), ctx.Project(), ctx.Stack())
	ref, err := pulumi.NewStackReference(ctx, "previous-deployment", &pulumi.StackReferenceArgs{Name: pulumi.String(self)})
	if err != nil {
		return fmt.Errorf("guard: reading the stack's previous outputs: %w", err)
	}
	// GetOutputDetails waits for the read. On a stack that was never deployed, the
	// output is absent (or unknown during a first preview) and Value is nil.
	details, err := ref.GetOutputDetails(GuardOutput)
	if err != nil {
		return fmt.Errorf("guard: reading the stack's previous outputs (%s): %w", self, err)
	}
	prev := map[string]string{}
	if m, ok := details.Value.(map[string]any); ok {
		for k, x := range m {
			prev[k] = fmt.Sprint(x)
		}
	}
	if v := GuardViolations(prev, s); len(v) > 0 {
		return &GuardError{Violations: v}
	}
	return nil
}
