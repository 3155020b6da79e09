package program

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
)

// GuardOutput is the stack output recording the guarded fields' deployed values.
const GuardOutput = "guarded"

// DeployerTLSOutput is the secret stack output holding the deployer's mTLS
// identity in secure mode (caCert, clientCert, clientKey): the guard's live
// check reads it back from the previous deployment, since the certificates
// exist only in the state.
const DeployerTLSOutput = "deployerTls"

// DeployerTLS is the deployer's identity as PEM text.
type DeployerTLS struct{ CACert, ClientCert, ClientKey string }

// GuardValues are the current values of config.Guarded, as exported.
func GuardValues(s *config.Spec) pulumi.StringMap {
	m := pulumi.StringMap{}
	for k, v := range config.GuardedValues(s) {
		m[k] = pulumi.String(v)
	}
	return m
}

// BrokerCheck returns, for each broker id in removed that still holds replicas,
// the partitions with a replica on it (kafkaadmin's ReplicasOnBrokers on the live
// cluster; a fake in unit tests).
// tls is the deployer's identity in secure mode (nil in plaintext mode).
type BrokerCheck func(ctx context.Context, s *config.Spec, tls *DeployerTLS, removed []int32) (map[int32][]string, error)

// LiveBrokerCheck asks the running cluster, reached the way the Kafka admin provider
// reaches it (Connection), which of the removed brokers hold replicas.
func LiveBrokerCheck(ctx context.Context, s *config.Spec, tls *DeployerTLS, removed []int32) (map[int32][]string, error) {
	if s.Secure() && tls == nil {
		return nil, fmt.Errorf("security.mode is %s but the last deployment exported no %s output to connect with: "+
			"run `pulumi up` once without lowering brokers, then lower it", s.Security.Mode, DeployerTLSOutput)
	}
	cl, err := kafkaadmin.New(Connection(s, tls))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return cl.ReplicasOnBrokers(ctx, removed)
}

// Connection is the connection of the program's pre-flight reads: the one
// description the Kafka admin provider's settings are made from
// (components.KafkaConnection), with the deployer's identity in secure mode
// (tls; nil in plaintext mode).
func Connection(s *config.Spec, tls *DeployerTLS) kafkaadmin.Connection {
	conn := components.KafkaConnection(s)
	if tls != nil {
		conn.TLS = &kafkaadmin.TLS{CACert: tls.CACert, ClientCert: tls.ClientCert, ClientKey: tls.ClientKey}
	}
	return conn
}

// noLiveCheck is the check where the program must not dial the cluster (render).
func noLiveCheck(context.Context, *config.Spec, *DeployerTLS, []int32) (map[int32][]string, error) {
	return nil, fmt.Errorf("rendering manifests does not reach the cluster")
}

// GuardResult is what the guard found: refusals, and notes on checked changes
// the live cluster showed to be safe.
type GuardResult struct {
	Violations []string
	Notes      []string
}

