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
	srv, err := p.RawServer(provider.Name, provider.Version, provider.Provider())(nil)
	if err != nil {
		return ProviderTimes{}, err
	}
	servers := make([]any, len(bootstrap))
	for i, b := range bootstrap {
		servers[i] = b
	}
	cfg, err := structpb.NewStruct(map[string]any{"bootstrapServers": servers, "tlsEnabled": false}) // PLAINTEXT
	if err != nil {
		return ProviderTimes{}, err
	}
	provURN := "urn:pulumi:bench::" + Project + "::pulumi:providers:umbrellakafka::kafka"
	checked, err := srv.CheckConfig(ctx, &pulumirpc.CheckRequest{Urn: provURN, News: cfg})
	if err != nil {
		return ProviderTimes{}, fmt.Errorf("bench: provider CheckConfig: %w", err)
	}
	if len(checked.Failures) > 0 {
		return ProviderTimes{}, fmt.Errorf("bench: provider CheckConfig: %v", checked.Failures)
	}
	if _, err := srv.Configure(ctx, &pulumirpc.ConfigureRequest{
		Args: checked.Inputs, AcceptSecrets: true, AcceptResources: true,
	}); err != nil {
		return ProviderTimes{}, fmt.Errorf("bench: provider Configure: %w", err)
	}

	names := TopicNames(n)
	urn := func(name string) string {
		return "urn:pulumi:bench::" + Project + "::umbrellakafka:index:Topic::" + name
	}
	states := make([]*structpb.Struct, n)
	var t ProviderTimes
	t.Create, err = parallelEach("provider alone", parallel, names, func(i int, name string) error {
		in, err := structpb.NewStruct(map[string]any{
			"name": name, "partitions": float64(TopicPartitions), "replicationFactor": float64(TopicReplicationFactor),
		})
		if err != nil {
			return err
		}
		chk, err := srv.Check(ctx, &pulumirpc.CheckRequest{Urn: urn(name), News: in})
		if err != nil {
			return fmt.Errorf("Check: %w", err)
		}
		if len(chk.Failures) > 0 {
			return fmt.Errorf("Check: %v", chk.Failures)
		}
		cr, err := srv.Create(ctx, &pulumirpc.CreateRequest{Urn: urn(name), Properties: chk.Inputs})
		if err != nil {
			return fmt.Errorf("Create: %w", err)
		}
		if cr.Id != name {
			return fmt.Errorf("Create: id %q", cr.Id)
		}
		states[i] = cr.Properties
		return nil
	})
	if err != nil {
		return t, err
	}
	t.CheckDiff, err = parallelEach("provider alone", parallel, names, func(i int, name string) error {
		chk, err := srv.Check(ctx, &pulumirpc.CheckRequest{Urn: urn(name), Olds: states[i], News: states[i]})
		if err != nil {
			return fmt.Errorf("Check: %w", err)
		}
		d, err := srv.Diff(ctx, &pulumirpc.DiffRequest{
			Id: name, Urn: urn(name), OldInputs: states[i], Olds: states[i], News: chk.Inputs,
		})
		if err != nil {
			return fmt.Errorf("Diff: %w", err)
		}
		if d.Changes == pulumirpc.DiffResponse_DIFF_SOME {
			return fmt.Errorf("Diff: changes %v", d.Diffs)
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	t.Read, err = parallelEach("provider alone", parallel, names, func(i int, name string) error {
		r, err := srv.Read(ctx, &pulumirpc.ReadRequest{Id: name, Urn: urn(name), Properties: states[i], Inputs: states[i]})
		if err != nil {
			return fmt.Errorf("Read: %w", err)
		}
		if r.Id != name {
			return fmt.Errorf("Read: id %q (the topic is gone?)", r.Id)
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	t.Delete, err = parallelEach("provider alone", parallel, names, func(i int, name string) error {
		if _, err := srv.Delete(ctx, &pulumirpc.DeleteRequest{Id: name, Urn: urn(name), Properties: states[i]}); err != nil {
			return fmt.Errorf("Delete: %w", err)
		}
		return nil
	})
	return t, err
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
