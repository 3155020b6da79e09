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

// deploy registers the components in dependency order and exports the
// outputs. Each step below is one concern; the order of the calls is the order
// the resources are registered in, which previews and the mock tests compare.
func deploy(ctx *pulumi.Context, s *config.Spec, opts Options, prev Previous) error {
	base, err := renderOptions(ctx, opts)
	if err != nil {
		return err
	}
	ns, err := components.NewNamespace(ctx, "umbrella-streaming", s, base...)
	if err != nil {
		return err
	}
	d := &deployment{ctx: ctx, s: s, base: base, ns: ns}
	image, err := d.brokerImage(opts.ProjectDir)
	if err != nil {
		return err
	}
	sec, err := d.security()
	if err != nil {
		return err
	}
	admin, err := d.kafkaAdmin(sec)
	if err != nil {
		return err
	}
	topics, err := components.NewTopics(ctx, TopicsName, &components.TopicsArgs{Spec: s, Image: image, Admin: admin}, d.inNS()...)
	if err != nil {
		return err
	}
	moves, err := d.replicaMoves(admin)
	if err != nil {
		return err
	}
	cluster, err := components.NewKafkaCluster(ctx, "kafka", &components.KafkaClusterArgs{Spec: s, Image: image, Security: sec, Before: moves.before}, d.inNS()...)
	if err != nil {
		return err
	}
	if err := d.clusterAddOns(); err != nil {
		return err
	}
	if err := d.afterBrokers(topics, moves, cluster.StatefulSet); err != nil {
		return err
	}
	if err := d.lagExporter(sec, admin, cluster.StatefulSet); err != nil {
		return err
	}
	exportOutputs(ctx, s, prev, ns, cluster, topics)
	if moves.features != nil {
		ctx.Export("metadataVersion", moves.features.MetadataVersion)
	}
	return nil
}

// deployment is what deploy's steps share, so each step takes only what is
// its own.
type deployment struct {
	ctx *pulumi.Context
	s   *config.Spec
	// base are the options of every component: the render provider when
	// rendering, else none.
	base []pulumi.ResourceOption
	ns   *components.Namespace
}

// inNS is base plus a dependency on the namespace: every namespaced component
// waits for its namespace.
func (d *deployment) inNS() []pulumi.ResourceOption {
	return d.after(d.ns)
}

// after is base plus a dependency on deps, in a fresh slice so no step's
// options leak into another's.
func (d *deployment) after(deps ...pulumi.Resource) []pulumi.ResourceOption {
	return append(append([]pulumi.ResourceOption{}, d.base...), pulumi.DependsOn(deps))
}

// renderOptions returns the options every component gets: when rendering, the
// render provider, which writes YAML instead of applying it; else none.
func renderOptions(ctx *pulumi.Context, opts Options) ([]pulumi.ResourceOption, error) {
	if opts.RenderDir == "" {
		return nil, nil
	}
	render, err := kubernetes.NewProvider(ctx, "render", &kubernetes.ProviderArgs{
		RenderYamlToDirectory: pulumi.String(opts.RenderDir),
		// The SDK would default this from $KUBECONFIG, which the provider refuses
		// next to renderYamlToDirectory: rendering needs no cluster.
		Kubeconfig: pulumi.StringPtr(""),
	})
	if err != nil {
		return nil, fmt.Errorf("render provider: %w", err)
	}
	return []pulumi.ResourceOption{pulumi.Providers(render)}, nil
}

// brokerImage is the image the brokers and the topics Job run: image.name, or
// the image this program builds from projectDir when image.build is set.
func (d *deployment) brokerImage(projectDir string) (pulumi.StringOutput, error) {
	image := pulumi.String(d.s.Image.Name).ToStringOutput()
	if d.s.Image.Build {
		dir := filepath.Join(projectDir, components.DefaultImageBuild)
		img, err := components.NewKafkaImage(d.ctx, "kafka-image", d.s, dir)
		if err != nil {
			return image, err
		}
		image = img.Ref
	}
	return image, nil
}

// security registers the certificates of a secure stack; nil in plaintext
// mode.
func (d *deployment) security() (*components.Security, error) {
	if !d.s.Secure() {
		return nil, nil
	}
	return components.NewSecurity(d.ctx, "security", d.s, d.inNS()...)
}

// kafkaAdmin registers the Kafka admin connection (topics.manager provider),
// which runs the topics, the placement, the quorum and the service access;
// nil with the Job. Its provider was "topics-kafka" under the Topics component
// before it had a component of its own, and keeps that identity through an
// alias. On a secure stack it connects as the deployer.
func (d *deployment) kafkaAdmin(sec *components.Security) (*components.KafkaAdmin, error) {
	if d.s.TopicManager != config.TopicManagerProvider {
		return nil, nil
	}
	var deployer *components.ProviderTLS
	if sec != nil {
		deployer = sec.ProviderTLS
	}
	return components.NewKafkaAdmin(d.ctx, KafkaAdminName, &components.KafkaAdminArgs{
		Spec: d.s, TLS: deployer, FormerTopics: TopicsName}, d.inNS()...)
}

// moves are the components that move replicas and voters around a change of
// brokers or controllers, and the metadata version around a change of the
// Kafka software, each nil when not managed.
type moves struct {
	placement *components.Placement
	quorum    *components.Quorum
	features  *components.Features
	// before are what the StatefulSet waits for: the drain, the shrink and
	// the features guard.
	before []pulumi.Resource
}

