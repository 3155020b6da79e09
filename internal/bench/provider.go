package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/umbrella-platform/umbrella-streaming/provider"
)

// EngineParallel is the Pulumi CLI's default --parallel: 4 × GOMAXPROCS
// (pkg/cmd/pulumi/operations/up.go, defaultParallel).
func EngineParallel() int { return 4 * runtime.GOMAXPROCS(0) }

// ProviderTimes are the wall times of the provider's own work for n topics,
// with no engine: its gRPC surface called in-process, parallel calls at once.
type ProviderTimes struct {
	// Create is Check + Create per topic (what a create up asks).
	Create time.Duration
	// CheckDiff is Check + Diff per topic (what a no-op up asks).
	CheckDiff time.Duration
	// Read is Read per topic (refresh).
	Read time.Duration
	// Delete is Delete per topic (destroy).
	Delete time.Duration
}

// RunProvider drives a fresh umbrellakafka provider (CheckConfig, Configure,
// then the per-topic calls of create up, no-op up, refresh and destroy for
// the n benchmark topics), parallel calls at a time, as the engine would
// without its own costs: no program, no state, no checkpoints, no process
// boundary.
func RunProvider(ctx context.Context, bootstrap []string, n, parallel int) (ProviderTimes, error) {
	srv, err := configuredProvider(ctx, bootstrap)
	if err != nil {
		return ProviderTimes{}, err
	}
	r := &providerRun{ctx: ctx, srv: srv, states: make([]*structpb.Struct, n)}
	names := TopicNames(n)
	var t ProviderTimes
	for _, phase := range []struct {
		took *time.Duration
		call func(i int, name string) error
	}{{&t.Create, r.create}, {&t.CheckDiff, r.checkDiff}, {&t.Read, r.read}, {&t.Delete, r.delete}} {
		if *phase.took, err = parallelEach("provider alone", parallel, names, phase.call); err != nil {
			return t, err
		}
	}
	return t, nil
}

// configuredProvider is a fresh in-process umbrellakafka provider, through
// CheckConfig and Configure for PLAINTEXT brokers at bootstrap.
func configuredProvider(ctx context.Context, bootstrap []string) (pulumirpc.ResourceProviderServer, error) {
	srv, err := p.RawServer(provider.Name, provider.Version, provider.Provider())(nil)
	if err != nil {
		return nil, err
	}
	servers := make([]any, len(bootstrap))
	for i, b := range bootstrap {
		servers[i] = b
	}
	cfg, err := structpb.NewStruct(map[string]any{"bootstrapServers": servers, "tlsEnabled": false}) // PLAINTEXT
	if err != nil {
		return nil, err
	}
	provURN := "urn:pulumi:bench::" + Project + "::pulumi:providers:umbrellakafka::kafka"
	checked, err := srv.CheckConfig(ctx, &pulumirpc.CheckRequest{Urn: provURN, News: cfg})
	if err != nil {
		return nil, fmt.Errorf("bench: provider CheckConfig: %w", err)
	}
	if len(checked.Failures) > 0 {
		return nil, fmt.Errorf("bench: provider CheckConfig: %v", checked.Failures)
	}
	if _, err := srv.Configure(ctx, &pulumirpc.ConfigureRequest{
		Args: checked.Inputs, AcceptSecrets: true, AcceptResources: true,
	}); err != nil {
		return nil, fmt.Errorf("bench: provider Configure: %w", err)
	}
	return srv, nil
}

// providerRun makes the per-topic calls of one RunProvider; states are the
// topics' recorded states, by index.
type providerRun struct {
	ctx    context.Context
	srv    pulumirpc.ResourceProviderServer
	states []*structpb.Struct
}

func topicURN(name string) string {
	return "urn:pulumi:bench::" + Project + "::umbrellakafka:index:Topic::" + name
}

// create is create up's Check and Create.
func (r *providerRun) create(i int, name string) error {
	in, err := structpb.NewStruct(map[string]any{
		"name": name, "partitions": float64(TopicPartitions), "replicationFactor": float64(TopicReplicationFactor),
	})
	if err != nil {
		return err
	}
	chk, err := r.srv.Check(r.ctx, &pulumirpc.CheckRequest{Urn: topicURN(name), News: in})
	if err != nil {
		return fmt.Errorf("Check: %w", err)
	}
	if len(chk.Failures) > 0 {
		return fmt.Errorf("Check: %v", chk.Failures)
	}
	cr, err := r.srv.Create(r.ctx, &pulumirpc.CreateRequest{Urn: topicURN(name), Properties: chk.Inputs})
	if err != nil {
		return fmt.Errorf("Create: %w", err)
	}
	if cr.Id != name {
		return fmt.Errorf("Create: id %q", cr.Id)
	}
	r.states[i] = cr.Properties
	return nil
}

// checkDiff is a no-op up's Check and Diff, which must find no change.
func (r *providerRun) checkDiff(i int, name string) error {
	chk, err := r.srv.Check(r.ctx, &pulumirpc.CheckRequest{Urn: topicURN(name), Olds: r.states[i], News: r.states[i]})
	if err != nil {
		return fmt.Errorf("Check: %w", err)
	}
	d, err := r.srv.Diff(r.ctx, &pulumirpc.DiffRequest{
		Id: name, Urn: topicURN(name), OldInputs: r.states[i], Olds: r.states[i], News: chk.Inputs,
	})
	if err != nil {
		return fmt.Errorf("Diff: %w", err)
	}
	if d.Changes == pulumirpc.DiffResponse_DIFF_SOME {
		return fmt.Errorf("Diff: changes %v", d.Diffs)
	}
	return nil
}

// read is refresh's Read, which must find the topic.
func (r *providerRun) read(i int, name string) error {
	rr, err := r.srv.Read(r.ctx, &pulumirpc.ReadRequest{Id: name, Urn: topicURN(name), Properties: r.states[i], Inputs: r.states[i]})
	if err != nil {
		return fmt.Errorf("Read: %w", err)
	}
	if rr.Id != name {
		return fmt.Errorf("Read: id %q (the topic is gone?)", rr.Id)
	}
	return nil
}

// delete is destroy's Delete.
func (r *providerRun) delete(i int, name string) error {
	if _, err := r.srv.Delete(r.ctx, &pulumirpc.DeleteRequest{Id: name, Urn: topicURN(name), Properties: r.states[i]}); err != nil {
		return fmt.Errorf("Delete: %w", err)
	}
	return nil
}

// parallelEach calls f for every name, at most parallel at once (a
// goroutine per name, bounded by a semaphore), and returns the wall time and
// the first error (naming what ran and the topic).
func parallelEach(what string, parallel int, names []string, f func(i int, name string) error) (time.Duration, error) {
	if parallel < 1 {
		parallel = 1
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := time.Now()
	for i, name := range names {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(i, name); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("bench: %s: topic %s: %w", what, name, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return time.Since(start), first
}
