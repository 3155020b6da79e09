package bench

import (
	"context"
	"fmt"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// NoopPackage is the package name of the provider that does nothing; the
// engine attaches to it through PULUMI_DEBUG_PROVIDERS=benchnoop:<port>.
const NoopPackage = "benchnoop"

// NoopToken is the type token of its only resource.
const NoopToken = NoopPackage + ":index:Thing"

// Thing is a resource whose every lifecycle step returns at once: driven by
// the engine it measures the engine's own cost per resource.
type Thing struct{}

// ThingArgs are a Thing's inputs: the same shape as a Topic's, so the engine
// moves the same amount of state per resource.
type ThingArgs struct {
	Name              string `pulumi:"name"`
	Partitions        int    `pulumi:"partitions"`
	ReplicationFactor int    `pulumi:"replicationFactor"`
}

// ThingState is a Thing's recorded state.
type ThingState struct{ ThingArgs }

var (
	_ infer.CustomCreate[ThingArgs, ThingState] = Thing{}
	_ infer.CustomRead[ThingArgs, ThingState]   = Thing{}
	_ infer.CustomDelete[ThingState]            = Thing{}
)

// Annotate sets the type token.
func (t *Thing) Annotate(a infer.Annotator) { a.SetToken("index", "Thing") }

// Create returns the inputs as the state, the name as the ID.
func (Thing) Create(_ context.Context, req infer.CreateRequest[ThingArgs]) (infer.CreateResponse[ThingState], error) {
	return infer.CreateResponse[ThingState]{ID: req.Inputs.Name, Output: ThingState{req.Inputs}}, nil
}

// Read returns the recorded state unchanged.
func (Thing) Read(_ context.Context, req infer.ReadRequest[ThingArgs, ThingState]) (
	infer.ReadResponse[ThingArgs, ThingState], error,
) {
	return infer.ReadResponse[ThingArgs, ThingState]{ID: req.ID, Inputs: req.Inputs, State: req.State}, nil
}

// Delete does nothing.
func (Thing) Delete(context.Context, infer.DeleteRequest[ThingState]) (infer.DeleteResponse, error) {
	return infer.DeleteResponse{}, nil
}

// ServeNoop serves the do-nothing provider's gRPC surface on a free loopback
// port in this process and returns the port; the server stops when ctx ends.
// The engine attaches to it (PULUMI_DEBUG_PROVIDERS) and learns its own
// address from the handshake, as with a provider started under a debugger.
func ServeNoop(ctx context.Context) (int, error) {
	prov, err := infer.NewProviderBuilder().
		WithNamespace("umbrella-platform").
		WithResources(infer.Resource(Thing{})).
		Build()
	if err != nil {
		return 0, fmt.Errorf("bench: no-op provider: %w", err)
	}
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancel)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			rs, err := p.RawServer(NoopPackage, "0.1.0", prov)(nil)
			if err != nil {
				return err
			}
			pulumirpc.RegisterResourceProviderServer(srv, rs)
			return nil
		},
	})
	if err != nil {
		return 0, fmt.Errorf("bench: serving the no-op provider: %w", err)
	}
	return handle.Port, nil
}