// GuardViolations compares the previously deployed guarded values with the new spec
// and returns one message per refused change that is not overridden, sorted. Each
// message carries the field's advice from config.Guarded. A refused change of a
// Checked field (a brokers decrease) is let through when check shows the brokers
// to be removed hold no replicas. previous is empty for a stack that was never
// deployed.
func GuardViolations(ctx context.Context, previous map[string]string, s *config.Spec, check BrokerCheck) GuardResult {
	var r GuardResult
	for _, g := range config.Guarded {
		prev, ok := previous[g.Field]
		if !ok && len(previous) > 0 && g.Unrecorded != "" {
			// Deployed before the field was recorded: it ran with Unrecorded.
			prev, ok = g.Unrecorded, true
		}
		current := g.Value(s)
		if !ok || !g.Refuses(prev, current) || slices.Contains(s.GuardOverrides, g.Field) {
			continue
		}
		changed := fmt.Sprintf("%s changed from %q to %q on a deployed stack", g.Field, prev, current)
		if g.Field == config.BrokersField && s.TopicManager == config.TopicManagerProvider {
			// The ReplicaPlacement drain (components.NewPlacement) empties the
			// brokers before the StatefulSet shrinks, and its preview refuses a
			// drain the remaining brokers cannot hold.
			r.Notes = append(r.Notes, drainNote(s, prev, changed))
			continue
		}
		if g.Field == config.ControllersField && s.TopicManager == config.TopicManagerProvider {
			// components.Quorum removes voters before the roll and adds them
			// after it; the KraftQuorum preview logs the steps.
			r.Notes = append(r.Notes, changed+": the KRaft quorum follows: voters that go are removed before the nodes "+
				"roll to their new roles, new controllers are added as voters after (one at a time; see the KraftQuorum plan)")
			continue
		}
		if !g.Checked {
			r.Violations = append(r.Violations, changed+": "+g.Advice())
			continue
		}
		if note, refusal := checkBrokersRemoved(ctx, s, prev, check, changed, g); refusal != "" {
			r.Violations = append(r.Violations, refusal)
		} else {
			r.Notes = append(r.Notes, note)
		}
	}
	sort.Strings(r.Violations)
	return r
}

// checkBrokersRemoved runs the live check for a brokers decrease from prev to
// s.Brokers: a note when the brokers to be removed are empty, else a refusal.
func checkBrokersRemoved(ctx context.Context, s *config.Spec, prev string, check BrokerCheck, changed string, g config.GuardedField) (note, refusal string) {
	from, _ := strconv.Atoi(prev)
	var removed []int32
	for id := s.Brokers; id < from; id++ {
		removed = append(removed, int32(id))
	}
	names := brokerList(removed)
	held, err := check(ctx, s, nil, removed)
	if err != nil {
		return "", fmt.Sprintf("%s, and whether any partition replica is left on %s could not be checked (%v): run the preview "+
			"where the brokers are reachable (topics.access: kubernetes reaches them through the Kubernetes API), or, having "+
			"moved every replica off, set guardOverrides: [%s] for one update", changed, names, err, g.Field)
	}
	if len(held) == 0 {
		return fmt.Sprintf("%s: no partition replica is left on %s; removing the pods, keeping the volumes (%s)",
			changed, names, volumeList(removed)), ""
	}
	var parts []string
	for _, id := range removed {
		if p := held[int32(id)]; len(p) > 0 {
			parts = append(parts, fmt.Sprintf("broker %d holds %d (%s)", id, len(p), sample(p, 5)))
		}
	}
	return "", fmt.Sprintf("%s while %s: %s. %s", changed, strings.Join(parts, "; "), g.Why, g.ByHand)
}

// brokerList names broker ids for a message: "broker 3" or "brokers 3, 4".
func brokerList(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	if len(ids) == 1 {
		return "broker " + s[0]
	}
	return "brokers " + strings.Join(s, ", ")
}

// volumeList names the retained data volumes of the removed brokers.
func volumeList(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = components.DataPVCName(int(id))
	}
	return strings.Join(s, ", ")
}

