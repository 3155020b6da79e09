package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestValidationReportsEveryProblemAtOnce(t *testing.T) {
	r := validDev()
	r.Brokers = ip(0)
	r.Storage = &RawStorage{Size: sp("10Gx")}
	r.Broker = &RawBroker{CompressionType: sp("brotli")}
	_, err := Build("dev", r)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{
		"brokers = 0: must be at least 1; set brokers to 1 (dev) or 3 (prod)",
		"storage.size = \"10Gx\": is not a Kubernetes quantity; write it like 10Gi or 500Gi",
		"broker.compressionType = \"brotli\": unknown compression type (allowed: gzip, lz4, producer, snappy, uncompressed, zstd); use producer to keep what producers send (gzip)",
	}, ve.Problems)
	assert.Contains(t, err.Error(), "umbrella-streaming: invalid stack config (3 problem(s)); nothing was deployed:\n  - brokers = 0")
}

func TestDefaultsAreTheSeedValues(t *testing.T) {
	s, err := Build("dev", validDev())
	require.NoError(t, err)
	assert.Equal(t, "umbrella-streaming", s.Namespace)
	assert.Equal(t, ImageSpec{Name: "registry.umbrella.internal/umbrella/kafka:4.1.1-umbrella.1", BuildName: DefaultBuildImageName, PullPolicy: "Always"}, s.Image)
	assert.Equal(t, StorageSpec{Size: "10Gi"}, s.Storage)
	assert.Equal(t, KafkaSpec{Version: "4.1.1"}, s.Kafka, "the plan's release, the metadata version left as formatted")
	assert.Equal(t, ResourcesSpec{RequestsCPU: "250m", RequestsMemory: "512Mi", LimitsCPU: "1", LimitsMemory: "2Gi"}, s.Resources)
	assert.Equal(t, BrokerSpec{MinInsyncReplicas: 1, DefaultReplicationFactor: 1, NumPartitions: 1, RetentionHours: 168,
		RetentionBytes: -1, CompressionType: "producer", HeapOpts: DefaultHeapOpts}, s.Broker)
	assert.Equal(t, TopicManagerProvider, s.TopicManager)
	assert.True(t, s.NetworkPolicy.Enabled)
	assert.Equal(t, []string{"umbrella-connectors", "umbrella-ingestion", "umbrella-processing", "umbrella-storage", "umbrella-ui"}, s.NetworkPolicy.AllowedNamespaces)
	assert.Equal(t, "umbrella-kafka-access", s.NetworkPolicy.AccessLabelKey)
	assert.Equal(t, "true", s.NetworkPolicy.AccessLabelValue)
	require.Len(t, s.Topics, 7)
	for _, tp := range s.Topics {
		assert.Equal(t, 1, tp.Partitions, tp.Name)
		assert.Equal(t, 1, tp.ReplicationFactor, tp.Name)
		assert.Empty(t, tp.Config, tp.Name)
	}
}

func TestTopicsAreSortedAndOverridesApplyOnTopOfDefaults(t *testing.T) {
	r := validDev()
	r.Brokers, r.Controllers = ip(3), ip(3)
	r.TopicDefaults = &RawTopic{Partitions: ip(3), ReplicationFactor: ip(3), RetentionHours: ip(24)}
	r.TopicOverrides = map[string]RawTopic{
		"dead-letter": {RetentionHours: ip(-1), CleanupPolicy: sp("compact"), Partitions: ip(1)},
	}
	r.Topics = &RawTopics{Extra: map[string]RawTopic{"audit.events": {Partitions: ip(6)}}}
	s, err := Build("prod", r)
	require.NoError(t, err)
	var names []string
	for _, tp := range s.Topics {
		names = append(names, tp.Name)
	}
	assert.Equal(t, []string{"alerts", "audit.events", "dead-letter", "normalized-messages", "normalized-messages-dlq", "parsed-messages", "processing-results", "raw-messages"}, names)
	dl, ok := s.Topic("dead-letter")
	require.True(t, ok)
	assert.Equal(t, TopicSpec{ID: "dead-letter", Name: "dead-letter", Partitions: 1, ReplicationFactor: 3, Key: "raw_message_id",
		Producers: "Connector framework (DeadLetterHandler)", Consumers: "Ops / manual reprocessing",
		Config: map[string]string{"retention.ms": "-1", "cleanup.policy": "compact"}}, dl)
	audit, _ := s.Topic("audit.events")
	assert.Equal(t, 6, audit.Partitions)
	assert.Equal(t, map[string]string{"retention.ms": "86400000"}, audit.Config)
	alerts, _ := s.Topic("alerts")
	assert.Equal(t, 3, alerts.Partitions)
}

