package config

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

var (
	labelKeyRE   = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelValueRE = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
)

// Mode is how the program will use the spec. It is an input to validation, not
// a change made to the spec afterwards: a mode can fix settings the stack
// leaves open, and the spec must be checked as it will be used.
type Mode int

const (
	// ModeApply is `pulumi up`/`preview`: resources are applied to the cluster.
	ModeApply Mode = iota
	// ModeRender writes every Kubernetes object as YAML instead of applying it
	// (the GitOps path). No broker is dialled while rendering, so the topics are
	// managed by the in-cluster Job: Spec.TopicManager is TopicManagerJob
	// whatever topics.manager says.
	ModeRender
)

// ValidationError lists every problem found in a stack's config, in a stable order.
type ValidationError struct {
	Problems []string
}

// Error prints one problem per line under a header naming the project.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: invalid stack config (%d problem(s)); nothing was deployed:\n  - %s",
		Project, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// problems collects every problem of one Build, in the order found.
type problems struct{ list []string }

// add records "field = value: problem; fix".
func (p *problems) add(field string, value any, problem, fix string) {
	p.list = append(p.list, rules.Message(field, value, problem, fix))
}

// addMessage records a message already built by a rule of package rules.
func (p *problems) addMessage(msg string) {
	if msg != "" {
		p.list = append(p.list, msg)
	}
}

func orStr(p *string, d string) string {
	if p == nil {
		return d
	}
	return *p
}

func orInt(p *int, d int) int {
	if p == nil {
		return d
	}
	return *p
}

func orBool(p *bool, d bool) bool {
	if p == nil {
		return d
	}
	return *p
}

// orEmpty returns *p, or a zero T when p is nil, so a section left out of the
// stack config reads as a section with every field unset.
func orEmpty[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}

// Build applies defaults to raw and validates the result for ModeApply. It
// returns a *ValidationError listing every problem, or a Spec in which every
// field is set.
func Build(stack string, raw Raw) (*Spec, error) { return BuildFor(stack, raw, ModeApply) }

// BuildFor is Build for a mode. Each section's builder applies that section's
// defaults (defaults.go) and records its problems; the sections run in this
// order, which is the order problems are reported in. The returned Spec is
// final: nothing changes it afterwards.
func BuildFor(stack string, raw Raw, mode Mode) (*Spec, error) {
	var p problems
	s := &Spec{Stack: stack, Namespace: DefaultNamespace}
	buildQuorum(&p, s, raw)
	buildKafka(&p, s, orEmpty(raw.Kafka))
	buildImage(&p, s, orEmpty(raw.Image))
	buildStorage(&p, s, orEmpty(raw.Storage))
	buildResources(&p, s, orEmpty(raw.Resources))
	buildBroker(&p, s, orEmpty(raw.Broker))
	checkHeap(&p, s)
	buildKafkaAdmin(&p, s, orEmpty(raw.Topics), orEmpty(raw.KafkaAdmin), mode)
	buildTopics(&p, s, raw)
	buildNetworkPolicy(&p, s, orEmpty(raw.NetworkPolicy))
	buildMonitoring(&p, s, orEmpty(raw.Monitoring))
	buildAvailability(&p, s, orEmpty(raw.Availability))
	buildSecurity(&p, s, orEmpty(raw.Security), orStr(orEmpty(raw.Topics).Manager, DefaultTopicManager))
	buildServices(&p, s, raw.Services)
	buildGuards(&p, s, raw.GuardOverrides)
	if len(p.list) > 0 {
		return nil, &ValidationError{Problems: p.list}
	}
	return s, nil
}

