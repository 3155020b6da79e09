package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
)

// quantityRE is Kubernetes' quantity grammar: a signed decimal number followed by a
// binary suffix (Ki…Ei), a decimal suffix (n u m k M G T P E) or a decimal exponent.
var quantityRE = regexp.MustCompile(`^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$`)

var quantitySuffix = map[string]float64{
	"": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60,
}

// ParseQuantity parses a Kubernetes resource quantity ("10Gi", "250m", "1") into its
// value in base units (bytes or cores). It accepts exactly what the API server
// accepts, so a typo such as "10Gx" fails here, before anything is registered.
func ParseQuantity(s string) (float64, error) {
	m := quantityRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a Kubernetes quantity (examples: 10Gi, 512Mi, 250m, 1)", s)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	suffix := m[2]
	if mult, ok := quantitySuffix[suffix]; ok {
		return n * mult, nil
	}
	exp, err := strconv.Atoi(suffix[1:])
	if err != nil {
		return 0, fmt.Errorf("%q: bad exponent: %w", s, err)
	}
	return n * math.Pow10(exp), nil
}
