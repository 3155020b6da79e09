package topicconfig

import (
	"slices"
	"strconv"
	"strings"
)

// SameValue reports whether a and b are the same value of the topic config
// key, as Kafka's ConfigDef parses them. Unknown keys compare exactly.
func SameValue(key, a, b string) bool {
	if a == b {
		return true
	}
	def, ok := Lookup(key)
	if !ok {
		return false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch def.Type {
	case Boolean:
		return strings.EqualFold(a, b)
	case Int, Long:
		x, errx := strconv.ParseInt(a, 10, 64)
		y, erry := strconv.ParseInt(b, 10, 64)
		return errx == nil && erry == nil && x == y
	case Double:
		x, errx := strconv.ParseFloat(a, 64)
		y, erry := strconv.ParseFloat(b, 64)
		return errx == nil && erry == nil && x == y
	case List:
		return slices.Equal(SplitList(a), SplitList(b))
	}
	return a == b
}
