// Package tests holds the program-level tests: the whole program under Pulumi's
// mocks (shape), the seed scripts against the Go inventory, and (with the
// integration build tag) the real engine against a real API server.
package tests

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
	"github.com/umbrella-platform/umbrella-streaming/config"
)

// registered is one resource the program registered under mocks.
type registered struct {
	Type   string
	Name   string
	Parent string // parent URN's name part
	Inputs resource.PropertyMap
	Custom bool
	// Deps are the names of the resources it was registered to depend on.
	Deps []string
}

// recorder is a MockResourceMonitor that records registrations and answers the
// guard's StackReference with previousOutputs.
type recorder struct {
	mu              sync.Mutex
	resources       []registered
	previousOutputs resource.PropertyMap
}

func urnName(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}

func (r *recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	parent := ""
	if args.RegisterRPC != nil {
		parent = urnName(args.RegisterRPC.GetParent())
	}
	if args.ReadRPC != nil {
		parent = urnName(args.ReadRPC.GetParent())
	}
	var deps []string
	if args.RegisterRPC != nil {
		for _, d := range args.RegisterRPC.GetDependencies() {
			deps = append(deps, urnName(d))
		}
	}
	r.resources = append(r.resources, registered{Type: args.TypeToken, Name: args.Name, Parent: parent, Inputs: args.Inputs, Custom: args.Custom, Deps: deps})
	if args.TypeToken == "pulumi:pulumi:StackReference" {
		out := resource.PropertyMap{"name": args.Inputs["name"], "outputs": resource.NewObjectProperty(r.previousOutputs)}
		if r.previousOutputs == nil {
			out["outputs"] = resource.NewObjectProperty(resource.PropertyMap{})
		}
		return args.Name, out, nil
	}
	return args.Name + "-id", mockOutputs(args), nil
}

// mockOutputs are a resource's outputs under mocks: its inputs, plus what the
// umbrellakafka provider computes for the secure mode's resources (fixed
// stand-ins, so tests can follow them into Secrets and provider settings).
func mockOutputs(args pulumi.MockResourceArgs) resource.PropertyMap {
	out := args.Inputs.Copy()
	switch args.TypeToken {
	case "umbrellakafka:index:ListenerCertificates":
		out["caCertPem"] = resource.NewStringProperty("mock-ca-cert")
		out["serverCertPem"] = resource.NewStringProperty("mock-server-cert")
		out["serverKeystorePem"] = resource.MakeSecret(resource.NewStringProperty("mock-server-keystore"))
		out["notAfter"] = resource.NewStringProperty("2027-11-30T00:00:00Z")
		clients := resource.PropertyMap{}
		for _, cn := range args.Inputs["clientCommonNames"].ArrayValue() {
			clients[resource.PropertyKey(cn.StringValue())] = resource.NewObjectProperty(resource.PropertyMap{
				"certPem": resource.NewStringProperty("mock-cert-" + cn.StringValue()),
				"keyPem":  resource.MakeSecret(resource.NewStringProperty("mock-key-" + cn.StringValue())),
			})
		}
		out["clientCertificates"] = resource.NewObjectProperty(clients)
	case "umbrellakafka:index:UserScramCredential":
		out["password"] = resource.MakeSecret(resource.NewStringProperty("mock-password-" + args.Inputs["username"].StringValue()))
	}
	return out
}

func (r *recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

func (r *recorder) byType(typ string) []registered {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []registered
	for _, res := range r.resources {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *recorder) one(t *testing.T, typ, name string) registered {
	t.Helper()
	for _, res := range r.byType(typ) {
		if res.Name == name {
			return res
		}
	}
	require.Failf(t, "resource not registered", "%s %s", typ, name)
	return registered{}
}

// stackConfig reads ../Pulumi.<stack>.yaml into the engine's config map form.
func stackConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	m, err := config.ReadStackFile(filepath.Join("..", "Pulumi."+stack+".yaml"))
	require.NoError(t, err)
	out := map[string]string{}
	for k, v := range m {
		out[config.Project+":"+k] = v
	}
	return out
}

// setConfig hands cfg to the program the way the engine does.
func setConfig(t *testing.T, cfg map[string]string) {
	t.Helper()
	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	t.Setenv("PULUMI_CONFIG", string(j))
}