// buildQuorum sets the cluster identity and the pod counts: clusterId,
// brokers and controllers.
func buildQuorum(p *problems, s *Spec, raw Raw) {
	s.ClusterID = orStr(raw.ClusterID, "")
	switch {
	case raw.ClusterID == nil || s.ClusterID == "":
		p.add("clusterId", s.ClusterID, "missing: the KRaft cluster id must be fixed in stack config so a reinstall keeps its data",
			"generate one with `kafka-storage.sh random-uuid` (22 base64url characters) and run `pulumi config set clusterId <id>`")
	case !rules.ValidClusterID(s.ClusterID):
		p.add("clusterId", s.ClusterID, rules.ClusterIDProblem, rules.ClusterIDFix)
	case s.ClusterID == ImageDefaultClusterID:
		p.add("clusterId", s.ClusterID, "is the apache/kafka image's built-in default, shared by every cluster that forgot to set one",
			"generate a fresh id with `kafka-storage.sh random-uuid`")
	}
	s.Brokers = orInt(raw.Brokers, DefaultBrokers)
	s.Controllers = orInt(raw.Controllers, DefaultControllers)
	s.Quorum = NewClusterQuorum(s.Controllers)
	if s.Brokers < 1 {
		p.add("brokers", s.Brokers, "must be at least 1", "set brokers to 1 (dev) or 3 (prod)")
	} else if s.Brokers > MaxBrokers {
		p.add("brokers", s.Brokers, fmt.Sprintf("exceeds %d, the most pods a StatefulSet runs (replicas is a 32-bit number, as is Kafka's node.id)", MaxBrokers),
			"lower it; add brokers a few at a time as load grows")
	}
	switch {
	case s.Controllers < 1:
		p.add("controllers", s.Controllers, "must be at least 1 (the KRaft quorum needs a voter)", "set controllers to 1 (dev) or 3 (prod)")
	case s.Controllers%2 == 0:
		p.add("controllers", s.Controllers, "is even: a quorum of 2n voters survives no more failures than one of 2n-1 and splits votes more often",
			fmt.Sprintf("use %d or %d", s.Controllers-1, s.Controllers+1))
	case s.Controllers > MaxControllers:
		p.add("controllers", s.Controllers, fmt.Sprintf("exceeds %d: every metadata write waits for a majority of the quorum", MaxControllers),
			"use 3 or 5 controllers; add broker-only pods with `brokers` instead")
	case s.Brokers >= 1 && s.Controllers > s.Brokers:
		p.add("controllers", s.Controllers, fmt.Sprintf("exceeds brokers (%d): controllers run on the first pods, combined with brokers", s.Brokers),
			fmt.Sprintf("raise brokers to at least %d or lower controllers", s.Controllers))
	}
}

// brokerImage is the reference the broker pods run: the built image when the
// program builds one, else image.name.
// When that name is itself missing (reported under image.*), it falls back to
// DefaultImage so one mistake gives one message.
func brokerImage(img ImageSpec) string {
	switch {
	case img.Build && strings.TrimSpace(img.BuildName) != "":
		return img.BuildName
	case !img.Build && strings.TrimSpace(img.Name) != "":
		return img.Name
	}
	return DefaultImage
}

// brokerImageField is the reference the broker pods run and the field it
// comes from: image.buildName when the program builds the image, else
// image.name.
func brokerImageField(img ImageSpec) (ref, field string) {
	if img.Build {
		return img.BuildName, "image.buildName"
	}
	return img.Name, "image.name"
}

// buildImage sets the image the brokers run.
func buildImage(p *problems, s *Spec, img *RawImage) {
	s.Image = ImageSpec{
		Name:       orStr(img.Name, DefaultImageFor(s.Kafka.Version)),
		Build:      orBool(img.Build, DefaultImageBuild),
		BuildName:  orStr(img.BuildName, DefaultImageFor(s.Kafka.Version)),
		Push:       orBool(img.Push, DefaultImagePush),
		PullPolicy: orStr(img.PullPolicy, DefaultPullPolicy),
	}
	if strings.TrimSpace(s.Image.Name) == "" {
		p.add("image.name", s.Image.Name, "is empty", "set it to an image reference such as "+DefaultImage)
	}
	if s.Image.Build && strings.TrimSpace(s.Image.BuildName) == "" {
		p.add("image.buildName", s.Image.BuildName, "is empty while image.build = true", "name the image to build, e.g. registry.example/umbrella/kafka:4.1.1-1")
	}
	if ref, field := brokerImageField(s.Image); strings.TrimSpace(ref) != "" {
		checkPinned(p, field, ref)
		checkImageVersion(p, field, ref, s.Kafka.Version)
	}
	if !slices.Contains(PullPolicies, s.Image.PullPolicy) {
		p.add("image.pullPolicy", s.Image.PullPolicy, "unknown pull policy (allowed: "+strings.Join(PullPolicies, ", ")+")", "use Always (re-checks registry credentials on every start)")
	}
}

// buildStorage sets each broker's volume.
func buildStorage(p *problems, s *Spec, st *RawStorage) {
	s.Storage = StorageSpec{Size: orStr(st.Size, DefaultStorageSize), StorageClass: orStr(st.StorageClass, DefaultStorageClass)}
	if v, err := ParseQuantity(s.Storage.Size); err != nil {
		p.add("storage.size", s.Storage.Size, "is not a Kubernetes quantity", "write it like 10Gi or 500Gi")
	} else if v <= 0 {
		p.add("storage.size", s.Storage.Size, "must be greater than 0", "give each broker a volume, e.g. 10Gi")
	}
	if s.Storage.StorageClass != "" && !rules.DNSSubdomain(s.Storage.StorageClass) {
		p.add("storage.storageClass", s.Storage.StorageClass, "is not a valid StorageClass name (DNS subdomain)", "use the name shown by `kubectl get storageclass`, or leave it empty for the default")
	}
}

