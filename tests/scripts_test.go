package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/components"
	"github.com/umbrella-platform/umbrella-streaming/config"
	kafkafiles "github.com/umbrella-platform/umbrella-streaming/infrastructure/kafka"
)

const scriptPath = "../infrastructure/kafka/scripts/create-topics.sh"

// scriptTopics reads the TOPICS=( … ) array of create-topics.sh.
func scriptTopics(t *testing.T, text string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)\nTOPICS=\(\n(.*?)\n\)\n`).FindStringSubmatch(text)
	require.NotNil(t, m, "create-topics.sh has no TOPICS=( … ) array")
	var out []string
	for _, l := range strings.Split(m[1], "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestCreateTopicsScriptListsTheInventory(t *testing.T) {
	b, err := os.ReadFile(scriptPath)
	require.NoError(t, err)
	var want []string
	for _, tp := range config.Inventory {
		want = append(want, tp.Name)
	}
	assert.Equal(t, want, scriptTopics(t, string(b)))
	assert.Equal(t, string(b), kafkafiles.CreateTopicsScript, "the program ships the same script docker-compose runs")
}

func TestShellScriptsAreShellcheckClean(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	require.NoError(t, err, "shellcheck is required (apt-get install shellcheck; .ci/run installs it)")
	scripts, err := filepath.Glob("../scripts/*.sh")
	require.NoError(t, err)
	scripts = append(scripts, scriptPath)
	// The pod's own scripts live in Go strings (the ConfigMap's data): check
	// the very text the pods run.
	dir := t.TempDir()
	for name, text := range map[string]string{components.StartScript: components.StartScriptText, components.ReadyScript: components.ReadyScriptText} {
		f := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(f, []byte(text), 0o644))
		scripts = append(scripts, f)
	}
	out, err := exec.Command(sc, scripts...).CombinedOutput()
	assert.NoError(t, err, "shellcheck:\n%s", out)
}

func TestYAMLFilesLint(t *testing.T) {
	yl, err := exec.LookPath("yamllint")
	require.NoError(t, err, "yamllint is required (apt-get install yamllint; .ci/run installs it)")
	files := []string{"../Pulumi.yaml", "../Pulumi.dev.yaml", "../Pulumi.prod.yaml", "../infrastructure/kafka/docker-compose.yml"}
	wf, _ := filepath.Glob("../.github/workflows/*.yml")
	files = append(files, wf...)
	out, err := exec.Command(yl, append([]string{"-d", "{extends: default, rules: {line-length: disable, document-start: disable, truthy: {check-keys: false}}}"}, files...)...).CombinedOutput()
	assert.NoError(t, err, "yamllint:\n%s", out)
}

// The create-topics.sh fake: a kafka-topics stand-in records each call, so the
// script's argument handling is checked without a broker. (Against a real broker:
// tests/realkafka, issue 5.)
func TestCreateTopicsScriptArguments(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	fake := filepath.Join(dir, "kafka-topics")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/bash\necho \"$*\" >> "+log+"\n"), 0o755))
	topicsFile := filepath.Join(dir, "topics.txt")
	require.NoError(t, os.WriteFile(topicsFile, []byte("# comment\nalerts 3 3 retention.ms=1000 cleanup.policy=compact\nraw-messages 1 1\n"), 0o644))

	cmd := exec.Command("bash", scriptPath)
	cmd.Env = append(os.Environ(), "KAFKA_TOPICS_CMD="+fake, "KAFKA_BOOTSTRAP=k:9092", "TOPICS_FILE="+topicsFile)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	calls, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, `--bootstrap-server k:9092 --list
