package tests

import (
	"context"
	"errors"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/internal/kafkaadmin"
	"github.com/umbrella-platform/umbrella-streaming/program"
)

// The brokers guard's decisions, with the live cluster replaced by a fake. The
// guard asks the cluster only when the topic Job manages the topics: with the
// provider, the ReplicaPlacement drain empties the brokers in the update
// itself (TestLoweringBrokersWithTheProviderDrainsFirst). The same story on
// real pods through the real engine is in tests/realnode.

// jobProd is the prod stack with the topic Job (which secure mode refuses, so
// plaintext): the configuration in which lowering brokers is checked live.
func jobProd(t *testing.T) map[string]string {
	cfg := stackConfig(t, "prod")
	cfg["umbrella-streaming:topics"] = `{"manager":"job"}`
	cfg["umbrella-streaming:security"] = `{"mode":"none"}`
	return cfg
}

// deployedJobProd is deployedProd of a plaintext stack.
func deployedJobProd(n string) resource.PropertyMap {
	m := deployedProd(n)
	m["guarded"].ObjectValue()["security.mode"] = resource.NewStringProperty("none")
	return m
}

// deployedProd is the guarded output of a deployed prod stack with n brokers.
func deployedProd(n string) resource.PropertyMap {
	return resource.NewPropertyMapFromMap(map[string]any{"guarded": map[string]any{
		"broker.minInsyncReplicas": "2", "brokers": n, "clusterId": "MjPBEhmLSH-4IwmCODRzPg", "controllers": "3",
		"storage.size": "100Gi", "storage.storageClass": "", "security.mode": "sasl-scram",
	}})
}

// fakeCluster records what the guard asked and answers with held.
type fakeCluster struct {
	asked [][]int32
	held  map[int32][]string
	err   error
}

func (f *fakeCluster) check(_ context.Context, _ *config.Spec, _ *program.DeployerTLS, removed []int32) (map[int32][]string, error) {
	f.asked = append(f.asked, removed)
	return f.held, f.err
}

func runChecked(t *testing.T, cfg map[string]string, prev resource.PropertyMap, f *fakeCluster) (*recorder, error) {
	t.Helper()
	setConfig(t, cfg)
	rec := &recorder{previousOutputs: prev}
	err := pulumi.RunErr(program.RunWith(program.Options{BrokerCheck: f.check}), pulumi.WithMocks("umbrella-streaming", "prod", rec))
	return rec, err
}

func TestLoweringBrokersIsRefusedWhileTheRemovedBrokersHoldReplicas(t *testing.T) {
	f := &fakeCluster{held: map[int32][]string{
		3: {"__consumer_offsets-1", "alerts-0", "alerts-1", "alerts-2", "dead-letter-0", "dead-letter-2", "raw-messages-0"},
		4: {"alerts-2"},
	}}
	rec, err := runChecked(t, jobProd(t), deployedJobProd("5"), f)
	require.Error(t, err)
	assert.Equal(t, [][]int32{{3, 4}}, f.asked, "the brokers above the new count are checked")
	assert.Contains(t, err.Error(), `brokers changed from "5" to "3" on a deployed stack while broker 3 holds 7 `+
		`(__consumer_offsets-1, alerts-0, alerts-1, alerts-2, dead-letter-0 and 2 more); broker 4 holds 1 (alerts-2): `+
		`with topics.manager = job (the provider's drain moves the data first otherwise), the broker pods removed would take their partition replicas with them`)
	assert.Contains(t, err.Error(), "kafka-reassign-partitions.sh --generate --broker-list 0,...,<brokers-1>")
	assert.Contains(t, err.Error(), "guardOverrides: [brokers] skips the check for one update")
	for _, r := range rec.resources {
		assert.Contains(t, []string{"pulumi:pulumi:Stack", "pulumi:pulumi:StackReference"}, r.Type,
			"nothing but the stack and the read of its last outputs may be registered, got %s %s", r.Type, r.Name)
	}
}

func TestLoweringBrokersPassesOnceTheyAreEmpty(t *testing.T) {
	f := &fakeCluster{held: map[int32][]string{}}
	rec, err := runChecked(t, jobProd(t), deployedJobProd("4"), f)
	require.NoError(t, err)
	assert.Equal(t, [][]int32{{3}}, f.asked)
	sts := rec.one(t, "kubernetes:apps/v1:StatefulSet", "kafka").Inputs
	assert.Equal(t, 3.0, sts["spec"].ObjectValue()["replicas"].NumberValue())
}

func TestLoweringBrokersWhenTheClusterCannotBeAskedIsRefused(t *testing.T) {
	f := &fakeCluster{err: errors.New("dial tcp: no route")}
	_, err := runChecked(t, jobProd(t), deployedJobProd("4"), f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `brokers changed from "4" to "3" on a deployed stack, and whether any partition replica is left on broker 3 `+
		`could not be checked (dial tcp: no route): run the preview where the brokers are reachable`)
}

func TestLoweringBrokersWithTheOverrideSkipsTheCheck(t *testing.T) {
	f := &fakeCluster{err: errors.New("must not be asked")}
	cfg := jobProd(t)
	cfg["umbrella-streaming:guardOverrides"] = `["brokers"]`
	_, err := runChecked(t, cfg, deployedJobProd("4"), f)
	require.NoError(t, err)
	assert.Empty(t, f.asked)
}

