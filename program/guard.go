package program

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/umbrella-platform/umbrella-streaming/config"
)

// GuardOutput is the stack output recording the guarded fields' deployed values.
const GuardOutput = "guarded"

// GuardValues are the current values of config.Guarded, as exported.
func GuardValues(s *config.Spec) pulumi.StringMap {
	m := pulumi.StringMap{}
	for k, v := range config.GuardedValues(s) {
		m[k] = pulumi.String(v)
	}
	return m
}

// GuardViolations compares the previously deployed guarded values with the new spec
// and returns one message per changed field that is not overridden, sorted. Each
// message carries the field's advice from config.Guarded. previous is empty for a
// stack that was never deployed.
func GuardViolations(previous map[string]string, s *config.Spec) []string {
	var out []string
	for _, g := range config.Guarded {
		prev, ok := previous[g.Field]
		current := g.Value(s)
		if !ok || prev == current {
			continue
		}
		if contains(s.GuardOverrides, g.Field) {
			continue
		}
		out = append(out, fmt.Sprintf("%s changed from %q to %q on a deployed stack: %s", g.Field, prev, current, g.Advice()))
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// GuardError is returned when a guarded field changed.
type GuardError struct{ Violations []string }

func (e *GuardError) Error() string {
	return fmt.Sprintf("%s: refusing a change that cannot be applied safely; nothing was deployed:\n  - %s",
		config.Project, strings.Join(e.Violations, "\n  - "))
}

// CheckGuard reads this stack's own last outputs through a StackReference and
// refuses changes to guarded fields, before any other resource is registered. It
// runs at preview, so a PR preview shows the refusal.
func CheckGuard(ctx *pulumi.Context, s *config.Spec) error {
	self := fmt.Sprintf("%s/%s/%s", ctx.Organization(), ctx.Project(), ctx.Stack())
	ref, err := pulumi.NewStackReference(ctx, "previous-deployment", &pulumi.StackReferenceArgs{Name: pulumi.String(self)})
	if err != nil {
		return fmt.Errorf("guard: reading the stack's previous outputs: %w", err)
	}
	// GetOutputDetails waits for the read. On a stack that was never deployed, the
	// output is absent (or unknown during a first preview) and Value is nil.
	details, err := ref.GetOutputDetails(GuardOutput)
	if err != nil {
		return fmt.Errorf("guard: reading the stack's previous outputs (%s): %w", self, err)
	}
	prev := map[string]string{}
	if m, ok := details.Value.(map[string]any); ok {
		for k, x := range m {
			prev[k] = fmt.Sprint(x)
		}
	}
	if v := GuardViolations(prev, s); len(v) > 0 {
		return &GuardError{Violations: v}
	}
	return nil
}