func TestQuantities(t *testing.T) {
	for in, want := range map[string]float64{"10Gi": 10 << 30, "512Mi": 512 << 20, "250m": 0.25, "1": 1, "1.5": 1.5, "2e3": 2000, "100G": 1e11} {
		got, err := ParseQuantity(in)
		require.NoError(t, err, in)
		assert.InDelta(t, want, got, 1e-9, in)
	}
	for _, bad := range []string{"10Gx", "", "Gi", "10 Gi", "1.2.3", "2GB", "-"} {
		_, err := ParseQuantity(bad)
		assert.Error(t, err, bad)
	}
}

// stackValues reads ../Pulumi.<stack>.yaml the way the engine hands values over.
func stackValues(t *testing.T, stack string) map[string]string {
	t.Helper()
	m, err := ReadStackFile(filepath.Join("..", "Pulumi."+stack+".yaml"))
	require.NoError(t, err)
	return m
}

func TestStackFilesLoad(t *testing.T) {
	dev, err := Load("dev", stackValues(t, "dev"))
	require.NoError(t, err)
	assert.Equal(t, 1, dev.Brokers)
	assert.Equal(t, 1, dev.Controllers)
	assert.Equal(t, 1, dev.Broker.MinInsyncReplicas)
	assert.Equal(t, "10Gi", dev.Storage.Size)
	assert.Equal(t, 168, dev.Broker.RetentionHours)
	assert.Equal(t, int64(-1), dev.Broker.RetentionBytes)
	assert.Equal(t, "producer", dev.Broker.CompressionType)
	for _, tp := range dev.Topics {
		assert.Equal(t, 1, tp.ReplicationFactor, tp.Name)
	}

	prod, err := Load("prod", stackValues(t, "prod"))
	require.NoError(t, err)
	assert.Equal(t, 3, prod.Brokers)
	assert.Equal(t, 3, prod.Controllers)
	assert.Equal(t, 2, prod.Broker.MinInsyncReplicas)
	assert.Equal(t, 3, prod.Broker.DefaultReplicationFactor)
	assert.Equal(t, "100Gi", prod.Storage.Size)
	assert.True(t, prod.Availability.PodDisruptionBudget)
	assert.Equal(t, SpreadRequired, prod.Availability.Spread)
	assert.True(t, prod.KafkaAdmin.ProtectTopics)
	assert.False(t, prod.KafkaAdmin.AllowReplace)
	for _, tp := range prod.Topics {
		assert.Equal(t, 3, tp.ReplicationFactor, tp.Name)
	}
	assert.NotEqual(t, dev.ClusterID, prod.ClusterID, "each stack formats its own cluster")
	assert.Empty(t, Warnings(dev), "the shipped dev stack warns about nothing")
	assert.Empty(t, Warnings(prod), "the shipped prod stack warns about nothing")
}

// The real-node tier (tests/realnode) runs the shipped stacks with a few
// overrides, copied here as devOverrides, prodOverrides and the scale story
// write them (the image is scripts/images.sh's reference in the local
// registry). They meet every rule of the preview, the heap rule included:
// prod's JVMs run -Xmx768m under a 2Gi limit.
func TestRealNodeOverridesLoad(t *testing.T) {
	image := "127.0.0.1:5000/umbrella/kafka:4.1.1-umbrella.1"
	devOverrides := map[string]string{"image": `{"name":"` + image + `"}`, "monitoring": `{"agentImage":"` + image + `"}`}
	prodOverrides := map[string]string{
		"resources": `{"requests":{"cpu":"200m","memory":"1Gi"},"limits":{"cpu":"2","memory":"2Gi"}}`,
		"broker":    `{"minInsyncReplicas":2,"defaultReplicationFactor":3,"retentionHours":168,"retentionBytes":-1,"compressionType":"producer","heapOpts":"-Xms512m -Xmx768m"}`,
		"topics":    `{"manager":"provider","access":"kubernetes","protect":true,"allowReplace":false}`,
	}
	fourBrokers := map[string]string{"brokers": "4"} // prod_scale_test.go
	for name, overrides := range map[string][]map[string]string{
		"dev": {devOverrides}, "prod": {devOverrides, prodOverrides}, "prod with four brokers": {devOverrides, prodOverrides, fourBrokers},
	} {
		stack, _, _ := strings.Cut(name, " ")
		values := stackValues(t, stack)
		for _, o := range overrides {
			for k, v := range o {
				values[k] = v
			}
		}
		s, err := Load(stack, values)
		require.NoError(t, err, name)
		assert.Empty(t, Warnings(s), name)
	}
}