// replicaMoves registers the placement, the features and the quorum. With the provider,
// replicas follow `brokers` in the same update: the drain empties removed
// brokers before the StatefulSet shrinks, the balance fills added ones after
// it grows (components.Placement). The quorum follows `controllers` the same
// way: voters leave before the nodes roll to their new roles, and join after
// (components.Quorum). The metadata version follows kafka.version's roll: the
// guard checks the software before the pods roll, the finalize sets the
// metadata version after (components.Features).
func (d *deployment) replicaMoves(admin *components.KafkaAdmin) (moves, error) {
	var m moves
	var err error
	if admin != nil {
		if m.placement, err = components.NewPlacement(d.ctx, "placement", d.s, admin, d.inNS()...); err != nil {
			return m, err
		}
		m.before = append(m.before, m.placement.Drain)
		if m.features, err = components.NewFeatures(d.ctx, "features", d.s, admin, d.inNS()...); err != nil {
			return m, err
		}
		m.before = append(m.before, m.features.Guard)
	}
	if components.ManagesQuorum(d.s) {
		if m.quorum, err = components.NewQuorum(d.ctx, "quorum", d.s, admin, d.inNS()...); err != nil {
			return m, err
		}
		m.before = append(m.before, m.quorum.Shrink)
	}
	return m, nil
}

// clusterAddOns registers what guards and watches the brokers without
// depending on them: the network policy and the monitoring.
func (d *deployment) clusterAddOns() error {
	if _, err := components.NewBrokerPolicy(d.ctx, "kafka-policy", d.s, d.inNS()...); err != nil {
		return err
	}
	_, err := components.NewMonitoring(d.ctx, "kafka-monitoring", d.s, d.inNS()...)
	return err
}

// afterBrokers registers what needs running brokers: the topics, then the
// balance onto added brokers and the voters that join.
func (d *deployment) afterBrokers(topics *components.Topics, m moves, brokers pulumi.Resource) error {
	if err := topics.Declare(d.ctx, brokers); err != nil {
		return err
	}
	if m.placement != nil {
		if err := m.placement.Balance(d.ctx, brokers); err != nil {
			return err
		}
	}
	if m.quorum != nil {
		if err := m.quorum.Grow(d.ctx, brokers); err != nil {
			return err
		}
	}
	if m.features != nil {
		if err := m.features.Finalize(d.ctx, brokers); err != nil {
			return err
		}
	}
	return nil
}

// lagExporter registers the lag exporter, which reads offsets once the
// brokers run; on a secure stack it logs in with the credentials
// ServiceAccess writes for it, registered here first.
func (d *deployment) lagExporter(sec *components.Security, admin *components.KafkaAdmin, brokers pulumi.Resource) error {
	exporterDeps := []pulumi.Resource{d.ns, brokers}
	if d.s.Secure() {
		users, err := d.serviceAccess(sec, admin, brokers)
		if err != nil {
			return err
		}
		exporterDeps = append(exporterDeps, users.Of[config.LagExporterServiceName]...)
	}
	_, err := components.NewLagExporter(d.ctx, components.LagExporterName, &components.LagExporterArgs{Spec: d.s, After: exporterDeps}, d.inNS()...)
	return err
}

// serviceAccess registers the service users and ACLs of a secure stack once
// the brokers run, and exports the deployer's credentials, which the guard's
// live check on the next preview connects as (guard.go), and the
// certificates' expiry.
func (d *deployment) serviceAccess(sec *components.Security, admin *components.KafkaAdmin, brokers pulumi.Resource) (*components.ServiceAccess, error) {
	users, err := components.NewServiceAccess(d.ctx, "service-access", &components.ServiceAccessArgs{
		Spec: d.s, Admin: admin, CACert: sec.CACert}, d.after(d.ns, brokers)...)
	if err != nil {
		return nil, err
	}
	deployer := sec.ProviderTLS
	d.ctx.Export(DeployerTLSOutput, pulumi.ToSecret(pulumi.StringMap{
		"caCert": deployer.CACert, "clientCert": deployer.ClientCert, "clientKey": deployer.ClientKey}))
	d.ctx.Export("certificatesNotAfter", sec.NotAfter)
	return users, nil
}

// exportOutputs exports the stack outputs: what clients and operators read,
// and the records the next run's guard reads back (guard.go).
func exportOutputs(ctx *pulumi.Context, s *config.Spec, prev Previous, ns *components.Namespace, cluster *components.KafkaCluster, topics *components.Topics) {
	ctx.Export("namespace", ns.Name)
	ctx.Export("bootstrap", cluster.Bootstrap)
	ctx.Export("brokers", pulumi.Int(s.Brokers))
	ctx.Export("controllers", pulumi.Int(s.Controllers))
	ctx.Export("kafkaVersion", pulumi.String(s.Kafka.Version))
	ctx.Export("topicManager", pulumi.String(s.TopicManager))
	ctx.Export("topics", topics.Table)
	ctx.Export(GuardOutput, GuardValues(s))
	ctx.Export(QuorumOutput, QuorumRecord(s.Quorum))
	ctx.Export(RetainedVolumesOutput, pulumi.ToStringArray(RetainedVolumes(prev, s)))
}