// buildResources sets the broker container's requests and limits.
func buildResources(p *problems, s *Spec, res *RawResources) {
	req, lim := orEmpty(res.Requests), orEmpty(res.Limits)
	s.Resources = ResourcesSpec{
		RequestsCPU:    orStr(req.CPU, DefaultRequestsCPU),
		RequestsMemory: orStr(req.Memory, DefaultRequestsMemory),
		LimitsCPU:      orStr(lim.CPU, DefaultLimitsCPU),
		LimitsMemory:   orStr(lim.Memory, DefaultLimitsMemory),
	}
	checkPair := func(kind, reqField, limField, reqV, limV, example string) {
		r, errR := ParseQuantity(reqV)
		l, errL := ParseQuantity(limV)
		if errR != nil {
			p.add(reqField, reqV, "is not a Kubernetes quantity", "write it like "+example)
		}
		if errL != nil {
			p.add(limField, limV, "is not a Kubernetes quantity", "write it like "+example)
		}
		if errR == nil && errL == nil && r > l {
			p.add(reqField, reqV, fmt.Sprintf("exceeds %s (%s): Kubernetes refuses a %s request above its limit", limField, limV, kind),
				"lower the request or raise the limit")
		}
	}
	checkPair("cpu", "resources.requests.cpu", "resources.limits.cpu", s.Resources.RequestsCPU, s.Resources.LimitsCPU, "250m or 1")
	checkPair("memory", "resources.requests.memory", "resources.limits.memory", s.Resources.RequestsMemory, s.Resources.LimitsMemory, "512Mi or 2Gi")
}

// buildBroker sets the cluster-wide broker settings; it needs s.Brokers.
func buildBroker(p *problems, s *Spec, b *RawBroker) {
	s.Broker = BrokerSpec{
		MinInsyncReplicas:        orInt(b.MinInsyncReplicas, DefaultMinInsyncReplicas),
		DefaultReplicationFactor: orInt(b.DefaultReplicationFactor, DefaultReplicationFactor),
		NumPartitions:            orInt(b.NumPartitions, DefaultNumPartitions),
		RetentionHours:           orInt(b.RetentionHours, DefaultRetentionHours),
		RetentionBytes:           DefaultRetentionBytes,
		CompressionType:          orStr(b.CompressionType, DefaultCompressionType),
		AutoCreateTopics:         orBool(b.AutoCreateTopics, DefaultAutoCreateTopics),
		HeapOpts:                 orStr(b.HeapOpts, DefaultHeapOpts),
	}
	if b.RetentionBytes != nil {
		s.Broker.RetentionBytes = *b.RetentionBytes
	}
	// min.insync.replicas needs no bound of its own: it may not exceed the
	// replication factor, which is bounded here.
	if rf := s.Broker.DefaultReplicationFactor; rf < 1 || rf > rules.MaxReplicationFactor {
		checkReplicationFactor(p, "broker.defaultReplicationFactor", rf, "set it to the number of copies you want (1 dev, 3 prod)")
	} else {
		p.addMessage(rules.ReplicationFactorAboveBrokers("broker.defaultReplicationFactor", rf, s.Brokers,
			fmt.Sprintf("lower it to %d or raise brokers", s.Brokers)))
	}
	if s.Broker.MinInsyncReplicas < 1 {
		p.add("broker.minInsyncReplicas", s.Broker.MinInsyncReplicas, "must be at least 1", "set it to 1 (dev) or 2 (prod, with RF 3)")
	} else if s.Broker.DefaultReplicationFactor >= 1 && s.Broker.MinInsyncReplicas > s.Broker.DefaultReplicationFactor {
		p.add("broker.minInsyncReplicas", s.Broker.MinInsyncReplicas, fmt.Sprintf("exceeds broker.defaultReplicationFactor (%d): every acks=all write to Kafka's internal topics would fail with NOT_ENOUGH_REPLICAS", s.Broker.DefaultReplicationFactor),
			fmt.Sprintf("lower it to at most %d or raise the replication factor", s.Broker.DefaultReplicationFactor))
	}
	if s.Broker.NumPartitions < 1 {
		p.add("broker.numPartitions", s.Broker.NumPartitions, "must be at least 1", "set it to 1")
	} else if s.Broker.NumPartitions > rules.MaxKafkaInt {
		p.add("broker.numPartitions", s.Broker.NumPartitions, fmt.Sprintf("exceeds %d, the largest num.partitions Kafka takes (a 32-bit int)", rules.MaxKafkaInt), "set it to 1")
	}
	checkRetentionHours(p, "broker.retentionHours", s.Broker.RetentionHours)
	if s.Broker.RetentionBytes < -1 || s.Broker.RetentionBytes == 0 {
		p.add("broker.retentionBytes", s.Broker.RetentionBytes, "must be positive, or -1 for no size limit", "use -1 (time-based retention only)")
	}
	if !slices.Contains(CompressionTypes, s.Broker.CompressionType) {
		p.add("broker.compressionType", s.Broker.CompressionType, "unknown compression type (allowed: "+strings.Join(CompressionTypes, ", ")+")",
			"use producer to keep what producers send (gzip)")
	}
	if strings.TrimSpace(s.Broker.HeapOpts) == "" {
		p.add("broker.heapOpts", s.Broker.HeapOpts, "is empty", "set JVM heap flags such as "+DefaultHeapOpts)
	}
}

