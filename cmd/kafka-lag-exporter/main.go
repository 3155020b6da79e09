// Command kafka-lag-exporter serves consumer-group lag, read from the
// brokers (committed offset vs end offset), as Prometheus metrics: a consumer
// that crashed exports no lag of its own. It is self-contained (franz-go only)
// so it builds static and runs in the kafka-loadgen image. See
// internal/lagexporter for the details and `kafka-lag-exporter --help` for the
// flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/umbrella-platform/umbrella-streaming/internal/lagexporter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := lagexporter.Main(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}
