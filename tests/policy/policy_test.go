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
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
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
	b, err := json.Marshal(list[0].Mappable())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, out), "%s inputs as a Kubernetes object", token)
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
	rec.only(t, tokenNetworkPolicy, np)
	np.APIVersion, np.Kind = "networking.k8s.io/v1", "NetworkPolicy"

	var ns corev1.Namespace
	rec.only(t, tokenNamespace, &ns)
	nsLabels := map[string]string{}
	for k, v := range ns.Labels {
		nsLabels[k] = v
	}
	// The API server adds this label to every namespace; policies select on it.
	nsLabels[components.NamespaceNameLabel] = ns.Name

	var sts struct {
		Spec struct {
			Template struct {
				Metadata struct {
					Labels map[string]string `json:"labels"`
				} `json:"metadata"`
			} `json:"template"`
		} `json:"spec"`
	}
	rec.only(t, tokenStatefulSet, &sts)
	require.NotEmpty(t, sts.Spec.Template.Metadata.Labels)
	return rendered{policy: np, nsLabels: nsLabels, brokerLabel: sts.Spec.Template.Metadata.Labels}
}

// peer is one traffic source of the table.
type peer struct {
	name string
	tp   *matcher.TrafficPeer
}

// inNamespace is a pod with podLabels in namespace ns, whose labels are extra plus
// the kubernetes.io/metadata.name label every namespace carries.
func inNamespace(ns string, extra, podLabels map[string]string) *matcher.TrafficPeer {
	nsLabels := map[string]string{components.NamespaceNameLabel: ns}
	for k, v := range extra {
		nsLabels[k] = v
	}
	if podLabels == nil {
		podLabels = map[string]string{"app": "client"}
	}
	return &matcher.TrafficPeer{IP: "10.0.0.10", Internal: &matcher.InternalPeer{Namespace: ns, NamespaceLabels: nsLabels, PodLabels: podLabels}}
}

var ports = []struct {
	number int
	name   string
}{
	{components.ClientPort, components.ClientPortName},
	{components.ControllerPort, components.ControllerPortName},
	{components.MetricsPort, components.MetricsPortName},
}

// TestNetworkPolicyTruthTable evaluates the rendered dev and prod policy for every
// peer on every broker port and asserts the whole table. It guards the rules a
// refactor most easily breaks: brokers reaching each other on the controller port
// (without it a 3-broker quorum never forms), the monitoring namespace limited to
// metrics, and the broker namespace itself not being open to every pod in it.
func TestNetworkPolicyTruthTable(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			r := render(t, stack)
			ns := r.policy.Namespace
			require.Equal(t, "umbrella-streaming", ns)
			// The access label the table grants must be the one the policy selects on.
			require.Equal(t, "true", namespaceLabelSelected(r.policy, "umbrella-kafka-access"),
				"the policy selects namespaces labelled umbrella-kafka-access=true")

			access := map[string]string{"umbrella-kafka-access": "true"}
			withAccess := map[string]string{"app": "topic-job", "umbrella-kafka-access": "true"}
			broker := &matcher.TrafficPeer{IP: "10.0.0.2", Internal: &matcher.InternalPeer{
				Namespace: ns, NamespaceLabels: r.nsLabels, PodLabels: r.brokerLabel}}
			ownNS := func(podLabels map[string]string) *matcher.TrafficPeer {
				return &matcher.TrafficPeer{IP: "10.0.0.3", Internal: &matcher.InternalPeer{
					Namespace: ns, NamespaceLabels: r.nsLabels, PodLabels: podLabels}}
			}
			peers := []peer{
				{"ns team-a labelled umbrella-kafka-access=true", inNamespace("team-a", access, nil)},
				{"ns team-b unlabelled", inNamespace("team-b", nil, nil)},
				{"ns umbrella-ingestion (allowed by name)", inNamespace("umbrella-ingestion", nil, nil)},
				{"broker pod in umbrella-streaming", broker},
				{"ns monitoring (prometheus)", inNamespace("monitoring", nil, map[string]string{"app.kubernetes.io/name": "prometheus"})},
				{"outside the cluster (203.0.113.7)", &matcher.TrafficPeer{IP: "203.0.113.7"}},
				{"pod in umbrella-streaming, no access label", ownNS(map[string]string{"app": "debug"})},
				{"pod in umbrella-streaming with access label", ownNS(withAccess)},
			}
			// want[peer] = allowed on 9092, 9093, 9404.
			want := map[string][3]bool{
				"ns team-a labelled umbrella-kafka-access=true": {true, false, false},
				"ns team-b unlabelled":                          {false, false, false},
				"ns umbrella-ingestion (allowed by name)":       {true, false, false},
				"broker pod in umbrella-streaming":              {true, true, false},
				"ns monitoring (prometheus)":                    {false, false, true},
				"outside the cluster (203.0.113.7)":             {false, false, false},
				"pod in umbrella-streaming, no access label":    {false, false, false},
				"pod in umbrella-streaming with access label":   {true, false, false},
			}

			policy := matcher.BuildNetworkPolicies(true, []*networkingv1.NetworkPolicy{r.policy})
			var table strings.Builder
			fmt.Fprintf(&table, "%s: ingress to broker pods %v in %s\n", stack, sortedLabels(r.brokerLabel), ns)
			fmt.Fprintf(&table, "%-48s %-8s %-8s %-8s\n", "source", "9092", "9093", "9404")
			for _, p := range peers {
				fmt.Fprintf(&table, "%-48s", p.name)
				for i, port := range ports {
					traffic := &matcher.Traffic{
						Source:           p.tp,
						Destination:      broker,
						ResolvedPort:     port.number,
						ResolvedPortName: port.name,
						Protocol:         corev1.ProtocolTCP,
					}
					got := policy.IsTrafficAllowed(traffic).IsAllowed()
					fmt.Fprintf(&table, " %-8s", verdict(got))
					assert.Equal(t, want[p.name][i], got, "%s: %s -> %d", stack, p.name, port.number)
				}
				table.WriteString("\n")
			}
			t.Log("\n" + table.String())
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

func verdict(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}

func sortedLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k+"="+m[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}