// sample lists at most n items and how many more there are.
func sample(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// GuardError is returned when a guarded field changed.
type GuardError struct{ Violations []string }

func (e *GuardError) Error() string {
	return fmt.Sprintf("%s: refusing a change that cannot be applied safely; nothing was deployed:\n  - %s",
		config.Project, strings.Join(e.Violations, "\n  - "))
}

// Previous is what the stack's last deployment exported that this update
// builds on; the zero value is a stack that was never deployed.
type Previous struct {
	// Guarded are the guarded fields' deployed values (GuardOutput).
	Guarded map[string]string
	// Quorum is the quorum record (QuorumOutput).
	Quorum map[string]string
	// RetainedVolumes are the data volumes removed brokers left (RetainedVolumesOutput).
	RetainedVolumes []string
	// DeployerTLS is the deployer's identity in secure mode, else nil.
	DeployerTLS *DeployerTLS
}

// ReadPrevious reads this stack's own last outputs through a StackReference,
// before any other resource is registered. On a stack that was never
// deployed the outputs are absent (or unknown during a first preview).
func ReadPrevious(ctx *pulumi.Context) (Previous, error) {
	self := fmt.Sprintf("%s/%s/%s", ctx.Organization(), ctx.Project(), ctx.Stack())
	ref, err := pulumi.NewStackReference(ctx, "previous-deployment", &pulumi.StackReferenceArgs{Name: pulumi.String(self)})
	if err != nil {
		return Previous{}, fmt.Errorf("guard: reading the stack's previous outputs: %w", err)
	}
	var prev Previous
	read := func(name string) (any, error) {
		// GetOutputDetails waits for the read.
		d, err := ref.GetOutputDetails(name)
		if err != nil {
			return nil, fmt.Errorf("guard: reading the stack's previous outputs (%s): %w", self, err)
		}
		return d.Value, nil
	}
	for name, into := range map[string]*map[string]string{GuardOutput: &prev.Guarded, QuorumOutput: &prev.Quorum} {
		v, err := read(name)
		if err != nil {
			return Previous{}, err
		}
		*into = outputStrings(v)
	}
	volumes, err := read(RetainedVolumesOutput)
	if err != nil {
		return Previous{}, err
	}
	if list, ok := volumes.([]any); ok {
		for _, v := range list {
			prev.RetainedVolumes = append(prev.RetainedVolumes, fmt.Sprint(v))
		}
	}
	if prev.DeployerTLS, err = previousDeployerTLS(ref); err != nil {
		return Previous{}, fmt.Errorf("guard: reading the stack's previous outputs (%s): %w", self, err)
	}
	return prev, nil
}

// CheckGuard refuses changes to guarded fields against the previous
// deployment and logs the notes on the changes it lets through. It runs at
// preview, so a PR preview shows the refusal. check answers the live
// question a brokers decrease asks.
func CheckGuard(ctx *pulumi.Context, s *config.Spec, prev Previous, check BrokerCheck) error {
	r := GuardViolations(ctx.Context(), prev.Guarded, s, func(c context.Context, s *config.Spec, _ *DeployerTLS, removed []int32) (map[int32][]string, error) {
		return check(c, s, prev.DeployerTLS, removed)
	})
	for _, n := range r.Notes {
		_ = ctx.Log.Info(n, nil)
	}
	if len(r.Violations) > 0 {
		return &GuardError{Violations: r.Violations}
	}
	return nil
}

// outputStrings reads a map output as strings (empty when absent).
func outputStrings(v any) map[string]string {
	out := map[string]string{}
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			out[k] = fmt.Sprint(x)
		}
	}
	return out
}

// previousDeployerTLS reads DeployerTLSOutput from the previous deployment
// (a secret output); nil when there is none (plaintext mode, or never
// deployed).
func previousDeployerTLS(ref *pulumi.StackReference) (*DeployerTLS, error) {
	details, err := ref.GetOutputDetails(DeployerTLSOutput)
	if err != nil {
		return nil, err
	}
	m, ok := details.SecretValue.(map[string]any)
	if !ok {
		m, ok = details.Value.(map[string]any)
	}
	if !ok {
		return nil, nil
	}
	text := func(k string) string { v, _ := m[k].(string); return v }
	return &DeployerTLS{CACert: text("caCert"), ClientCert: text("clientCert"), ClientKey: text("clientKey")}, nil
}

// drainNote says what a brokers decrease does with the provider managing the
// topics: the drain moves every replica off the brokers first.
func drainNote(s *config.Spec, prev, changed string) string {
	from, _ := strconv.Atoi(prev)
	var removed []int32
	for id := s.Brokers; id < from; id++ {
		removed = append(removed, int32(id))
	}
	return fmt.Sprintf("%s: the update first moves every partition replica off %s (ReplicaPlacement drain), then removes "+
		"the pods, keeping the volumes (%s)", changed, brokerList(removed), volumeList(removed))
}
