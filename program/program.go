// Package program is the whole Pulumi program as one importable function, so main.go,
// the unit tests (mocks) and the integration tests (Automation API inline programs)
// all run exactly the same code.
package program

import (
	"fmt"
	"path/filepath"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
)

// Options tune the program for its runner. The zero value is what `pulumi up` runs.
type Options struct {
	// ProjectDir is the folder holding Pulumi.yaml (for the image build context);
	// empty means the current directory.
	ProjectDir string
	// RenderDir, when set, renders every Kubernetes object as YAML into this folder
	// (the Kubernetes provider's renderYamlToDirectory) instead of applying it: the
	// GitOps path. Topics are then managed by the in-cluster Job (topics.manager job),
	// since no broker is dialled while rendering: the spec is validated in
	// config.ModeRender, which says so.
	RenderDir string
	// SkipGuard skips reading the stack's previous outputs (see guard.go). Only unit
	// tests that exercise other things set it.
	SkipGuard bool
	// BrokerCheck answers whether brokers to be removed still hold replicas;
	// nil means LiveBrokerCheck (the running cluster), or no check when rendering.
	BrokerCheck BrokerCheck
	// ConfigKeys lists every config key of the stack with its namespace
	// ("umbrella-streaming:brokers"), for runners where the program cannot list
	// them itself: an Automation API inline program (internal/deploy sets it).
	// nil: the program reads them from the Go language host (see
	// stackConfigKeys).
	ConfigKeys []string
}

// brokerCheck is the check these options use.
func (o Options) brokerCheck() BrokerCheck {
	switch {
	case o.BrokerCheck != nil:
		return o.BrokerCheck
	case o.RenderDir != "":
		return noLiveCheck
	}
	return LiveBrokerCheck
}

// Mode is the config.Mode these options run the program in: ModeRender with
// RenderDir, else ModeApply. The spec is validated for it and not changed after.
func (o Options) Mode() config.Mode {
	if o.RenderDir != "" {
		return config.ModeRender
	}
	return config.ModeApply
}

// LoadSpec reads and validates the stack config of ctx's stack for `pulumi up`.
func LoadSpec(ctx *pulumi.Context) (*config.Spec, error) { return LoadSpecWith(ctx, Options{}) }

// LoadSpecWith reads and validates the stack config of ctx's stack for these
// options: every key the stack sets (stackConfigKeys), in opts.Mode().
func LoadSpecWith(ctx *pulumi.Context, opts Options) (*config.Spec, error) {
	keys, err := stackConfigKeys(ctx, opts)
	if err != nil {
		return nil, err
	}
	return config.LoadFor(ctx.Stack(), configSource(ctx, keys), opts.Mode())
}

// Run is the Pulumi program: validate config (and log its warnings), check
// guarded fields against the last deployment, then register the components and
// export the outputs.
func Run(ctx *pulumi.Context) error { return RunWith(Options{})(ctx) }

// RunWith returns the program with options.
func RunWith(opts Options) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		s, err := LoadSpecWith(ctx, opts)
		if err != nil {
			return err
		}
		// Legal but risky settings: shown in the preview, not refused.
		for _, w := range config.Warnings(s) {
			if err := ctx.Log.Warn(w, nil); err != nil {
				return err
			}
		}
		// Rendering writes every object into YAML files: the brokers' TLS Secret
		// would hold its private key in clear there, and the service users and
		// ACLs are umbrellakafka resources, which rendering does not create.
		if opts.RenderDir != "" && s.Secure() {
			return fmt.Errorf("security.mode = %q cannot be rendered to YAML: the brokers' TLS Secret would hold its "+
				"private key in clear in the files, and the service users and ACLs are umbrellakafka resources that "+
				"rendering does not create; deploy this stack with pulumi up, or render a stack with security.mode = none",
				s.Security.Mode)
		}
		var prev Previous
		if !opts.SkipGuard {
			if prev, err = ReadPrevious(ctx); err != nil {
				return err
			}
			// The quorum's form is a fact of the deployed volumes, not of config.
			s.Quorum = ResolveQuorum(prev.Guarded, prev.Quorum, s)
			if err := CheckGuard(ctx, s, prev, opts.brokerCheck()); err != nil {
				return err
			}
		}
		return deploy(ctx, s, opts, prev)
	}
}

// Names of the components that own the Kafka admin connection and the topics.
const (
	KafkaAdminName = "kafka-admin"
	TopicsName     = "topics"
)

