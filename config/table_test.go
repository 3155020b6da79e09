package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/umbrella-platform/umbrella-streaming/config"
	"github.com/umbrella-platform/umbrella-streaming/config/cases"
)

// Every case of the bad-config table is refused with exactly its one message
// (field, value, limit and fix), in apply mode and in render mode. The program
// tests (tests/) run the same table through the program: nothing registered.
func TestBadConfigsNameFieldValueLimitAndFix(t *testing.T) {
	require.GreaterOrEqual(t, len(cases.Bad), 30)
	for mode, name := range map[config.Mode]string{config.ModeApply: "apply", config.ModeRender: "render"} {
		for _, c := range append(append([]cases.Case{}, cases.BadAccess...), cases.Bad...) {
			t.Run(name+"/"+c.Name, func(t *testing.T) {
				spec, err := c.Load(mode)
				require.Error(t, err)
				assert.Nil(t, spec, "an invalid config must not produce a spec")
				var ve *config.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, []string{c.Want}, ve.Problems)
			})
		}
	}
}

// A func case and its stack-file text are refused alike: the program sees the
// text, the table the typed change.
func TestBadConfigsReadTheSameFromTheStackFile(t *testing.T) {
	for _, c := range append(append([]cases.Case{}, cases.BadAccess...), cases.Bad...) {
		t.Run(c.Name, func(t *testing.T) {
			_, err := config.LoadFor("dev", config.MapSource(c.StackConfig()), config.ModeApply)
			var ve *config.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, []string{c.Want}, ve.Problems)
		})
	}
}
