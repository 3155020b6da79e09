// Package policy checks the broker NetworkPolicy the program renders against the
// NetworkPolicy semantics of the Kubernetes conformance tests, as implemented by
// cyclonus' matcher: no cluster and no CNI, but the real networking.k8s.io/v1
// object, evaluated peer by peer and port by port.
package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/program"
)

// Pulumi type tokens of the objects the truth table reads.
const (
	tokenNetworkPolicy = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tokenNamespace     = "kubernetes:core/v1:Namespace"
	tokenStatefulSet   = "kubernetes:apps/v1:StatefulSet"
	tokenDeployment    = "kubernetes:apps/v1:Deployment"
)

// recorder is a MockResourceMonitor that keeps every registration's inputs and
// answers the guard's StackReference with no previous outputs (a fresh stack).
type recorder struct {
	mu        sync.Mutex
	resources map[string][]resource.PropertyMap // by type token
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resources[args.TypeToken] = append(r.resources[args.TypeToken], args.Inputs)
	if args.TypeToken == "pulumi:pulumi:StackReference" {
		return args.Name, resource.PropertyMap{
			"name":    args.Inputs["name"],
			"outputs": resource.NewObjectProperty(resource.PropertyMap{}),
		}, nil
	}
	return args.Name + "-id", args.Inputs, nil
}

func (r *recorder) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

// only returns the inputs of the single resource of this type, decoded into out
// through JSON (the shape the Kubernetes API types read).
func (r *recorder) only(t *testing.T, token string, out any) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.resources[token]
	require.Len(t, list, 1, "exactly one %s registered", token)
	decode(t, token, list[0], out)
}

// named returns the inputs of the one resource of this type whose Kubernetes
// name (metadata.name) is name, decoded into out like only.
func (r *recorder) named(t *testing.T, token, name string, out any) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []resource.PropertyMap
	for _, in := range r.resources[token] {
		if md, ok := in["metadata"]; ok && md.IsObject() {
			if n, ok := md.ObjectValue()["name"]; ok && n.IsString() && n.StringValue() == name {
				found = append(found, in)
			}
		}
	}
	require.Len(t, found, 1, "exactly one %s named %s registered", token, name)
	decode(t, token, found[0], out)
}

func decode(t *testing.T, token string, in resource.PropertyMap, out any) {
	t.Helper()
	b, err := json.Marshal(in.Mappable())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, out), "%s inputs as a Kubernetes object", token)
}

// podTemplate is the pod template's labels of a StatefulSet or Deployment.
type podTemplate struct {
	Spec struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		} `json:"template"`
	} `json:"spec"`
}

// stackConfig reads ../../Pulumi.<stack>.yaml into the engine's config map form.
func stackConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "Pulumi."+stack+".yaml"))
	require.NoError(t, err)
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	out := map[string]string{}
	for k, v := range doc.Config {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		j, err := json.Marshal(v)
		require.NoError(t, err)
		out[k] = string(j)
	}
	return out
}

// rendered is what the program registered that the truth table needs.
type rendered struct {
	policy      *networkingv1.NetworkPolicy
	nsLabels    map[string]string // the broker namespace, as Kubernetes would label it
	brokerLabel map[string]string // the broker pod template's labels
	// exporterPolicy and exporterLabel are the lag exporter's NetworkPolicy
	// and pod template labels.
	exporterPolicy *networkingv1.NetworkPolicy
	exporterLabel  map[string]string
}

// render runs the whole program for a stack under mocks.
func render(t *testing.T, stack string) rendered {
	t.Helper()
	cfg, err := json.Marshal(stackConfig(t, stack))
	require.NoError(t, err)
	t.Setenv("PULUMI_CONFIG", string(cfg))
	rec := &recorder{resources: map[string][]resource.PropertyMap{}}
	require.NoError(t, pulumi.RunErr(program.Run, pulumi.WithMocks("umbrella-streaming", stack, rec)))

	np := &networkingv1.NetworkPolicy{}
	rec.named(t, tokenNetworkPolicy, components.NetworkPolicyName, np)
	np.APIVersion, np.Kind = "networking.k8s.io/v1", "NetworkPolicy"
	ep := &networkingv1.NetworkPolicy{}
	rec.named(t, tokenNetworkPolicy, components.LagExporterName, ep)
	ep.APIVersion, ep.Kind = "networking.k8s.io/v1", "NetworkPolicy"

	var ns corev1.Namespace
	rec.only(t, tokenNamespace, &ns)
	nsLabels := map[string]string{}
	for k, v := range ns.Labels {
		nsLabels[k] = v
	}
	// The API server adds this label to every namespace; policies select on it.
	nsLabels[components.NamespaceNameLabel] = ns.Name

	var sts, exporter podTemplate
	rec.only(t, tokenStatefulSet, &sts)
	require.NotEmpty(t, sts.Spec.Template.Metadata.Labels)
	rec.named(t, tokenDeployment, components.LagExporterName, &exporter)
	require.NotEmpty(t, exporter.Spec.Template.Metadata.Labels)
	return rendered{policy: np, nsLabels: nsLabels, brokerLabel: sts.Spec.Template.Metadata.Labels,
		exporterPolicy: ep, exporterLabel: exporter.Spec.Template.Metadata.Labels}
}