func deploy(ctx *pulumi.Context, s *config.Spec, opts Options, prev Previous) error {
	var base []pulumi.ResourceOption
	if opts.RenderDir != "" {
		render, err := kubernetes.NewProvider(ctx, "render", &kubernetes.ProviderArgs{
			RenderYamlToDirectory: pulumi.String(opts.RenderDir),
			// The SDK would default this from $KUBECONFIG, which the provider refuses
			// next to renderYamlToDirectory: rendering needs no cluster.
			Kubeconfig: pulumi.StringPtr(""),
		})
		if err != nil {
			return fmt.Errorf("render provider: %w", err)
		}
		base = append(base, pulumi.Providers(render))
	}
	ns, err := components.NewNamespace(ctx, "umbrella-streaming", s, base...)
	if err != nil {
		return err
	}
	inNS := append(append([]pulumi.ResourceOption{}, base...), pulumi.DependsOn([]pulumi.Resource{ns}))

	image := pulumi.String(s.Image.Name).ToStringOutput()
	if s.Image.Build {
		dir := filepath.Join(opts.ProjectDir, components.DefaultImageBuild)
		img, err := components.NewKafkaImage(ctx, "kafka-image", s, dir)
		if err != nil {
			return err
		}
		image = img.Ref
	}

	var sec *components.Security
	var deployer *components.ProviderTLS
	if s.Secure() {
		if sec, err = components.NewSecurity(ctx, "security", s, inNS...); err != nil {
			return err
		}
		deployer = sec.ProviderTLS
	}
	// The Kafka admin connection (topics.manager provider) runs the topics,
	// the placement, the quorum and the service access. Its provider was
	// "topics-kafka" under the Topics component before it had a component of
	// its own, and keeps that identity through an alias.
	var admin *components.KafkaAdmin
	if s.TopicManager == config.TopicManagerProvider {
		if admin, err = components.NewKafkaAdmin(ctx, KafkaAdminName, &components.KafkaAdminArgs{
			Spec: s, TLS: deployer, FormerTopics: TopicsName}, inNS...); err != nil {
			return err
		}
	}
	topics, err := components.NewTopics(ctx, TopicsName, &components.TopicsArgs{Spec: s, Image: image, Admin: admin}, inNS...)
	if err != nil {
		return err
	}
	// With the provider, replicas follow `brokers` in the same update: the
	// drain empties removed brokers before the StatefulSet shrinks, the
	// balance fills added ones after it grows (components.Placement).
	var placement *components.Placement
	var before []pulumi.Resource
	if admin != nil {
		if placement, err = components.NewPlacement(ctx, "placement", s, admin, inNS...); err != nil {
			return err
		}
		before = append(before, placement.Drain)
	}
	// The quorum follows `controllers` the same way: voters leave before the
	// nodes roll to their new roles, and join after (components.Quorum).
	var quorum *components.Quorum
	if components.ManagesQuorum(s) {
		if quorum, err = components.NewQuorum(ctx, "quorum", s, admin, inNS...); err != nil {
			return err
		}
		before = append(before, quorum.Shrink)
	}
	cluster, err := components.NewKafkaCluster(ctx, "kafka", &components.KafkaClusterArgs{Spec: s, Image: image, Security: sec, Before: before}, inNS...)
	if err != nil {
		return err
	}
	if _, err := components.NewBrokerPolicy(ctx, "kafka-policy", s, inNS...); err != nil {
		return err
	}
	if _, err := components.NewMonitoring(ctx, "kafka-monitoring", s, inNS...); err != nil {
		return err
	}
	if err := topics.Declare(ctx, cluster.StatefulSet); err != nil {
		return err
	}
	if placement != nil {
		if err := placement.Balance(ctx, cluster.StatefulSet); err != nil {
			return err
		}
	}
	if quorum != nil {
		if err := quorum.Grow(ctx, cluster.StatefulSet); err != nil {
			return err
		}
	}
	// The lag exporter reads offsets once the brokers run; on a secure stack
	// it logs in with the credentials ServiceAccess writes for it.
	exporterDeps := []pulumi.Resource{ns, cluster.StatefulSet}
	if s.Secure() {
		access := append(append([]pulumi.ResourceOption{}, base...), pulumi.DependsOn([]pulumi.Resource{ns, cluster.StatefulSet}))
		users, err := components.NewServiceAccess(ctx, "service-access", &components.ServiceAccessArgs{
			Spec: s, Admin: admin, CACert: sec.CACert}, access...)
		if err != nil {
			return err
		}
		exporterDeps = append(exporterDeps, users.Of[config.LagExporterServiceName]...)
		// The guard's live check on the next preview connects as the deployer (guard.go).
		ctx.Export(DeployerTLSOutput, pulumi.ToSecret(pulumi.StringMap{
			"caCert": deployer.CACert, "clientCert": deployer.ClientCert, "clientKey": deployer.ClientKey}))
		ctx.Export("certificatesNotAfter", sec.NotAfter)
	}
	if _, err := components.NewLagExporter(ctx, components.LagExporterName, &components.LagExporterArgs{Spec: s, After: exporterDeps},
		append(append([]pulumi.ResourceOption{}, base...), pulumi.DependsOn([]pulumi.Resource{ns}))...); err != nil {
		return err
	}

	ctx.Export("namespace", ns.Name)
	ctx.Export("bootstrap", cluster.Bootstrap)
	ctx.Export("brokers", pulumi.Int(s.Brokers))
	ctx.Export("controllers", pulumi.Int(s.Controllers))
	ctx.Export("topicManager", pulumi.String(s.TopicManager))
	ctx.Export("topics", topics.Table)
	ctx.Export(GuardOutput, GuardValues(s))
	ctx.Export(QuorumOutput, QuorumRecord(s.Quorum))
	ctx.Export(RetainedVolumesOutput, pulumi.ToStringArray(RetainedVolumes(prev, s)))
	return nil
}
