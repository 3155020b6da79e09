package config

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Defaults applied when a stack leaves a value unset. They are the seed plan's
// single-broker MVP values (section 3/4), so an empty dev stack deploys the seed.
const (
	DefaultNamespace          = "umbrella-streaming"
	DefaultImage              = "apache/kafka:4.1.1"
	DefaultBuildImageName     = "umbrella/kafka:4.1.1-umbrella.1"
	DefaultStorageSize        = "10Gi"
	DefaultRequestsCPU        = "250m"
	DefaultRequestsMemory     = "512Mi"
	DefaultLimitsCPU          = "1"
	DefaultLimitsMemory       = "2Gi"
	DefaultRetentionHours     = 168
	DefaultRetentionBytes     = -1
	DefaultCompressionType    = "producer"
	DefaultHeapOpts           = "-Xms512m -Xmx1g"
	DefaultAccessLabel        = "umbrella-kafka-access=true"
	DefaultMonitoringNS       = "monitoring"
	DefaultDashboardNamespace = "umbrella-infra"
	DefaultAgentJarPath       = "/opt/jmx-exporter/jmx_prometheus_javaagent.jar"
	DefaultDiskFillPercent    = 80
	// ImageDefaultClusterID is the id the apache/kafka image falls back to when
	// CLUSTER_ID is unset; every forgetful cluster shares it, so we refuse it.
	ImageDefaultClusterID = "5L6g3nShT-eMCtK--X86sw"
	// MaxTopicNameLength is Kafka's limit on a topic name.
	MaxTopicNameLength = 249
	// MaxControllers bounds the quorum: every metadata write waits for a majority.
	MaxControllers = 7
)

// DefaultAllowedNamespaces are the seed's client namespaces (section 6).
var DefaultAllowedNamespaces = []string{"umbrella-connectors", "umbrella-ingestion", "umbrella-processing", "umbrella-storage", "umbrella-ui"}

// CompressionTypes are the values Kafka accepts for the broker's compression.type.
var CompressionTypes = []string{"gzip", "lz4", "producer", "snappy", "uncompressed", "zstd"}

// CleanupPolicies are the values Kafka accepts for a topic's cleanup.policy.
var CleanupPolicies = []string{"compact", "compact,delete", "delete", "delete,compact"}

// PullPolicies are Kubernetes' imagePullPolicy values.
var PullPolicies = []string{"Always", "IfNotPresent", "Never"}

// Guarded lists the fields whose change on a live cluster cannot be applied by a
// plain update: the KRaft quorum (static voters), the cluster id (storage is
// formatted with it) and the PVC template (immutable in a StatefulSet).
// broker.minInsyncReplicas is guarded too: Kafka 4.1 copies it into a cluster-wide
// dynamic default when the cluster first starts, and that default outranks
// server.properties afterwards, so a changed file would silently change nothing
// (tests/realkafka pins this).
var Guarded = []string{"broker.minInsyncReplicas", "clusterId", "controllers", "storage.size", "storage.storageClass"}