// TestNetworkPolicyTruthTable evaluates the rendered dev and prod policy for every
// peer on every broker port (INTERNAL only where it listens: prod's secure mode)
// and asserts the whole table against the one expected table (table.go), which
// the real node tier also measures with packets. It guards the rules a refactor
// most easily breaks: brokers reaching each other on the controller port
// (without it a 3-broker quorum never forms), the monitoring namespace limited
// to metrics, and the broker namespace itself not being open to every pod in it.
func TestNetworkPolicyTruthTable(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			r := render(t, stack)
			ns := r.policy.Namespace
			require.Equal(t, "umbrella-streaming", ns)
			// The access label the table grants must be the one the policy selects on.
			require.Equal(t, "true", namespaceLabelSelected(r.policy, "umbrella-kafka-access"),
				"the policy selects namespaces labelled umbrella-kafka-access=true")
			secure := stack == "prod"
			ports := Ports(secure)
			peers := Peers(ns)
			broker := Subject{Namespace: ns, NamespaceLabels: r.nsLabels, PodLabels: r.brokerLabel}
			table := Table(fmt.Sprintf("%s: ingress to broker pods %v in %s", stack, SortedLabels(r.brokerLabel), ns), peers, ports,
				func(i, j int) (string, bool) {
					p := peers[i]
					got := Allowed(r.policy, p.TrafficPeer(broker, p.DeclaredLabels), broker, ports[j])
					assert.Equal(t, p.Want(ports[j].Number), got, "%s: %s -> %d", stack, p.Name, ports[j].Number)
					return Verdict(got), true
				})
			t.Log("\n" + table)
		})
	}
}

// The table's lag exporter row stands for the real exporter pods: the
// Deployment's pod labels carry the labels the row (and the broker policy's
// rule) select on. And the exporter's own policy lets only the monitoring
// namespace reach its metrics port: not the brokers, not the clients, not the
// rest of the namespace.
func TestLagExporterPolicyTruthTable(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			r := render(t, stack)
			ns := r.policy.Namespace
			for k, v := range components.LagExporterSelectorLabels() {
				require.Equal(t, v, r.exporterLabel[k], "exporter pod label %s", k)
			}
			exporter := Subject{Namespace: ns, NamespaceLabels: r.nsLabels, PodLabels: r.exporterLabel}
			broker := Subject{Namespace: ns, NamespaceLabels: r.nsLabels, PodLabels: r.brokerLabel}
			port := Port{components.LagExporterPort, components.LagExporterPortName}
			peers := Peers(ns)
			table := Table(fmt.Sprintf("%s: ingress to lag exporter pods %v in %s", stack, SortedLabels(r.exporterLabel), ns), peers, []Port{port},
				func(i, _ int) (string, bool) {
					p := peers[i]
					src := p.TrafficPeer(broker, p.DeclaredLabels)
					got := Allowed(r.exporterPolicy, src, exporter, port)
					assert.Equal(t, p.Namespace == "monitoring", got, "%s: %s -> %d", stack, p.Name, port.Number)
					return Verdict(got), true
				})
			t.Log("\n" + table)
		})
	}
}

// namespaceLabelSelected returns the value a namespaceSelector of the policy
// requires for key, or "" when none does.
func namespaceLabelSelected(np *networkingv1.NetworkPolicy, key string) string {
	for _, rule := range np.Spec.Ingress {
		for _, from := range rule.From {
			if from.NamespaceSelector != nil {
				if v, ok := from.NamespaceSelector.MatchLabels[key]; ok {
					return v
				}
			}
		}
	}
	return ""
}
