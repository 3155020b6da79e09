package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/umbrella-platform/umbrella-streaming/internal/rules"
)

// Source is a stack's config of this project as the engine hands it to the
// program: every key the stack sets, and each key's text.
//
// The Pulumi CLI type-checks only the keys Pulumi.yaml declares and hands the
// program any other key of the namespace without a word, so a misspelt key
// (`brokrs: 3`) would deploy the default. Keys is what lets Load refuse it.
// Where a program finds its keys depends on how it runs: program/keys.go says
// how under `pulumi up` and as an Automation API inline program.
type Source struct {
	// Keys are every key the stack sets in this project's namespace, without
	// the "umbrella-streaming:" prefix (ProjectKeys picks them out of the
	// engine's full keys).
	Keys []string
	// Lookup reads one key's text.
	Lookup Lookup
	// Secret reports whether a key holds a secret, so that no message prints
	// its value; nil means none does.
	Secret func(key string) bool
}

// MapSource serves a map of values (ReadStackFile's) as a Source: its keys are
// the map's keys, none secret.
func MapSource(values map[string]string) Source {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return Source{Keys: keys, Lookup: MapLookup(values)}
}

// ProjectKeys returns the keys of this project's namespace among full config
// keys as the engine names them ("umbrella-streaming:brokers",
// "kubernetes:context"), without the prefix, sorted.
func ProjectKeys(full []string) []string {
	var out []string
	for _, k := range full {
		if key, ok := strings.CutPrefix(k, Project+":"); ok {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// secretText stands for a secret's value in messages.
const secretText = rawText("[secret]")

// rawText prints as written in a message: a JSON number or object, not a
// quoted string.
type rawText string

// shown is how a key's text appears in a message: "[secret]" for a secret,
// else the text as written.
func (src Source) shown(key, text string) any {
	if src.Secret != nil && src.Secret(key) {
		return secretText
	}
	return text
}

// checkKeys refuses every key of the namespace that Raw does not declare,
// naming the nearest declared key. Keys are case-sensitive, as Pulumi's are.
func checkKeys(p *problems, src Source) {
	known := Keys()
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	for _, k := range src.Keys {
		if slices.Contains(known, k) {
			continue
		}
		text, _ := src.Lookup(k)
		p.add(k, src.shown(k, text),
			fmt.Sprintf("is not a config key of %s, so nothing would read it (keys: %s)", Project, strings.Join(sorted, ", ")),
			renameFix(k, sorted))
	}
}

// renameFix suggests the nearest known name, if one is near enough to be what
// was meant.
func renameFix(name string, known []string) string {
	if near, ok := rules.Nearest(name, known); ok {
		return "rename it to " + near
	}
	return "remove it, or use one of those names"
}

// checkFields refuses every field of a decoded object value that t (a Raw
// type) does not declare, at any depth: `broker.minInSyncReplicas`,
// `resources.requests.cpuu`, `topicOverrides.alerts.partitionz`. Names must
// match exactly: encoding/json alone would drop an unknown field, and it
// matches names ignoring case, so `minInSyncReplicas` would set
// minInsyncReplicas by accident of the decoder rather than by the stack's
// contract. A value of the wrong type is left to the decoder's message.
func checkFields(p *problems, path string, t reflect.Type, v any, secret bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := jsonFields(t)
		names := make([]string, 0, len(fields))
		for n := range fields {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				p.add(path+"."+k, shownJSON(obj[k], secret),
					fmt.Sprintf("is not a field of %s, so nothing would read it (fields: %s)", path, strings.Join(names, ", ")),
					renameFix(k, names))
				continue
			}
			checkFields(p, path+"."+k, ft, obj[k], secret)
		}
	case reflect.Map:
		obj, _ := v.(map[string]any)
		for _, k := range sortedKeys(obj) {
			checkFields(p, path+"."+k, t.Elem(), obj[k], secret)
		}
	case reflect.Slice:
		list, _ := v.([]any)
		for i, x := range list {
			checkFields(p, fmt.Sprintf("%s[%d]", path, i), t.Elem(), x, secret)
		}
	}
}

// jsonFields maps a struct's JSON field names to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = t.Field(i).Type
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shownJSON is how a decoded JSON value appears in a message: a string quoted,
// anything else as compact JSON.
func shownJSON(v any, secret bool) any {
	if secret {
		return secretText
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return rawText(fmt.Sprint(v))
	}
	return rawText(b)
}
