package kafkaenv

import (
	"sort"
	"strconv"
	"strings"
)

// Config is a node's server properties as Kafka will read them, with where each
// came from, so a message can name what the developer has to edit.
type Config struct {
	values map[string]string
	from   map[string]string
}

func newConfig() *Config {
	return &Config{values: map[string]string{}, from: map[string]string{}}
}

// Get returns a property's value and whether it is set.
func (c *Config) Get(property string) (string, bool) {
	v, ok := c.values[property]
	return v, ok
}

// Field names what sets a property, for messages: the variable
// (KAFKA_ADVERTISED_LISTENERS), or the property and its file.
func (c *Config) Field(property string) string {
	if from, ok := c.from[property]; ok && !strings.HasPrefix(from, Prefix) {
		return property + " (" + from + ")"
	}
	return VariableName(property)
}

// Len is the number of properties set.
func (c *Config) Len() int { return len(c.values) }

// Properties returns the property names, sorted.
func (c *Config) Properties() []string {
	out := make([]string, 0, len(c.values))
	for k := range c.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// load reads properties text into c as java.util.Properties does (comments,
// the three separators, line continuations, escapes); a later key wins. from
// labels where the text came from.
func (c *Config) load(text, from string) {
	for _, line := range logicalLines(text) {
		key, value := splitProperty(line)
		if key == "" {
			continue
		}
		c.values[key] = value
		c.from[key] = from
	}
}

// ParseProperties reads properties text as Kafka would (java.util.Properties).
func ParseProperties(text string) map[string]string {
	c := newConfig()
	c.load(text, "")
	return c.values
}

// logicalLines joins continued lines (an odd number of trailing backslashes) and
// drops blank lines and comments.
func logicalLines(text string) []string {
	var out []string
	var cur strings.Builder
	continuing := false
	for _, raw := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line := strings.TrimLeft(raw, " \t\f")
		if !continuing && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		trailing := len(line) - len(strings.TrimRight(line, `\`))
		continuing = trailing%2 == 1
		if continuing {
			line = line[:len(line)-1]
		}
		cur.WriteString(line)
		if !continuing {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// splitProperty splits one logical line at the first unescaped '=', ':' or
// blank, and unescapes both sides.
func splitProperty(line string) (string, string) {
	end, escaped := len(line), false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		if escaped {
			escaped = false
			continue
		}
		if ch == '\\' {
			escaped = true
			continue
		}
		if ch == '=' || ch == ':' || ch == ' ' || ch == '\t' || ch == '\f' {
			end = i
			break
		}
	}
	key := unescape(line[:end])
	rest := strings.TrimLeft(line[end:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return key, unescape(rest)
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			if s[i] != '\\' {
				b.WriteByte(s[i])
			}
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