// buildTopics resolves the platform topics (topics.go); it needs s.Brokers and
// s.Broker.
func buildTopics(p *problems, s *Spec, raw Raw) {
	s.Topics = resolveTopics(p, raw, orEmpty(raw.Topics), s)
}

// buildNetworkPolicy sets who may reach the brokers.
func buildNetworkPolicy(p *problems, s *Spec, np *RawNetworkPolicy) {
	s.NetworkPolicy = NetworkPolicySpec{
		Enabled:             orBool(np.Enabled, DefaultNetworkPolicyEnabled),
		AllowedNamespaces:   strings.Split(DefaultAllowedNamespaces, ","),
		MonitoringNamespace: orStr(np.MonitoringNamespace, DefaultMonitoringNS),
	}
	if np.AllowedNamespaces != nil {
		s.NetworkPolicy.AllowedNamespaces = append([]string(nil), np.AllowedNamespaces...)
	}
	sort.Strings(s.NetworkPolicy.AllowedNamespaces)
	access := orStr(np.AccessLabel, DefaultAccessLabel)
	key, val, ok := strings.Cut(access, "=")
	if !ok || !labelKeyRE.MatchString(key) || !labelValueRE.MatchString(val) {
		p.add("networkPolicy.accessLabel", access, "is not a key=value Kubernetes label", "use "+DefaultAccessLabel)
	}
	s.NetworkPolicy.AccessLabelKey, s.NetworkPolicy.AccessLabelValue = key, val
	if s.NetworkPolicy.Enabled && len(s.NetworkPolicy.AllowedNamespaces) == 0 {
		p.add("networkPolicy.allowedNamespaces", s.NetworkPolicy.AllowedNamespaces, "is empty while networkPolicy.enabled = true: no client namespace is named",
			"list the client namespaces (e.g. umbrella-connectors) or set networkPolicy.enabled = false")
	}
	seenNS := map[string]bool{}
	for i, ns := range s.NetworkPolicy.AllowedNamespaces {
		field := fmt.Sprintf("networkPolicy.allowedNamespaces[%d]", i)
		if !rules.DNSLabel(ns) {
			p.add(field, ns, "is not a namespace name (DNS label, at most 63 characters)", "use lower-case letters, digits and '-'")
		} else if seenNS[ns] {
			p.add(field, ns, "is listed twice", "remove the duplicate")
		}
		seenNS[ns] = true
	}
	if !rules.DNSLabel(s.NetworkPolicy.MonitoringNamespace) {
		p.add("networkPolicy.monitoringNamespace", s.NetworkPolicy.MonitoringNamespace, "is not a namespace name", "name the namespace Prometheus runs in, e.g. monitoring")
	}
}

