package program

import (
	"strconv"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
)

// RetainedVolumesOutput is the stack output naming the data volumes (PVCs)
// that brokers removed by lowering `brokers` left behind: the StatefulSet
// never deletes a volume, so they hold their (drained) data until deleted by
// hand, and a later raise of `brokers` reuses them.
const RetainedVolumesOutput = "retainedVolumes"

// RetainedVolumes are the PVCs of brokers s.Brokers and up that an earlier
// deployment created: the highest broker count recorded (the previous
// brokers, or one past the highest volume already listed) bounds them. The
// list is stable across updates that change nothing, and empties as brokers
// grow back over them.
func RetainedVolumes(prev Previous, s *config.Spec) []string {
	high := s.Brokers
	if n, err := strconv.Atoi(prev.Guarded[config.BrokersField]); err == nil {
		high = max(high, n)
	}
	for _, name := range prev.RetainedVolumes {
		id, err := strconv.Atoi(name[strings.LastIndex(name, "-")+1:])
		if err == nil && name == components.DataPVCName(id) {
			high = max(high, id+1)
		}
	}
	out := []string{}
	for id := s.Brokers; id < high; id++ {
		out = append(out, components.DataPVCName(id))
	}
	return out
}