var (
	topicNameRE   = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)
	dnsLabelRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	labelKeyRE    = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelValueRE  = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
	clusterIDRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)
	topicConfigRE = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z0-9]+)*$`)
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

type problems struct{ list []string }

// add records "field = value: problem; fix".
func (p *problems) add(field string, value any, problem, fix string) {
	p.list = append(p.list, fmt.Sprintf("%s = %s: %s; %s", field, show(value), problem, fix))
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	default:
		return fmt.Sprint(x)
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Build applies defaults to raw and validates the result. It returns a
// *ValidationError listing every problem, or a Spec in which every field is set.
func Build(stack string, raw Raw) (*Spec, error) {
	var p problems
	s := &Spec{Stack: stack, Namespace: DefaultNamespace}

	// Quorum and cluster identity.
	s.ClusterID = orStr(raw.ClusterID, "")
	switch {
	case raw.ClusterID == nil || s.ClusterID == "":
		p.add("clusterId", s.ClusterID, "missing: the KRaft cluster id must be fixed in stack config so a reinstall keeps its data",
			"generate one with `kafka-storage.sh random-uuid` (22 base64url characters) and run `pulumi config set clusterId <id>`")
	case !validClusterID(s.ClusterID):
		p.add("clusterId", s.ClusterID, "not a Kafka cluster id (22 characters of [A-Za-z0-9_-] encoding 16 bytes)",
			"generate one with `kafka-storage.sh random-uuid`")
	case s.ClusterID == ImageDefaultClusterID:
		p.add("clusterId", s.ClusterID, "is the apache/kafka image's built-in default, shared by every cluster that forgot to set one",
			"generate a fresh id with `kafka-storage.sh random-uuid`")
	}
	s.Brokers = orInt(raw.Brokers, 1)
	s.Controllers = orInt(raw.Controllers, 1)
	if s.Brokers < 1 {
		p.add("brokers", s.Brokers, "must be at least 1", "set brokers to 1 (dev) or 3 (prod)")
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

	// Image.
	img := raw.Image
	if img == nil {
		img = &RawImage{}
	}
	s.Image = ImageSpec{
		Name:       orStr(img.Name, DefaultImage),
		Build:      orBool(img.Build, false),
		BuildName:  orStr(img.BuildName, DefaultBuildImageName),
		Push:       orBool(img.Push, false),
		PullPolicy: orStr(img.PullPolicy, "Always"),
	}
	if strings.TrimSpace(s.Image.Name) == "" {
		p.add("image.name", s.Image.Name, "is empty", "set it to an image reference such as "+DefaultImage)
	}
	if s.Image.Build && strings.TrimSpace(s.Image.BuildName) == "" {
		p.add("image.buildName", s.Image.BuildName, "is empty while image.build = true", "name the image to build, e.g. registry.example/umbrella/kafka:4.1.1-1")
	}
	if !contains(PullPolicies, s.Image.PullPolicy) {
		p.add("image.pullPolicy", s.Image.PullPolicy, "unknown pull policy (allowed: "+strings.Join(PullPolicies, ", ")+")", "use Always (re-checks registry credentials on every start)")
	}

	// Storage and resources.
	st := raw.Storage
	if st == nil {
		st = &RawStorage{}
	}
	s.Storage = StorageSpec{Size: orStr(st.Size, DefaultStorageSize), StorageClass: orStr(st.StorageClass, "")}
	if v, err := ParseQuantity(s.Storage.Size); err != nil {
		p.add("storage.size", s.Storage.Size, "is not a Kubernetes quantity", "write it like 10Gi or 500Gi")
	} else if v <= 0 {
		p.add("storage.size", s.Storage.Size, "must be greater than 0", "give each broker a volume, e.g. 10Gi")
	}
	if s.Storage.StorageClass != "" && !dnsSubdomain(s.Storage.StorageClass) {
		p.add("storage.storageClass", s.Storage.StorageClass, "is not a valid StorageClass name (DNS subdomain)", "use the name shown by `kubectl get storageclass`, or leave it empty for the default")
	}
	res := raw.Resources
	if res == nil {
		res = &RawResources{}
	}
	req, lim := res.Requests, res.Limits
	if req == nil {
		req = &RawCPUMemory{}
	}
	if lim == nil {
		lim = &RawCPUMemory{}
	}
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

	// Broker settings.
	b := raw.Broker
	if b == nil {
		b = &RawBroker{}
	}
	s.Broker = BrokerSpec{
		MinInsyncReplicas:        orInt(b.MinInsyncReplicas, 1),
		DefaultReplicationFactor: orInt(b.DefaultReplicationFactor, 1),
		NumPartitions:            orInt(b.NumPartitions, 1),
		RetentionHours:           orInt(b.RetentionHours, DefaultRetentionHours),
		RetentionBytes:           DefaultRetentionBytes,
		CompressionType:          orStr(b.CompressionType, DefaultCompressionType),
		AutoCreateTopics:         orBool(b.AutoCreateTopics, false),
		HeapOpts:                 orStr(b.HeapOpts, DefaultHeapOpts),
	}
	if b.RetentionBytes != nil {
		s.Broker.RetentionBytes = *b.RetentionBytes
	}
	if s.Broker.DefaultReplicationFactor < 1 {
		p.add("broker.defaultReplicationFactor", s.Broker.DefaultReplicationFactor, "must be at least 1", "set it to the number of copies you want (1 dev, 3 prod)")
	} else if s.Brokers >= 1 && s.Broker.DefaultReplicationFactor > s.Brokers {
		p.add("broker.defaultReplicationFactor", s.Broker.DefaultReplicationFactor, fmt.Sprintf("exceeds brokers (%d): Kafka cannot place more copies than brokers", s.Brokers),
			fmt.Sprintf("lower it to %d or raise brokers", s.Brokers))
	}
	if s.Broker.MinInsyncReplicas < 1 {
		p.add("broker.minInsyncReplicas", s.Broker.MinInsyncReplicas, "must be at least 1", "set it to 1 (dev) or 2 (prod, with RF 3)")
	} else if s.Broker.DefaultReplicationFactor >= 1 && s.Broker.MinInsyncReplicas > s.Broker.DefaultReplicationFactor {
		p.add("broker.minInsyncReplicas", s.Broker.MinInsyncReplicas, fmt.Sprintf("exceeds broker.defaultReplicationFactor (%d): every acks=all write to Kafka's internal topics would fail with NOT_ENOUGH_REPLICAS", s.Broker.DefaultReplicationFactor),
			fmt.Sprintf("lower it to at most %d or raise the replication factor", s.Broker.DefaultReplicationFactor))
	}
	if s.Broker.NumPartitions < 1 {
		p.add("broker.numPartitions", s.Broker.NumPartitions, "must be at least 1", "set it to 1")
	}
	if s.Broker.RetentionHours < -1 || s.Broker.RetentionHours == 0 {
		p.add("broker.retentionHours", s.Broker.RetentionHours, "must be positive, or -1 to keep data forever", "use 168 (7 days)")
	}
	if s.Broker.RetentionBytes < -1 || s.Broker.RetentionBytes == 0 {
		p.add("broker.retentionBytes", s.Broker.RetentionBytes, "must be positive, or -1 for no size limit", "use -1 (time-based retention only)")
	}
	if !contains(CompressionTypes, s.Broker.CompressionType) {
		p.add("broker.compressionType", s.Broker.CompressionType, "unknown compression type (allowed: "+strings.Join(CompressionTypes, ", ")+")",
			"use producer to keep what producers send (gzip)")
	}
	if strings.TrimSpace(s.Broker.HeapOpts) == "" {
		p.add("broker.heapOpts", s.Broker.HeapOpts, "is empty", "set JVM heap flags such as "+DefaultHeapOpts)
	}

	// Topics.
	tops := raw.Topics
	if tops == nil {
		tops = &RawTopics{}
	}
	s.TopicManager = orStr(tops.Manager, TopicManagerProvider)
	if s.TopicManager != TopicManagerProvider && s.TopicManager != TopicManagerJob {
		p.add("topics.manager", s.TopicManager, "unknown topic manager (allowed: provider, job)",
			"use provider (topics as Pulumi resources) or job (create-topics.sh inside the cluster)")
	}
	s.TopicProvider = TopicProviderSpec{
		BootstrapServers: append([]string(nil), tops.BootstrapServers...),
		ProtectTopics:    orBool(tops.Protect, false),
		AllowReplace:     orBool(tops.AllowReplace, false),
		Access:           orStr(tops.Access, TopicAccessDirect),
	}
	checkTopicAccess(&p, s)
	for i, addr := range s.TopicProvider.BootstrapServers {
		if _, port, ok := strings.Cut(addr, ":"); !ok || port == "" {
			p.add(fmt.Sprintf("topics.bootstrapServers[%d]", i), addr, "is not host:port", "write it like kafka.example:9092")
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			p.add(fmt.Sprintf("topics.bootstrapServers[%d]", i), addr, "has a port outside 1..65535", "write it like kafka.example:9092")
		}
	}
	s.Topics = resolveTopics(&p, raw, tops, s)

	// Network policy.
	np := raw.NetworkPolicy
	if np == nil {
		np = &RawNetworkPolicy{}
	}
	s.NetworkPolicy = NetworkPolicySpec{
		Enabled:             orBool(np.Enabled, true),
		AllowedNamespaces:   DefaultAllowedNamespaces,
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
		if !dnsLabelRE.MatchString(ns) || len(ns) > 63 {
			p.add(field, ns, "is not a namespace name (DNS label, at most 63 characters)", "use lower-case letters, digits and '-'")
		} else if seenNS[ns] {
			p.add(field, ns, "is listed twice", "remove the duplicate")
		}
		seenNS[ns] = true
	}
	if !dnsLabelRE.MatchString(s.NetworkPolicy.MonitoringNamespace) {
		p.add("networkPolicy.monitoringNamespace", s.NetworkPolicy.MonitoringNamespace, "is not a namespace name", "name the namespace Prometheus runs in, e.g. monitoring")
	}

	// Monitoring.
	mon := raw.Monitoring
	if mon == nil {
		mon = &RawMonitoring{}
	}
	s.Monitoring = MonitoringSpec{
		Enabled:            orBool(mon.Enabled, true),
		AgentImage:         orStr(mon.AgentImage, DefaultBuildImageName),
		AgentJarPath:       orStr(mon.AgentJarPath, DefaultAgentJarPath),
		DashboardNamespace: orStr(mon.DashboardNamespace, DefaultDashboardNamespace),
		DiskFillPercent:    orInt(mon.DiskFillPercent, DefaultDiskFillPercent),
	}
	if s.Monitoring.DiskFillPercent < 1 || s.Monitoring.DiskFillPercent > 99 {
		p.add("monitoring.diskFillPercent", s.Monitoring.DiskFillPercent, "must be between 1 and 99", "use 80")
	}
	if !dnsLabelRE.MatchString(s.Monitoring.DashboardNamespace) {
		p.add("monitoring.dashboardNamespace", s.Monitoring.DashboardNamespace, "is not a namespace name", "use umbrella-infra")
	}
	if s.Monitoring.Enabled && strings.TrimSpace(s.Monitoring.AgentImage) == "" {
		p.add("monitoring.agentImage", s.Monitoring.AgentImage, "is empty while monitoring.enabled = true", "name an image that holds the JMX exporter agent jar, e.g. "+DefaultBuildImageName)
	}
	if s.Monitoring.Enabled && !strings.HasPrefix(s.Monitoring.AgentJarPath, "/") {
		p.add("monitoring.agentJarPath", s.Monitoring.AgentJarPath, "must be an absolute path inside monitoring.agentImage", "use "+DefaultAgentJarPath)
	}

	// Availability.
	av := raw.Availability
	if av == nil {
		av = &RawAvailability{}
	}
	s.Availability = AvailabilitySpec{
		PodDisruptionBudget: orBool(av.PodDisruptionBudget, true),
		Spread:              orStr(av.Spread, SpreadPreferred),
	}
	if !contains([]string{SpreadNone, SpreadPreferred, SpreadRequired}, s.Availability.Spread) {
		p.add("availability.spread", s.Availability.Spread, "unknown spread mode (allowed: none, preferred, required)", "use required in prod (one broker per node)")
	}

	// Guard overrides.
	for i, g := range raw.GuardOverrides {
		if !contains(Guarded, g) {
			p.add(fmt.Sprintf("guardOverrides[%d]", i), g, "is not a guarded field (guarded: "+strings.Join(Guarded, ", ")+")", "remove it")
		}
	}
	s.GuardOverrides = append([]string(nil), raw.GuardOverrides...)
	sort.Strings(s.GuardOverrides)

	if len(p.list) > 0 {
		return nil, &ValidationError{Problems: p.list}
	}
	return s, nil
}

func validClusterID(id string) bool {
	if !clusterIDRE.MatchString(id) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 16 {
		return false
	}
	// Kafka reserves the all-zero uuid.
	for _, x := range b {
		if x != 0 {
			return true
		}
	}
	return false
}

func dnsSubdomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !dnsLabelRE.MatchString(part) {
			return false
		}
	}
	return true
}

// ValidateTopicName applies Kafka's topic name rules and returns the problem, or "".
func ValidateTopicName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case name == "." || name == "..":
		return "is '.' or '..', which Kafka forbids"
	case len(name) > MaxTopicNameLength:
		return fmt.Sprintf("is %d characters long, over Kafka's limit of %d", len(name), MaxTopicNameLength)
	case !topicNameRE.MatchString(name):
		return "has characters outside [a-zA-Z0-9._-]"
	}
	return ""
}

// resolveTopics merges the inventory (plus topics.extra) with topicDefaults and
// topicOverrides, validating each value. The result is sorted by name.
func resolveTopics(p *problems, raw Raw, tops *RawTopics, s *Spec) []TopicSpec {
	def := raw.TopicDefaults
	if def == nil {
		def = &RawTopic{}
	}
	defParts := orInt(def.Partitions, 1)
	defRF := orInt(def.ReplicationFactor, 1)
	checkTopic(p, "topicDefaults", *def, s)

	type entry struct {
		inv   InventoryTopic
		extra *RawTopic
		field string
	}
	entries := make([]entry, 0, len(Inventory)+len(tops.Extra))
	for _, t := range Inventory {
		entries = append(entries, entry{inv: t})
	}
	extraNames := make([]string, 0, len(tops.Extra))
	for n := range tops.Extra {
		extraNames = append(extraNames, n)
	}
	sort.Strings(extraNames)
	for _, n := range extraNames {
		rt := tops.Extra[n]
		entries = append(entries, entry{inv: InventoryTopic{Name: n, Key: "", Producers: "", Consumers: ""}, extra: &rt, field: "topics.extra." + n})
	}

	// Kafka treats '.' and '_' alike in metric names and refuses topics that collide.
	seen := map[string]string{}
	var out []TopicSpec
	for _, e := range entries {
		name := e.inv.Name
		if e.extra != nil {
			if why := ValidateTopicName(name); why != "" {
				p.add(e.field, name, "invalid topic name: "+why, "use 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'")
				continue
			}
			checkTopic(p, e.field, *e.extra, s)
		}
		norm := strings.ReplaceAll(name, ".", "_")
		if prev, dup := seen[norm]; dup {
			what := "duplicates topic " + strconv.Quote(prev)
			if prev != name {
				what = "collides with topic " + strconv.Quote(prev) + " ('.' and '_' are the same to Kafka)"
			}
			p.add(orField(e.field, "topics"), name, what, "rename it or remove one of them")
			continue
		}
		seen[norm] = name
		t := TopicSpec{Name: name, Key: e.inv.Key, Producers: e.inv.Producers, Consumers: e.inv.Consumers,
			Partitions: defParts, ReplicationFactor: defRF, Config: map[string]string{}}
		applyTopic(&t, *def)
		if e.extra != nil {
			applyTopic(&t, *e.extra)
		}
		if o, ok := raw.TopicOverrides[name]; ok {
			checkTopic(p, "topicOverrides."+name, o, s)
			applyTopic(&t, o)
		}
		checkResolved(p, t, s)
		out = append(out, t)
	}
	// Overrides must name a known topic: a typo would otherwise be silently ignored.
	ovNames := make([]string, 0, len(raw.TopicOverrides))
	for n := range raw.TopicOverrides {
		ovNames = append(ovNames, n)
	}
	sort.Strings(ovNames)
	for _, n := range ovNames {
		if _, ok := seen[strings.ReplaceAll(n, ".", "_")]; !ok || seen[strings.ReplaceAll(n, ".", "_")] != n {
			p.add("topicOverrides."+n, n, "names no topic in the inventory or topics.extra", "fix the name (known: "+strings.Join(knownTopicNames(tops), ", ")+") or add it under topics.extra")
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func orField(f, d string) string {
	if f == "" {
		return d
	}
	return f
}

func knownTopicNames(tops *RawTopics) []string {
	var names []string
	for _, t := range Inventory {
		names = append(names, t.Name)
	}
	for n := range tops.Extra {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func applyTopic(t *TopicSpec, r RawTopic) {
	if r.Partitions != nil {
		t.Partitions = *r.Partitions
	}
	if r.ReplicationFactor != nil {
		t.ReplicationFactor = *r.ReplicationFactor
	}
	if r.RetentionHours != nil {
		if *r.RetentionHours == -1 {
			t.Config["retention.ms"] = "-1"
		} else {
			t.Config["retention.ms"] = strconv.FormatInt(int64(*r.RetentionHours)*3600*1000, 10)
		}
	}
	if r.CleanupPolicy != nil {
		t.Config["cleanup.policy"] = *r.CleanupPolicy
	}
	for k, v := range r.Config {
		t.Config[k] = v
	}
}

// checkTopic validates the values one topicDefaults/topicOverrides/extra entry sets.
func checkTopic(p *problems, field string, r RawTopic, s *Spec) {
	if r.Partitions != nil && *r.Partitions < 1 {
		p.add(field+".partitions", *r.Partitions, "must be at least 1", "set partitions to 1 or more")
	}
	if r.ReplicationFactor != nil && *r.ReplicationFactor < 1 {
		p.add(field+".replicationFactor", *r.ReplicationFactor, "must be at least 1", "set it to 1 (dev) or 3 (prod)")
	}
	if r.RetentionHours != nil && (*r.RetentionHours < -1 || *r.RetentionHours == 0) {
		p.add(field+".retentionHours", *r.RetentionHours, "must be positive, or -1 to keep data forever", "use 168 (7 days)")
	}
	if r.CleanupPolicy != nil && !contains(CleanupPolicies, *r.CleanupPolicy) {
		p.add(field+".cleanupPolicy", *r.CleanupPolicy, "unknown cleanup policy (allowed: "+strings.Join(CleanupPolicies, ", ")+")", "use delete or compact")
	}
	keys := make([]string, 0, len(r.Config))
	for k := range r.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !topicConfigRE.MatchString(k) {
			p.add(field+".config", k, "is not a Kafka topic config name (lower-case words joined by '.')", "use a name from Kafka's topic configs, e.g. retention.ms")
		}
		if k == "min.insync.replicas" {
			if n, err := strconv.Atoi(r.Config[k]); err != nil || n < 1 {
				p.add(field+".config.min.insync.replicas", r.Config[k], "must be a whole number of at least 1", "use 1 (dev) or 2 (prod)")
			}
		}
	}
}

// checkResolved checks one resolved topic against the cluster it lands on.
func checkResolved(p *problems, t TopicSpec, s *Spec) {
	field := "topics." + t.Name
	if s.Brokers >= 1 && t.ReplicationFactor > s.Brokers {
		p.add(field+".replicationFactor", t.ReplicationFactor, fmt.Sprintf("exceeds brokers (%d): Kafka cannot place more copies than brokers", s.Brokers),
			fmt.Sprintf("lower it to %d (topicDefaults or topicOverrides.%s) or raise brokers", s.Brokers, t.Name))
	}
	minISR := s.Broker.MinInsyncReplicas
	if v, ok := t.Config["min.insync.replicas"]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			minISR = n
		}
	}
	if t.ReplicationFactor >= 1 && minISR > t.ReplicationFactor {
		p.add(field+".replicationFactor", t.ReplicationFactor, fmt.Sprintf("is below min.insync.replicas (%d): every acks=all write would fail with NOT_ENOUGH_REPLICAS", minISR),
			fmt.Sprintf("raise the replication factor to at least %d or lower min.insync.replicas", minISR))
	}
}

// checkTopicAccess validates topics.access: a known mode, used with the
// provider manager, and with bootstrap servers the tunnel can map to pods.
func checkTopicAccess(p *problems, s *Spec) {
	switch s.TopicProvider.Access {
	case TopicAccessDirect:
		return
	case TopicAccessKubernetes:
	default:
		p.add("topics.access", s.TopicProvider.Access, "unknown access mode (allowed: direct, kubernetes)",
			"use direct (the deploy machine reaches every broker's address) or kubernetes (through the Kubernetes API, from outside the cluster)")
		return
	}
	if s.TopicManager == TopicManagerJob {
		p.add("topics.access", s.TopicProvider.Access, "applies only to topics.manager = provider (the job already runs inside the cluster)",
			"remove topics.access or set topics.manager = provider")
	}
	for i, addr := range s.TopicProvider.BootstrapServers {
		host, _, _ := strings.Cut(addr, ":")
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		svc := "." + s.Namespace + ".svc"
		if !strings.HasSuffix(host, svc) && !strings.Contains(host, svc+".") {
			p.add(fmt.Sprintf("topics.bootstrapServers[%d]", i), addr,
				fmt.Sprintf("is not an in-cluster name in namespace %s, which topics.access = kubernetes needs to find the broker pod", s.Namespace),
				fmt.Sprintf("leave bootstrapServers empty (the kafka Service) or use kafka-0.kafka-headless.%s.svc:9092", s.Namespace))
		}
	}
}
