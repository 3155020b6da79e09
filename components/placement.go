package components

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
)

// PlacementType is the component token of the replica placement.
const PlacementType = "umbrella:streaming:Placement"

// Placement modes of umbrellakafka:index:ReplicaPlacement.
const (
	PlacementDrain   = "drain"
	PlacementBalance = "balance"
)

// PlacementThrottleBytesPerSecond bounds each broker's replication traffic
// while replicas move (both ways): enough to move a dev or prod cluster's
// topics in minutes, low enough that producers keep most of a broker's
// network and disk.
const PlacementThrottleBytesPerSecond = 50 << 20

// Placement keeps every partition replica on the brokers the stack has, on
// both sides of the StatefulSet, so a change of `brokers` moves the data in
// the same update: the drain runs before the StatefulSet and empties the
// brokers a decrease removes (the pods go only after); the balance runs
// after it and spreads the replicas and preferred leaders over every broker,
// the ones an increase added included. Both do nothing when nothing is
// misplaced, and a move an interrupted update left running is finished by
// the next one.
type Placement struct {
	pulumi.ResourceState
	// Drain is what the StatefulSet depends on.
	Drain *umbrellakafka.ReplicaPlacement
	// Brokers is the broker count the placement keeps the replicas on.
	Brokers pulumi.IntOutput `pulumi:"brokers"`

	name string
	spec *config.Spec
	prov *umbrellakafka.Provider
}

// BuildReplicaPlacement returns one placement resource's arguments.
func BuildReplicaPlacement(s *config.Spec, mode string) *umbrellakafka.ReplicaPlacementArgs {
	return &umbrellakafka.ReplicaPlacementArgs{
		Brokers:                pulumi.Int(s.Brokers),
		Mode:                   pulumi.String(mode),
		ThrottleBytesPerSecond: pulumi.IntPtr(PlacementThrottleBytesPerSecond),
	}
}

// NewPlacement registers the component and its drain, through the Kafka
// admin connection.
func NewPlacement(ctx *pulumi.Context, name string, s *config.Spec, admin *KafkaAdmin, opts ...pulumi.ResourceOption) (*Placement, error) {
	prov := admin.Provider
	c := &Placement{name: name, spec: s, prov: prov}
	if err := ctx.RegisterComponentResource(PlacementType, name, c, opts...); err != nil {
		return nil, err
	}
	drain, err := umbrellakafka.NewReplicaPlacement(ctx, name+"-"+PlacementDrain, BuildReplicaPlacement(s, PlacementDrain),
		pulumi.Parent(c), pulumi.Provider(prov))
	if err != nil {
		return nil, fmt.Errorf("placement %s: drain: %w", name, err)
	}
	c.Drain = drain
	return c, nil
}

// Balance registers the balance after brokers (the StatefulSet) and the
// component's outputs.
func (c *Placement) Balance(ctx *pulumi.Context, brokers pulumi.Resource) error {
	if _, err := umbrellakafka.NewReplicaPlacement(ctx, c.name+"-"+PlacementBalance, BuildReplicaPlacement(c.spec, PlacementBalance),
		pulumi.Parent(c), pulumi.Provider(c.prov), pulumi.DependsOn([]pulumi.Resource{brokers})); err != nil {
		return fmt.Errorf("placement %s: balance: %w", c.name, err)
	}
	c.Brokers = pulumi.Int(c.spec.Brokers).ToIntOutput()
	return ctx.RegisterResourceOutputs(c, pulumi.Map{"brokers": c.Brokers})
}
