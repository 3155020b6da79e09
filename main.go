// Command umbrella-streaming is the Pulumi program that deploys the Umbrella
// platform's Kafka message bus; the program itself lives in package program.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/program"
)

func main() { pulumi.Run(program.Run) }
