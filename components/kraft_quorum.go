package components

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
)

// QuorumType is the component token of the KRaft quorum's membership.
const QuorumType = "umbrella:streaming:Quorum"

// KraftQuorum modes (umbrellakafka:index:KraftQuorum).
const (
	QuorumShrink = "shrink"
	QuorumGrow   = "grow"
)

// Quorum keeps the KRaft quorum's voters equal to the stack's controllers on
// both sides of the StatefulSet, so a change of `controllers` is one update:
// the shrink runs before the StatefulSet and demotes the controllers that go
// while they still run (and, on a stack deployed with a static quorum,
// finalizes kraft.version 1 first); the StatefulSet then rolls every node to
// its new roles and the new controller.quorum.bootstrap.servers; the grow
// runs after it and promotes the new controllers once they follow the
// metadata log. Both do nothing when the voters already match.
type Quorum struct {
	pulumi.ResourceState
	// Shrink is what the StatefulSet depends on.
	Shrink *umbrellakafka.KraftQuorum
	// Voters are the controllers' node ids.
	Voters pulumi.IntArrayOutput `pulumi:"voters"`

	name string
	spec *config.Spec
	prov *umbrellakafka.Provider
}

// BuildKraftQuorum returns one KraftQuorum's arguments: the spec's
// controllers as voters, each with its advertised controller listener.
func BuildKraftQuorum(s *config.Spec, mode string) *umbrellakafka.KraftQuorumArgs {
	net := KubernetesNetwork(s.Namespace)
	voters := pulumi.IntArray{}
	endpoints := pulumi.StringMap{}
	for _, id := range s.ControllerIDs() {
		voters = append(voters, pulumi.Int(id))
		endpoints[strconv.Itoa(id)] = pulumi.String(fmt.Sprintf("%s:%d", net.Host(id), net.ControllerPort(id)))
	}
	return &umbrellakafka.KraftQuorumArgs{
		Voters:              voters,
		ControllerEndpoints: endpoints,
		ControllerListener:  pulumi.StringPtr(ControllerListener),
		Mode:                pulumi.String(mode),
		// A stack migrated from a static quorum (no bootstrap voters) finalizes
		// kraft.version 1 before any node rolls; a no-op once it is 1, and
		// never needed by a cluster formatted dynamic.
		EnableDynamic: pulumi.BoolPtr(mode == QuorumShrink && s.Quorum.BootstrapControllers == 0),
	}
}

// ManagesQuorum reports whether the program keeps the quorum's voters: with
// the Kafka admin connection (it reaches Kafka) on a dynamic quorum.
func ManagesQuorum(s *config.Spec) bool {
	return s.Quorum.Dynamic && s.TopicManager == config.TopicManagerProvider
}

// NewQuorum registers the component and its shrink, through the Kafka
// admin connection.
func NewQuorum(ctx *pulumi.Context, name string, s *config.Spec, admin *KafkaAdmin, opts ...pulumi.ResourceOption) (*Quorum, error) {
	prov := admin.Provider
	c := &Quorum{name: name, spec: s, prov: prov}
	if err := ctx.RegisterComponentResource(QuorumType, name, c, opts...); err != nil {
		return nil, err
	}
	shrink, err := umbrellakafka.NewKraftQuorum(ctx, name+"-"+QuorumShrink, BuildKraftQuorum(s, QuorumShrink),
		pulumi.Parent(c), pulumi.Provider(prov))
	if err != nil {
		return nil, fmt.Errorf("quorum %s: shrink: %w", name, err)
	}
	c.Shrink = shrink
	return c, nil
}

// Grow registers the grow after brokers (the StatefulSet) and the
// component's outputs.
func (c *Quorum) Grow(ctx *pulumi.Context, brokers pulumi.Resource) error {
	if _, err := umbrellakafka.NewKraftQuorum(ctx, c.name+"-"+QuorumGrow, BuildKraftQuorum(c.spec, QuorumGrow),
		pulumi.Parent(c), pulumi.Provider(c.prov), pulumi.DependsOn([]pulumi.Resource{brokers})); err != nil {
		return fmt.Errorf("quorum %s: grow: %w", c.name, err)
	}
	ids := pulumi.IntArray{}
	for _, id := range c.spec.ControllerIDs() {
		ids = append(ids, pulumi.Int(id))
	}
	c.Voters = ids.ToIntArrayOutput()
	return ctx.RegisterResourceOutputs(c, pulumi.Map{"voters": c.Voters})
}