// The defaults declared in Pulumi.yaml's config block and the Go defaults must be
// the same values, so `pulumi config` and the program agree.
func TestPulumiYamlDefaultsMatchGoDefaults(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "Pulumi.yaml"))
	require.NoError(t, err)
	var all struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(b, &all))
	type decl struct {
		Type    string `yaml:"type"`
		Default any    `yaml:"default"`
	}
	var doc struct{ Config map[string]decl }
	doc.Config = map[string]decl{}
	for k, n := range all.Config {
		if strings.Contains(k, ":") {
			continue // another package's value (kubernetes:…), not a declaration of ours
		}
		var d decl
		require.NoError(t, n.Decode(&d), k)
		doc.Config[k] = d
	}
	keys := Keys()
	declared := map[string]bool{}
	for k := range doc.Config {
		declared[k] = true
	}
	for _, k := range keys {
		assert.True(t, declared[k], "config key %s is read by the program but not declared in Pulumi.yaml", k)
	}
	assert.Len(t, doc.Config, len(keys), "Pulumi.yaml declares keys the program does not read")

	fromYAML := map[string]string{"clusterId": "5BlkQlAaBVX6rb9uzmmt7w"}
	for key, d := range doc.Config {
		switch v := d.Default.(type) {
		case nil:
		case string:
			fromYAML[key] = v
		default:
			j, err := json.Marshal(v)
			require.NoError(t, err)
			fromYAML[key] = string(j)
		}
	}
	withYAML, err := Load("dev", fromYAML)
	require.NoError(t, err)
	goOnly, err := Build("dev", Raw{ClusterID: sp("5BlkQlAaBVX6rb9uzmmt7w")})
	require.NoError(t, err)
	assert.Equal(t, goOnly, withYAML)
}

func TestDecodeRejectsWrongTypes(t *testing.T) {
	var ve *ValidationError
	_, err := Load("dev", map[string]string{"clusterId": "5BlkQlAaBVX6rb9uzmmt7w", "brokers": "three"})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{`brokers = "three": cannot be read as a whole number: not valid YAML/JSON of that type; check the key's type in Pulumi.yaml's config block`}, ve.Problems)

	_, err = Load("dev", map[string]string{"clusterId": "5BlkQlAaBVX6rb9uzmmt7w", "broker": `{"minInsyncReplicas":"2"}`})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []string{`broker = "{\"minInsyncReplicas\":\"2\"}": cannot be read as an object: field "minInsyncReplicas" wants a int, got a JSON string; check the key's type in Pulumi.yaml's config block`}, ve.Problems)
}

// Every release a stack may name runs the project's image of that release,
// its agent copied from it, unless the stack names another image; the
// metadata version is kept as written.
func TestKafkaVersionPicksTheProjectImage(t *testing.T) {
	for _, v := range KafkaVersions {
		r := validDev()
		r.Kafka = &RawKafka{Version: &v, MetadataVersion: sp("latest")}
		s, err := Build("dev", r)
		require.NoError(t, err, v)
		want := "registry.umbrella.internal/umbrella/kafka:" + v + "-umbrella.1"
		assert.Equal(t, want, s.Image.Name, v)
		assert.Equal(t, want, s.Image.BuildName, v)
		assert.Equal(t, want, s.Monitoring.AgentImage, v)
		assert.Equal(t, KafkaSpec{Version: v, MetadataVersion: "latest"}, s.Kafka)
	}
	r := validDev()
	r.Kafka = &RawKafka{Version: sp("4.4.0"), MetadataVersion: sp("4.2")}
	r.Image = &RawImage{Name: sp("registry.example/kafka@sha256:" + strings.Repeat("a", 64))}
	s, err := Build("dev", r)
	require.NoError(t, err, "a digest names no release, and an older metadata release is the operator's choice")
	assert.Equal(t, "4.2", s.Kafka.MetadataVersion)
}
