// Package kafka embeds the seed's local-dev files so the Pulumi program ships the
// very create-topics.sh that docker-compose runs (one script, two runners).
package kafka

import _ "embed"

// CreateTopicsScript is scripts/create-topics.sh.
//
//go:embed scripts/create-topics.sh
var CreateTopicsScript string