func TestRaisingBrokersIsNeverChecked(t *testing.T) {
	f := &fakeCluster{err: errors.New("must not be asked")}
	rec, err := runChecked(t, stackConfig(t, "prod"), deployedProd("2"), f)
	require.NoError(t, err)
	assert.Empty(t, f.asked)
	cm := rec.one(t, "kubernetes:core/v1:ConfigMap", "kafka-config").Inputs["data"].ObjectValue()
	assert.Contains(t, cm, resource.PropertyKey("node-2.properties"))
}

// The guard's live check reaches the brokers exactly as the Kafka admin provider the
// program registers does: both come from the same spec, by two builders. In
// secure prod both connect as the deployer over mTLS (the guard with the
// identity the last deployment exported), in both access modes.
func TestGuardReachesTheBrokersLikeTheKafkaAdmin(t *testing.T) {
	deployer := &program.DeployerTLS{CACert: "mock-ca-cert", ClientCert: "mock-cert-umbrella-deployer", ClientKey: "mock-key-umbrella-deployer"}
	for _, stack := range []string{"dev", "prod"} {
		for _, access := range []string{config.AdminAccessKubernetes, config.AdminAccessDirect} {
			t.Run(stack+"/"+access, func(t *testing.T) {
				cfg := stackConfig(t, stack)
				cfg["umbrella-streaming:topics"] = `{"manager":"provider","access":"` + access + `"}`
				if access == config.AdminAccessDirect {
					cfg["umbrella-streaming:topics"] = `{"manager":"provider","access":"direct","bootstrapServers":["127.0.0.1:19092"]}`
				}
				rec, err := run(t, stack, cfg, nil)
				require.NoError(t, err)
				registered := rec.one(t, "pulumi:providers:umbrellakafka", "kafka-admin").Inputs

				setConfig(t, cfg)
				var pc kafkaadmin.Connection
				require.NoError(t, pulumi.RunErr(func(ctx *pulumi.Context) error {
					s, err := program.LoadSpec(ctx)
					if err == nil {
						tls := deployer
						if !s.Secure() {
							tls = nil
						}
						pc = program.Connection(s, tls)
					}
					return err
				}, pulumi.WithMocks("umbrella-streaming", stack, &recorder{})))

				var servers []string
				for _, v := range registered["bootstrapServers"].ArrayValue() {
					servers = append(servers, v.StringValue())
				}
				assert.Equal(t, servers, pc.BootstrapServers)
				assert.Equal(t, registered["tlsEnabled"].BoolValue(), pc.TLS != nil, "tlsEnabled registered and TLS in Connection")
				assert.Equal(t, registered["timeout"].NumberValue(), pc.Timeout.Seconds(), "timeout registered and in Connection")
				if stack == "prod" {
					require.NotNil(t, pc.TLS, "secure prod")
					for key, got := range map[string]string{"caCert": pc.TLS.CACert, "clientCert": pc.TLS.ClientCert, "clientKey": pc.TLS.ClientKey} {
						assert.Equal(t, unsecret(registered[resource.PropertyKey(key)]).StringValue(), got, "%s registered and in Connection", key)
					}
				}
				k, ok := registered["kubernetes"]
				require.Equal(t, ok, pc.Kubernetes != nil, "kubernetes option registered %v, in Connection %v", ok, pc.Kubernetes)
				if ok {
					obj := k.ObjectValue()
					assert.Equal(t, obj["namespace"].StringValue(), pc.Kubernetes.Namespace)
					assert.Equal(t, obj["statefulSet"].StringValue(), pc.Kubernetes.StatefulSet)
					assert.Equal(t, obj["headlessService"].StringValue(), pc.Kubernetes.HeadlessService)
					assert.Equal(t, obj["bootstrapService"].StringValue(), pc.Kubernetes.BootstrapService)
				}
			})
		}
	}
}

// With the provider, lowering brokers is not refused and the cluster is not
// asked at preview: the drain, which the StatefulSet waits for, moves every
// replica off the removed brokers in the update, and the balance after the
// StatefulSet spreads them over the brokers left.
func TestLoweringBrokersWithTheProviderDrainsFirst(t *testing.T) {
	f := &fakeCluster{err: errors.New("must not be asked")}
	rec, err := runChecked(t, stackConfig(t, "prod"), deployedProd("5"), f)
	require.NoError(t, err)
	assert.Empty(t, f.asked)
	drain := rec.one(t, "umbrellakafka:index:ReplicaPlacement", "placement-drain").Inputs
	assert.Equal(t, 3.0, drain["brokers"].NumberValue())
	assert.Equal(t, "drain", drain["mode"].StringValue())
	balance := rec.one(t, "umbrellakafka:index:ReplicaPlacement", "placement-balance").Inputs
	assert.Equal(t, 3.0, balance["brokers"].NumberValue())
	assert.Equal(t, "balance", balance["mode"].StringValue())
	sts := rec.one(t, "kubernetes:apps/v1:StatefulSet", "kafka")
	assert.Contains(t, sts.Deps, "placement-drain", "the StatefulSet shrinks only after the drain")
	assert.Contains(t, rec.one(t, "umbrellakafka:index:ReplicaPlacement", "placement-balance").Deps, "kafka",
		"the balance runs after the StatefulSet")
}
