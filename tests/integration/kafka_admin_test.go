//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/internal/deploy"
	"github.com/umbrella-platform/umbrella-streaming/program"
	"github.com/umbrella-platform/umbrella-streaming/tests/harness"
)

// ProgramBeforeKafkaAdmin is the last commit whose program made the
// umbrellakafka provider inside the Topics component ("topics-kafka"), before
// issue #26 gave it a component of its own (components.KafkaAdmin).
const ProgramBeforeKafkaAdmin = "e7e807f"

// checkpointResource is what these tests read of one resource in a checkpoint.
type checkpointResource struct {
	URN      string `json:"urn"`
	Type     string `json:"type"`
	Provider string `json:"provider"`
}

// checkpoint returns the stack's resources by URN.
func checkpoint(t *testing.T, ctx context.Context, st *deploy.Stack) map[string]checkpointResource {
	t.Helper()
	dep, err := st.Export(ctx)
	require.NoError(t, err)
	var doc struct{ Resources []checkpointResource }
	require.NoError(t, json.Unmarshal(dep.Deployment, &doc))
	out := map[string]checkpointResource{}
	for _, r := range doc.Resources {
		out[r.URN] = r
	}
	return out
}

// previousProgram builds cmd/umbrella of commit rev in a folder of its own (a
// git archive of that commit, its plugin folder the one the harness built) and
// returns the binary and the folder, the project dir to run it with.
func previousProgram(t *testing.T, ctx context.Context, rev string) (bin, dir string) {
	t.Helper()
	dir = t.TempDir()
	archive := exec.CommandContext(ctx, "bash", "-c", fmt.Sprintf("git -C %q archive %s | tar -x -C %q", repoRoot, rev, dir))
	out, err := archive.CombinedOutput()
	require.NoError(t, err, "git archive %s (a clone with the history of issue #26 is needed): %s", rev, out)
	require.NoError(t, os.Symlink(filepath.Join(repoRoot, "bin"), filepath.Join(dir, "bin")))
	bin = filepath.Join(dir, "umbrella-previous")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/umbrella")
	build.Dir = dir
	out, err = build.CombinedOutput()
	require.NoError(t, err, "building cmd/umbrella of %s: %s", rev, out)
	return bin, dir
}