// buildMonitoring sets the exporter agent, alerts and dashboard.
func buildMonitoring(p *problems, s *Spec, mon *RawMonitoring) {
	s.Monitoring = MonitoringSpec{
		Enabled:            orBool(mon.Enabled, DefaultMonitoringEnabled),
		AgentImage:         orStr(mon.AgentImage, brokerImage(s.Image)),
		AgentJarPath:       orStr(mon.AgentJarPath, DefaultAgentJarPath),
		DashboardNamespace: orStr(mon.DashboardNamespace, DefaultDashboardNamespace),
		DiskFillPercent:    orInt(mon.DiskFillPercent, DefaultDiskFillPercent),
		LagExporterImage:   orStr(mon.LagExporterImage, DefaultLagExporterImage),
	}
	if text := orStr(mon.AlertFor, DefaultAlertFor); text != "" {
		s.Monitoring.AlertFor = checkAlertFor(p, text)
	}
	if s.Monitoring.DiskFillPercent < 1 || s.Monitoring.DiskFillPercent > 99 {
		p.add("monitoring.diskFillPercent", s.Monitoring.DiskFillPercent, "must be between 1 and 99", "use 80")
	}
	if !rules.DNSLabel(s.Monitoring.DashboardNamespace) {
		p.add("monitoring.dashboardNamespace", s.Monitoring.DashboardNamespace, "is not a namespace name", "use umbrella-infra")
	}
	if s.Monitoring.Enabled && strings.TrimSpace(s.Monitoring.AgentImage) == "" {
		p.add("monitoring.agentImage", s.Monitoring.AgentImage, "is empty while monitoring.enabled = true", "leave it unset to copy the agent from the broker image, or name an image that holds the JMX exporter agent jar, e.g. "+DefaultImage)
	} else if s.Monitoring.Enabled && mon.AgentImage != nil {
		checkPinned(p, "monitoring.agentImage", s.Monitoring.AgentImage) // unset, it is the broker image, checked by buildImage
	}
	if s.Monitoring.Enabled && strings.TrimSpace(s.Monitoring.LagExporterImage) == "" {
		p.add("monitoring.lagExporterImage", s.Monitoring.LagExporterImage, "is empty while monitoring.enabled = true",
			"leave it unset for "+DefaultLagExporterImage+", or name your registry's copy of the kafka-loadgen image (it carries /kafka-lag-exporter)")
	} else if s.Monitoring.Enabled {
		checkPinned(p, "monitoring.lagExporterImage", s.Monitoring.LagExporterImage)
	}
	if s.Monitoring.Enabled && !strings.HasPrefix(s.Monitoring.AgentJarPath, "/") {
		p.add("monitoring.agentJarPath", s.Monitoring.AgentJarPath, "must be an absolute path inside monitoring.agentImage", "use "+DefaultAgentJarPath)
	}
}

// alertForRE is a duration both Prometheus (a rule's `for`) and Go
// (time.ParseDuration, which the tests use) read the same way: hours, minutes
// and seconds, in that order, whole numbers.
var alertForRE = regexp.MustCompile(`^([0-9]+h)?([0-9]+m)?([0-9]+s)?$`)

// checkAlertFor reads monitoring.alertFor, or records why it cannot and
// returns 0.
func checkAlertFor(p *problems, text string) time.Duration {
	const fix = "write it like 30s, 1m or 1h30m, or leave it unset to keep each alert's own duration"
	if !alertForRE.MatchString(text) {
		p.add("monitoring.alertFor", text, "is not a duration of hours, minutes and seconds (Prometheus reads no other units the same way as Go)", fix)
		return 0
	}
	d, err := time.ParseDuration(text)
	if err != nil || d < MinAlertFor || d > MaxAlertFor {
		p.add("monitoring.alertFor", text, fmt.Sprintf("must be between %s and %s", shortDuration(MinAlertFor), shortDuration(MaxAlertFor)), fix)
		return 0
	}
	return d
}

// shortDuration is d without Go's trailing zero units: 24h, not 24h0m0s.
func shortDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

// buildAvailability sets the disruption budget and pod spreading.
func buildAvailability(p *problems, s *Spec, av *RawAvailability) {
	s.Availability = AvailabilitySpec{
		PodDisruptionBudget: orBool(av.PodDisruptionBudget, DefaultPodDisruptionBudget),
		Spread:              orStr(av.Spread, DefaultSpread),
	}
	if !slices.Contains(SpreadModes, s.Availability.Spread) {
		p.add("availability.spread", s.Availability.Spread, "unknown spread mode (allowed: none, preferred, required)", "use required in prod (one broker per node)")
	}
}

// buildGuards sets guardOverrides, each of which must name a field of Guarded.
func buildGuards(p *problems, s *Spec, overrides []string) {
	guarded := GuardedFields()
	for i, g := range overrides {
		if !slices.Contains(guarded, g) {
			p.add(fmt.Sprintf("guardOverrides[%d]", i), g, "is not a guarded field (guarded: "+strings.Join(guarded, ", ")+")", "remove it")
		}
	}
	s.GuardOverrides = append([]string(nil), overrides...)
	sort.Strings(s.GuardOverrides)
}
