package provider

import (
	"context"
	"fmt"

	p "github.com/pulumi/pulumi-go-provider"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	rpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

// testServer drives the provider's gRPC server in-process (p.RawServer, no
// transport, no engine host), converting between property maps and the wire
// structs the engine would send. pulumi-go-provider's own integration package
// does not compile against pulumi sdk v3.274.1 (its fake resource monitor
// lacks the new Invoke signature), so this is the stand-in.
type testServer struct {
	rpc rpc.ResourceProviderServer
	ctx context.Context
}

func newTestServer() (*testServer, error) {
	srv, err := p.RawServer(Name, Version, Provider())(nil)
	if err != nil {
		return nil, err
	}
	return &testServer{rpc: srv, ctx: context.Background()}, nil
}

// withContext is s making its calls under ctx: cancelling ctx ends a call in
// flight, so a test that runs one in a goroutine can stop it when it ends.
func (s *testServer) withContext(ctx context.Context) *testServer {
	c := *s
	c.ctx = ctx
	return &c
}

var marshalOpts = plugin.MarshalOptions{
	KeepUnknowns: true, SkipNulls: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true,
}

func toStruct(m property.Map) (*structpb.Struct, error) {
	return plugin.MarshalProperties(presource.ToResourcePropertyMap(m), marshalOpts)
}

func fromStruct(s *structpb.Struct) (property.Map, error) {
	m, err := plugin.UnmarshalProperties(s, marshalOpts)
	return presource.FromResourcePropertyMap(m), err
}

// Configure runs CheckConfig (which applies defaults) and then Configure.
func (s *testServer) Configure(args property.Map) error {
	news, err := toStruct(args)
	if err != nil {
		return err
	}
	checked, err := s.rpc.CheckConfig(s.ctx, &rpc.CheckRequest{Urn: "urn:pulumi:test::umbrella::pulumi:providers:umbrellakafka::default", News: news})
	if err != nil {
		return err
	}
	if len(checked.Failures) > 0 {
		return fmt.Errorf("CheckConfig failures: %v", checked.Failures)
	}
	_, err = s.rpc.Configure(s.ctx, &rpc.ConfigureRequest{Args: checked.Inputs, AcceptSecrets: true, AcceptResources: true})
	return err
}

func (s *testServer) Check(req p.CheckRequest) (p.CheckResponse, error) {
	olds, err := toStruct(req.State)
	if err != nil {
		return p.CheckResponse{}, err
	}
	news, err := toStruct(req.Inputs)
	if err != nil {
		return p.CheckResponse{}, err
	}
	resp, err := s.rpc.Check(s.ctx, &rpc.CheckRequest{Urn: string(req.Urn), Olds: olds, News: news})
	if err != nil {
		return p.CheckResponse{}, err
	}
	inputs, err := fromStruct(resp.Inputs)
	var failures []p.CheckFailure
	for _, f := range resp.Failures {
		failures = append(failures, p.CheckFailure{Property: f.Property, Reason: f.Reason})
	}
	return p.CheckResponse{Inputs: inputs, Failures: failures}, err
}

var kinds = map[rpc.PropertyDiff_Kind]p.DiffKind{
	rpc.PropertyDiff_ADD: p.Add, rpc.PropertyDiff_ADD_REPLACE: p.AddReplace,
	rpc.PropertyDiff_DELETE: p.Delete, rpc.PropertyDiff_DELETE_REPLACE: p.DeleteReplace,
	rpc.PropertyDiff_UPDATE: p.Update, rpc.PropertyDiff_UPDATE_REPLACE: p.UpdateReplace,
}

func (s *testServer) Diff(req p.DiffRequest) (p.DiffResponse, error) {
	olds, err := toStruct(req.State)
	if err != nil {
		return p.DiffResponse{}, err
	}
	news, err := toStruct(req.Inputs)
	if err != nil {
		return p.DiffResponse{}, err
	}
	resp, err := s.rpc.Diff(s.ctx, &rpc.DiffRequest{Id: req.ID, Urn: string(req.Urn), Olds: olds, News: news, OldInputs: olds})
	if err != nil {
		return p.DiffResponse{}, err
	}
	out := p.DiffResponse{
		DeleteBeforeReplace: resp.DeleteBeforeReplace,
		HasChanges:          resp.Changes == rpc.DiffResponse_DIFF_SOME,
		DetailedDiff:        map[string]p.PropertyDiff{},
	}
	for k, v := range resp.DetailedDiff {
		out.DetailedDiff[k] = p.PropertyDiff{Kind: kinds[v.Kind], InputDiff: v.InputDiff}
	}
	return out, nil
}

func (s *testServer) Create(req p.CreateRequest) (p.CreateResponse, error) {
	props, err := toStruct(req.Properties)
	if err != nil {
		return p.CreateResponse{}, err
	}
	resp, err := s.rpc.Create(s.ctx, &rpc.CreateRequest{Urn: string(req.Urn), Properties: props, Preview: req.DryRun})
	if err != nil {
		return p.CreateResponse{}, err
	}
	out, err := fromStruct(resp.Properties)
	return p.CreateResponse{ID: resp.Id, Properties: out}, err
}

func (s *testServer) Read(req p.ReadRequest) (p.ReadResponse, error) {
	props, err := toStruct(req.Properties)
	if err != nil {
		return p.ReadResponse{}, err
	}
	inputs, err := toStruct(req.Inputs)
	if err != nil {
		return p.ReadResponse{}, err
	}
	resp, err := s.rpc.Read(s.ctx, &rpc.ReadRequest{Id: req.ID, Urn: string(req.Urn), Properties: props, Inputs: inputs})
	if err != nil {
		return p.ReadResponse{}, err
	}
	outProps, err := fromStruct(resp.Properties)
	if err != nil {
		return p.ReadResponse{}, err
	}
	outInputs, err := fromStruct(resp.Inputs)
	return p.ReadResponse{ID: resp.Id, Properties: outProps, Inputs: outInputs}, err
}

func (s *testServer) Update(req p.UpdateRequest) (p.UpdateResponse, error) {
	olds, err := toStruct(req.State)
	if err != nil {
		return p.UpdateResponse{}, err
	}
	news, err := toStruct(req.Inputs)
	if err != nil {
		return p.UpdateResponse{}, err
	}
	resp, err := s.rpc.Update(s.ctx, &rpc.UpdateRequest{Id: req.ID, Urn: string(req.Urn), Olds: olds, News: news, OldInputs: olds, Preview: req.DryRun})
	if err != nil {
		return p.UpdateResponse{}, err
	}
	out, err := fromStruct(resp.Properties)
	return p.UpdateResponse{Properties: out}, err
}

func (s *testServer) Delete(req p.DeleteRequest) error {
	props, err := toStruct(req.Properties)
	if err != nil {
		return err
	}
	_, err = s.rpc.Delete(s.ctx, &rpc.DeleteRequest{Id: req.ID, Urn: string(req.Urn), Properties: props, OldInputs: props})
	return err
}
