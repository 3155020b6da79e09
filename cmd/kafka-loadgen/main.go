// Command kafka-loadgen writes numbered records to a Kafka topic and checks
// that every acknowledged one was stored exactly once, for durability tests
// that break the cluster mid-run; `kafka-loadgen consume` plays a service's
// consumer in a consumer group, for the lag tests. It is self-contained (franz-go only) so it
// builds static and runs inside a pod. See internal/loadgen for the details
// and `kafka-loadgen help` for the flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/umbrella-platform/umbrella-streaming/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := loadgen.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
