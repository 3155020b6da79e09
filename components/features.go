package components

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/sdk/go/umbrellakafka"
)

// FeaturesType is the component token of the cluster's Kafka software and
// metadata version.
const FeaturesType = "umbrella:streaming:Features"

// ClusterFeatures modes (umbrellakafka:index:ClusterFeatures).
const (
	FeaturesGuard    = "guard"
	FeaturesFinalize = "finalize"
)

// Features makes a Kafka upgrade one stack setting (kafka.version) and the
// metadata version another (kafka.metadataVersion), on both sides of the
// StatefulSet: the guard runs before it and refuses, before any pod rolls,
// software that cannot run the cluster's finalized metadata version and a
// metadata change in the same update as a software change; the StatefulSet
// rolls the pods one at a time; the finalize runs after it and sets the
// metadata version once every broker supports it.
type Features struct {
	pulumi.ResourceState
	// Guard is what the StatefulSet depends on.
	Guard *umbrellakafka.ClusterFeatures
	// MetadataVersion is the finalized metadata.version as the finalize
	// step last read it, e.g. "27 (4.1)".
	MetadataVersion pulumi.StringOutput `pulumi:"metadataVersion"`

	name string
	spec *config.Spec
	prov *umbrellakafka.Provider
}

// BuildClusterFeatures returns one ClusterFeatures' arguments.
func BuildClusterFeatures(s *config.Spec, mode string) *umbrellakafka.ClusterFeaturesArgs {
	args := &umbrellakafka.ClusterFeaturesArgs{
		SoftwareVersion: pulumi.String(s.Kafka.Version),
		Mode:            pulumi.String(mode),
	}
	if s.Kafka.MetadataVersion != "" {
		args.MetadataVersion = pulumi.StringPtr(s.Kafka.MetadataVersion)
	}
	if mode == FeaturesGuard {
		args.RollOrder = pulumi.ToStringArray(RollOrder(s))
	}
	return args
}

// NewFeatures registers the component and its guard, through the Kafka admin
// connection.
func NewFeatures(ctx *pulumi.Context, name string, s *config.Spec, admin *KafkaAdmin, opts ...pulumi.ResourceOption) (*Features, error) {
	c := &Features{name: name, spec: s, prov: admin.Provider}
	if err := ctx.RegisterComponentResource(FeaturesType, name, c, opts...); err != nil {
		return nil, err
	}
	guard, err := umbrellakafka.NewClusterFeatures(ctx, name+"-"+FeaturesGuard, BuildClusterFeatures(s, FeaturesGuard),
		pulumi.Parent(c), pulumi.Provider(c.prov))
	if err != nil {
		return nil, fmt.Errorf("features %s: guard: %w", name, err)
	}
	c.Guard = guard
	return c, nil
}

// Finalize registers the finalize step after brokers (the StatefulSet) and
// the component's outputs.
func (c *Features) Finalize(ctx *pulumi.Context, brokers pulumi.Resource) error {
	fin, err := umbrellakafka.NewClusterFeatures(ctx, c.name+"-"+FeaturesFinalize, BuildClusterFeatures(c.spec, FeaturesFinalize),
		pulumi.Parent(c), pulumi.Provider(c.prov), pulumi.DependsOn([]pulumi.Resource{brokers}))
	if err != nil {
		return fmt.Errorf("features %s: finalize: %w", c.name, err)
	}
	c.MetadataVersion = fin.FinalizedMetadataVersion
	return ctx.RegisterResourceOutputs(c, pulumi.Map{"metadataVersion": c.MetadataVersion})
}
