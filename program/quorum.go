package program

import (
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// QuorumOutput is the stack output recording how the cluster's KRaft quorum
// keeps its voters (config.QuorumSpec): config cannot say it, since it is a
// fact about the volumes, fixed when they were first formatted.
const QuorumOutput = "quorum"

// Quorum record values.
const (
	quorumStatic  = "static"
	quorumDynamic = "dynamic"
)

// QuorumRecord is the QuorumOutput of a deployment with quorum q.
func QuorumRecord(q config.QuorumSpec) pulumi.StringMap {
	if !q.Dynamic {
		return pulumi.StringMap{"mode": pulumi.String(quorumStatic)}
	}
	return pulumi.StringMap{"mode": pulumi.String(quorumDynamic),
		"bootstrapControllers": pulumi.String(strconv.Itoa(q.BootstrapControllers))}
}

// ResolveQuorum is the quorum of this update, from the last deployment's
// guarded values (prev, empty if never deployed) and quorum record (rec):
//   - never deployed: a new cluster, dynamic from its first start;
//   - recorded dynamic: as recorded;
//   - static (recorded, or deployed before the record existed): kept while
//     controllers stay; a change of controllers with the Kafka admin connection
//     migrates it to dynamic in that update (kraft.version 1, then the
//     roll); with topics.manager job the guard refuses the change instead.
func ResolveQuorum(prev, rec map[string]string, s *config.Spec) config.QuorumSpec {
	if len(prev) == 0 && len(rec) == 0 {
		return config.NewClusterQuorum(s.Controllers)
	}
	if rec["mode"] == quorumDynamic {
		n, _ := strconv.Atoi(rec["bootstrapControllers"])
		return config.QuorumSpec{Dynamic: true, BootstrapControllers: n}
	}
	if prev[config.ControllersField] == strconv.Itoa(s.Controllers) || s.TopicManager != config.TopicManagerProvider {
		return config.QuorumSpec{}
	}
	return config.QuorumSpec{Dynamic: true}
}