--bootstrap-server k:9092 --create --if-not-exists --topic alerts --partitions 3 --replication-factor 3 --config retention.ms=1000 --config cleanup.policy=compact
--bootstrap-server k:9092 --create --if-not-exists --topic raw-messages --partitions 1 --replication-factor 1
`, string(calls))

	require.NoError(t, os.Remove(log))
	cmd = exec.Command("bash", scriptPath)
	cmd.Env = append(os.Environ(), "KAFKA_TOPICS_CMD="+fake, "TOPIC_PARTITIONS=2")
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	calls, err = os.ReadFile(log)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
	require.Len(t, lines, 8)
	assert.Equal(t, "--bootstrap-server localhost:9092 --create --if-not-exists --topic raw-messages --partitions 2 --replication-factor 1", lines[1])
}

// checkLog runs scripts/test.sh's slow-tier log check on a go test -v log.
func checkLog(t *testing.T, ci bool, log string, pkgs ...string) (string, error) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "tier.log")
	require.NoError(t, os.WriteFile(f, []byte(log), 0o644))
	cmd := exec.Command("bash", append([]string{"../scripts/test.sh", "check-log", f}, pkgs...)...)
	cmd.Env = append(os.Environ(), "UMBRELLA_CI=")
	if ci {
		cmd.Env = append(cmd.Env, "UMBRELLA_CI=1")
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The slow tiers' runner fails a package that reported nothing or ran no test,
// and in CI any skipped test: a prod suite that skips for want of nodes must not
// pass as green.
func TestSlowTierCheckFailsOnSkipsAndEmptyPackages(t *testing.T) {
	const mod = "github.com/umbrella-platform/umbrella-streaming/"
	green := "=== RUN   TestDev\n--- PASS: TestDev (1.00s)\nPASS\nok  \t" + mod + "tests/realnode\t1.2s\n"
	skipped := "=== RUN   TestProd\n    prod_test.go:53: needs 3 real nodes\n--- SKIP: TestProd (0.00s)\n" + green
	subSkipped := "=== RUN   TestProd\n=== RUN   TestProd/scale\n    --- SKIP: TestProd/scale (0.00s)\n" + green

	_, err := checkLog(t, true, green, "./tests/realnode/")
	require.NoError(t, err, "a green log passes")

	out, err := checkLog(t, true, skipped, "./tests/realnode/")
	require.Error(t, err, "a skipped test fails CI")
	assert.Contains(t, out, "--- SKIP: TestProd")
	assert.Contains(t, out, "needs 3 real nodes", "the skip's reason is shown")
	_, err = checkLog(t, true, subSkipped, "./tests/realnode/")
	require.Error(t, err, "a skipped subtest fails CI")
	_, err = checkLog(t, false, skipped, "./tests/realnode/")
	require.NoError(t, err, "outside CI a skip is the developer's choice")

	out, err = checkLog(t, false, green, "./tests/realnode/", "./tests/integration/")
	require.Error(t, err)
	assert.Contains(t, out, "package tests/integration reported no result")
	out, err = checkLog(t, false, "ok  \t"+mod+"tests/realnode\t0.1s [no tests to run]\n", "./tests/realnode/")
	require.Error(t, err)
	assert.Contains(t, out, "package tests/realnode ran no test")
}

// .ci/run drops whatever in the caller's environment could narrow a tier, and
// runs the test command in CI mode: a copy of it runs a stand-in test.sh that
// prints its environment.
func TestCIEntryPointResetsNarrowingVariables(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, ".ci"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "scripts"), 0o755))
	ci, err := os.ReadFile("../.ci/run")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, ".ci", "run"), ci, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "scripts", "test.sh"), []byte("#!/usr/bin/env bash\nenv\n"), 0o755))
	cmd := exec.Command("bash", filepath.Join(root, ".ci", "run"))
	cmd.Env = append(os.Environ(), "UMBRELLA_REALNODE_NODES=1", "UMBRELLA_UNIT_ONLY=1", "UMBRELLA_ANY_NEW_KNOB=x",
		"GOFLAGS=-run=TestNothing", "UMBRELLA_CI=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	env := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "[ci]") {
			env[k] = v
		}
	}
	require.Contains(t, env, "PATH", "the stand-in printed its environment")
	for _, k := range []string{"UMBRELLA_REALNODE_NODES", "UMBRELLA_UNIT_ONLY", "UMBRELLA_ANY_NEW_KNOB", "GOFLAGS"} {
		assert.NotContains(t, env, k, "%s reached the test command", k)
	}
	assert.Equal(t, "1", env["UMBRELLA_CI"], "the test command runs in CI mode")
	assert.Contains(t, string(out), "[ci] ignoring the caller's UMBRELLA_REALNODE_NODES")
}

// scripts/test.sh builds ahead the broker images of the releases the real
// node tier's upgrade story rolls to: the same releases, each one a stack may
// name, or the story builds them in the middle of the run.
func TestUpgradeStoryImagesBuiltAhead(t *testing.T) {
	script, err := os.ReadFile("../scripts/test.sh")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^UPGRADE_RELEASES="([^"]*)"$`).FindSubmatch(script)
	require.NotNil(t, m, "UPGRADE_RELEASES in scripts/test.sh")
	story, err := os.ReadFile("realnode/prod_upgrade_test.go")
	require.NoError(t, err)
	path := regexp.MustCompile(`(?m)^var upgradePath = \[\]string\{config\.DefaultKafkaVersion, (.*)\}$`).FindSubmatch(story)
	require.NotNil(t, path, "upgradePath in tests/realnode/prod_upgrade_test.go")
	var releases []string
	for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(path[1], -1) {
		releases = append(releases, string(q[1]))
	}
	assert.Equal(t, strings.Fields(string(m[1])), releases, "scripts/test.sh's UPGRADE_RELEASES and the story's upgradePath after the default")
	for _, r := range releases {
		assert.Contains(t, config.KafkaVersions, r, "a release a stack may name")
	}
}
