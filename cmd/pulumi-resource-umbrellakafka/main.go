// Command pulumi-resource-umbrellakafka is the umbrellakafka Pulumi resource
// provider plugin. The Pulumi engine starts it; it is not run by hand.
package main

import (
	"context"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"

	"github.com/umbrella-platform/umbrella-streaming/provider"
)

func main() {
	if err := p.RunProvider(context.Background(), provider.Name, provider.Version, provider.Provider()); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", provider.Name, err)
		os.Exit(1)
	}
}
