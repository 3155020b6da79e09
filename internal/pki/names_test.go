package pki_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/umbrella-platform/umbrella-streaming/internal/pki"
)

// TestCheckCommonName guards the common names Kafka's principal rule reads
// back unchanged, and the refusals naming field, value, limit and fix.
func TestCheckCommonName(t *testing.T) {
	for _, ok := range []string{"kafka-broker", "umbrella-deployer", "a", "ops_tool.v2", strings.Repeat("k", 64)} {
		assert.Empty(t, pki.CheckCommonName("cn", ok, "x"), ok)
	}
	assert.Equal(t, `serverCommonName = "": is empty: a certificate needs a common name, the principal User:<name>; set it, e.g. "kafka-broker"`,
		pki.CheckCommonName("serverCommonName", "", "kafka-broker"))
	assert.Equal(t, fmt.Sprintf(`serverCommonName = %q: is 65 characters long, over X.509's limit of 64; shorten it`, strings.Repeat("k", 65)),
		pki.CheckCommonName("serverCommonName", strings.Repeat("k", 65), "kafka-broker"))
	assert.Equal(t, `clientCommonNames[0] = "ops,team": has a character other than letters, digits, '.', '_' and '-' (or does not start with a letter or digit): the subject DN would escape it, and Kafka's principal would not be User:<name>; use a plain name, e.g. "umbrella-deployer"`,
		pki.CheckCommonName("clientCommonNames[0]", "ops,team", "umbrella-deployer"))
	for _, bad := range []string{"-ops", ".ops", "ops team", "ops+1", `o"ps`, "ops=1"} {
		assert.NotEmpty(t, pki.CheckCommonName("cn", bad, "x"), bad)
	}
}

// TestCheckServerName guards the names a TLS client can match: IPs, DNS
// names and a wildcard for one leftmost label.
func TestCheckServerName(t *testing.T) {
	for _, ok := range []string{"kafka.ns.svc", "*.kafka-headless.ns.svc", "localhost", "127.0.0.1", "::1", "Kafka-0.NS"} {
		assert.Empty(t, pki.CheckServerName("serverNames[0]", ok), ok)
	}
	fix := `use a DNS name ("kafka.ns.svc"), a wildcard for one leftmost label ("*.kafka-headless.ns.svc") or an IP`
	cases := map[string]string{
		"kafka_0.ns": `serverNames[1] = "kafka_0.ns": has the label "kafka_0", which is not a DNS label (letters, digits and '-', up to 63; '*' only as the whole leftmost label); ` + fix,
		"a.*.ns":     `serverNames[1] = "a.*.ns": has the label "*", which is not a DNS label (letters, digits and '-', up to 63; '*' only as the whole leftmost label); ` + fix,
		"*":          `serverNames[1] = "*": is a wildcard without a domain; ` + fix,
		"":           `serverNames[1] = "": is not a host name (empty, or over 253 characters); ` + fix,
	}
	for name, want := range cases {
		assert.Equal(t, want, pki.CheckServerName("serverNames[1]", name), name)
	}
	assert.NotEmpty(t, pki.CheckServerName("n", strings.Repeat("a.", 127)+"ab"), "over 253 characters")
	assert.NotEmpty(t, pki.CheckServerName("n", strings.Repeat("a", 64)+".ns"), "a label over 63")
	assert.NotEmpty(t, pki.CheckServerName("n", "kafka..ns"), "an empty label")
}
