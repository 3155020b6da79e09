package pki

// The names a certificate may carry, checked before anything is signed, so
// a bad name is refused with its fix instead of making a certificate that
// no principal rule or host name check can use. The messages follow the
// rules.Message shape: "<field> = <value>: <problem>; <fix>".

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// MaxCommonNameLength is X.509's upper bound of a common name (RFC 5280 ub-common-name).
const MaxCommonNameLength = 64

// commonNameRE keeps a common name to characters that Kafka's principal
// mapping reads back unchanged: a ',', '+', '=' or quote would be escaped in
// the subject DN, and the principal would no longer be User:<name>.
var commonNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CheckCommonName is "" for a common name Kafka reads back as User:<cn>, or
// the refusal of field's value cn with its fix (example is the name the fix
// suggests).
func CheckCommonName(field, cn, example string) string {
	switch {
	case cn == "":
		return rules.Message(field, cn, "is empty: a certificate needs a common name, the principal User:<name>",
			fmt.Sprintf("set it, e.g. %q", example))
	case len(cn) > MaxCommonNameLength:
		return rules.Message(field, cn, fmt.Sprintf("is %d characters long, over X.509's limit of %d",
			len(cn), MaxCommonNameLength), "shorten it")
	case !commonNameRE.MatchString(cn):
		return rules.Message(field, cn, "has a character other than letters, digits, '.', '_' and '-' (or does not "+
			"start with a letter or digit): the subject DN would escape it, and Kafka's principal would not be "+
			"User:<name>", fmt.Sprintf("use a plain name, e.g. %q", example))
	}
	return ""
}

// dnsLabelRE is one label of a host name (RFC 1123), case-insensitive.
var dnsLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// CheckServerName is "" for a subject alternative name a TLS client can
// match (an IP, a DNS name, or a wildcard for one leftmost label), or the
// refusal of field's value name with its fix.
func CheckServerName(field, name string) string {
	if net.ParseIP(name) != nil {
		return ""
	}
	fix := `use a DNS name ("kafka.ns.svc"), a wildcard for one leftmost label ("*.kafka-headless.ns.svc") or an IP`
	if name == "" || len(name) > 253 {
		return rules.Message(field, name, "is not a host name (empty, or over 253 characters)", fix)
	}
	labels := strings.Split(name, ".")
	if labels[0] == "*" {
		if len(labels) < 2 {
			return rules.Message(field, name, "is a wildcard without a domain", fix)
		}
		labels = labels[1:]
	}
	for _, l := range labels {
		if !dnsLabelRE.MatchString(l) {
			return rules.Message(field, name, fmt.Sprintf("has the label %q, which is not a DNS label (letters, "+
				"digits and '-', up to 63; '*' only as the whole leftmost label)", l), fix)
		}
	}
	return ""
}