// TestKafkaAdminKeepsTheDeployedProvider guards the move of the umbrellakafka
// provider from the Topics component into components.KafkaAdmin (issue #26):
// a dev stack the program of ProgramBeforeKafkaAdmin deployed, with provider
// topics, the replica placement and the quorum, is taken over by this
// program with nothing replaced, deleted or updated. The one create is the
// KafkaAdmin component itself, an entry of the state; the provider keeps its
// id through its alias (a new provider would delete the old one and replace
// every resource made through it), every other resource keeps its URN, and
// the topics, placement and quorum resources refer to the same provider
// under its new URN.
func TestKafkaAdminKeepsTheDeployedProvider(t *testing.T) {
	ownNamespace(t)
	ctx := harness.Context(t, 20*time.Minute)
	start := time.Now()
	bin, dir := previousProgram(t, ctx, ProgramBeforeKafkaAdmin)
	t.Logf("built the program of %s in %s", ProgramBeforeKafkaAdmin, time.Since(start).Round(time.Second))

	kafka := startKafka(t, ctx, "dev")
	state := t.TempDir()
	topics := topicsConfig(kafka, `,"allowReplace":true`)

	start = time.Now()
	up := exec.CommandContext(ctx, bin, "-stack", "dev", "-state", state, "-project", dir, "-quiet", "-set", "topics="+topics, "up")
	up.Env = os.Environ()
	for k, v := range harness.EngineEnv(kubeconfig) {
		up.Env = append(up.Env, k+"="+v)
	}
	out, err := up.CombinedOutput()
	require.NoError(t, err, "dev up with the program of %s: %s", ProgramBeforeKafkaAdmin, out)
	t.Logf("the program of %s deployed dev in %s", ProgramBeforeKafkaAdmin, time.Since(start).Round(time.Second))

	st := openStack(t, ctx, "dev", state, map[string]string{"topics": topics})
	before := checkpoint(t, ctx, st)
	urn := func(typ, name string) string {
		return fmt.Sprintf("urn:pulumi:dev::umbrella-streaming::%s::%s", typ, name)
	}
	oldProvider := urn(components.TopicsType+"$pulumi:providers:umbrellakafka", program.TopicsName+"-kafka")
	newProvider := urn(components.KafkaAdminType+"$pulumi:providers:umbrellakafka", program.KafkaAdminName)
	require.Contains(t, before, oldProvider, "the previous program's provider")
	count := map[string]int{}
	var madeThrough []string
	for u, r := range before {
		count[r.Type]++
		if strings.HasPrefix(r.Provider, oldProvider+"::") {
			madeThrough = append(madeThrough, u)
		}
	}
	require.Equal(t, 7, count["umbrellakafka:index:Topic"], "the previous program's topics")
	require.Equal(t, 2, count["umbrellakafka:index:ReplicaPlacement"], "its drain and balance")
	require.Equal(t, 2, count["umbrellakafka:index:KraftQuorum"], "its shrink and grow")
	require.Len(t, madeThrough, 11, "topics, placement and quorum, made through the provider")
	_, providerID, _ := strings.Cut(strings.TrimPrefix(before[madeThrough[0]].Provider, oldProvider), "::")
	require.NotEmpty(t, providerID)

	// Only the KafkaAdmin component and the Features component with its
	// guard and finalize (issue 28) are new; "read" is the guard's
	// StackReference, read on every run. The updates are this program's
	// own changes since that commit, none a replacement: the brokers'
	// ConfigMap gains pre-stop.sh, the StatefulSet its preStop hook and a
	// longer grace period, the lag exporter runs kafka-loadgen 1.6.0 (issue
	// 28), and the alert rules and dashboard count only current samples
	// (updatedSinceKafkaAdmin, checked by name below).
	steps := func(what string, summary map[apitype.OpType]int) {
		t.Helper()
		for op, n := range summary {
			switch op {
			case apitype.OpSame, apitype.OpRead:
			case apitype.OpCreate:
				assert.Equal(t, 4, n, "%s: creates %v", what, summary)
			case apitype.OpUpdate:
				assert.Equal(t, len(updatedSinceKafkaAdmin), n, "%s: updates %v", what, summary)
			default:
				assert.Zero(t, n, "%s: %d %s step(s), want none: %v", what, n, op, summary)
			}
		}
	}
	start = time.Now()
	pre, err := st.Preview(ctx)
	require.NoError(t, err, "preview with this program")
	t.Logf("this program's preview of the previous deployment: %v in %s", pre.ChangeSummary, time.Since(start).Round(time.Second))
	steps("preview", pre.ChangeSummary)
	assert.Regexp(t, `\+ umbrella:streaming:KafkaAdmin: \(create\)`, pre.StdOut, "the KafkaAdmin component is created")
	assert.Regexp(t, `\+ umbrella:streaming:Features: \(create\)`, pre.StdOut, "and the Features component")
	assert.ElementsMatch(t, updatedSinceKafkaAdmin, updatedInPreview(pre.StdOut), "the resources the preview updates")

	start = time.Now()
	res, err := st.Up(ctx)
	require.NoError(t, err, "up with this program")
	t.Logf("this program's up: %v in %s", *res.Summary.ResourceChanges, time.Since(start).Round(time.Second))
	summary := map[apitype.OpType]int{}
	for op, n := range *res.Summary.ResourceChanges {
		summary[apitype.OpType(op)] = n
	}
	steps("up", summary)

	// The engine's default providers are left out: their names carry the
	// plugin version the program reports, which the previous program, built
	// here outside the module's own build, may leave unset ("default" rather
	// than "default_4_25_0"); the engine matches them by package and config.
	after := checkpoint(t, ctx, st)
	ours := func(all map[string]checkpointResource) []string {
		var out []string
		for u, r := range all {
			if !(strings.HasPrefix(r.Type, "pulumi:providers:") && strings.HasPrefix(u[strings.LastIndex(u, "::")+2:], "default")) {
				out = append(out, u)
			}
		}
		sort.Strings(out)
		return out
	}
	var want []string
	for _, u := range ours(before) {
		if u != oldProvider {
			want = append(want, u)
		}
	}
	want = append(want, newProvider, urn(components.KafkaAdminType, program.KafkaAdminName),
		urn(components.FeaturesType, "features"),
		urn(components.FeaturesType+"$umbrellakafka:index:ClusterFeatures", "features-"+components.FeaturesGuard),
		urn(components.FeaturesType+"$umbrellakafka:index:ClusterFeatures", "features-"+components.FeaturesFinalize))
	sort.Strings(want)
	assert.Equal(t, want, ours(after), "every URN kept but the provider's, which moved; the components are new")
	for _, u := range madeThrough {
		assert.Equal(t, newProvider+"::"+providerID, after[u].Provider, "%s: the same provider (same id) under its new URN", u)
	}

	again, err := st.Preview(ctx)
	require.NoError(t, err)
	noChanges(t, func() map[string]int {
		m := map[string]int{}
		for op, n := range again.ChangeSummary {
			m[string(op)] = n
		}
		return m
	}(), "preview after the move")
}

// updatedSinceKafkaAdmin are the resources this program updates in a stack
// ProgramBeforeKafkaAdmin deployed: changes to the pods made since (issue 28),
// and the alert rules and dashboard, whose sums of the brokers' gauges count
// only current samples since (components.SampleMaxAge).
var updatedSinceKafkaAdmin = []string{
	"umbrella:streaming:KafkaCluster$kubernetes:core/v1:ConfigMap::kafka-config",
	"umbrella:streaming:KafkaCluster$kubernetes:apps/v1:StatefulSet::kafka",
	"umbrella:streaming:LagExporter$kubernetes:apps/v1:Deployment::kafka-lag-exporter",
	"umbrella:streaming:Monitoring$kubernetes:core/v1:ConfigMap::kafka-monitoring-dashboard",
	"umbrella:streaming:Monitoring$kubernetes:monitoring.coreos.com/v1:PrometheusRule::kafka-monitoring-rules",
}

// updatedInPreview are the resources a preview's diff shows as updated (the
// URN after the stack's own prefix).
func updatedInPreview(out string) []string {
	var got []string
	for _, m := range regexp.MustCompile(`~ \S+: \(update\)\n\s+\[id=[^\]]*\]\n\s+\[urn=urn:pulumi:[^:]+::[^:]+::([^\]]+)\]`).FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	return got
}
