package harness

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The scripts print `export PATH=/dir:"$PATH"` (scripts/tools.sh env): the old
// PATH must come back unchanged after the new entry, with no quote glued on.
func TestApplyExportsEvaluatesLikeAShell(t *testing.T) {
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("UMBRELLA_HARNESS_A", "")
	t.Setenv("UMBRELLA_HARNESS_B", "")
	ApplyExports("[log] not an export\nexport PATH=/opt/tools/bin:\"$PATH\"\n  export UMBRELLA_HARNESS_A='two words'\n" +
		"export UMBRELLA_HARNESS_B=/x/$UMBRELLA_HARNESS_A\n")
	assert.Equal(t, "/opt/tools/bin:/usr/bin:/bin", os.Getenv("PATH"))
	assert.Equal(t, "two words", os.Getenv("UMBRELLA_HARNESS_A"))
	assert.Equal(t, "/x/two words", os.Getenv("UMBRELLA_HARNESS_B"))
}
