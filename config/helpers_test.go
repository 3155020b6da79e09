package config

import (
	"strings"
	"testing"
)

func sp(s string) *string { return &s }
func ip(i int) *int       { return &i }
func i64p(i int64) *int64 { return &i }
func bp(b bool) *bool     { return &b }

func longName(n int) string { return strings.Repeat("t", n) }

// validDev is a complete, valid dev config: the base every bad case breaks once.
func validDev() Raw {
	return Raw{ClusterID: sp("5BlkQlAaBVX6rb9uzmmt7w"), Brokers: ip(1), Controllers: ip(1)}
}

// badCase breaks one thing in a valid dev config (mut, see breakDev) and names
// the single problem line that must be reported.
type badCase struct {
	name string
	mut  any
	want string
}

// stackText sets stack-file values as written (key without the project
// prefix → text), for what only the stack file can hold: keys and fields the
// program does not know, numbers past a Go int.
type stackText map[string]string

// breakDev loads validDev broken by mut, in a mode: a func(*Raw) changes the
// typed config, which BuildFor checks; a stackText is written over validDev's
// values, which LoadFor checks from the top (keys, decoding, then BuildFor).
func breakDev(t *testing.T, mut any, mode Mode) (*Spec, error) {
	t.Helper()
	switch m := mut.(type) {
	case func(r *Raw):
		r := validDev()
		m(&r)
		return BuildFor("dev", r, mode)
	case stackText:
		values := map[string]string{"clusterId": *validDev().ClusterID, "brokers": "1", "controllers": "1"}
		for k, v := range m {
			values[k] = v
		}
		return LoadFor("dev", MapSource(values), mode)
	}
	t.Fatalf("breakDev: a case breaks the config with a func(*Raw) or a stackText, not %T", mut)
	return nil, nil
}
