package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Lookup returns the raw text of one config key of this project (without the
// "umbrella-streaming:" prefix) and whether it is set. The Pulumi program passes a
// function over pulumi config; tests pass a map.
type Lookup func(key string) (string, bool)

// Keys are the top-level config keys this program reads, in Raw's field order.
func Keys() []string {
	t := reflect.TypeOf(Raw{})
	keys := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	return keys
}

// Decode reads every key of Raw through lookup. Objects are decoded strictly: an
// unknown field (a typo such as `storage.szie`) is an error naming the field, so a
// setting is never silently ignored. All problems are returned together.
func Decode(lookup Lookup) (Raw, error) {
	var raw Raw
	var p problems
	rv := reflect.ValueOf(&raw).Elem()
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		text, ok := lookup(key)
		if !ok {
			continue
		}
		field := rv.Field(i)
		target := reflect.New(field.Type())
		// Plain strings are stored unquoted in Pulumi.<stack>.yaml.
		if field.Type() == reflect.TypeOf((*string)(nil)) {
			s := text
			field.Set(reflect.ValueOf(&s))
			continue
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(text)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(target.Interface()); err != nil {
			p.add(key, text, "cannot be read as "+kindOf(field.Type())+": "+describeJSONError(err), "check the key's type in Pulumi.yaml's config block")
			continue
		}
		field.Set(target.Elem())
	}
	if len(p.list) > 0 {
		return Raw{}, &ValidationError{Problems: p.list}
	}
	return raw, nil
}

// kindOf names what a config value must look like, for messages.
func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	default:
		return "an object"
	}
}

func describeJSONError(err error) string {
	if _, ok := err.(*json.SyntaxError); ok {
		return "not valid YAML/JSON of that type"
	}
	var te *json.UnmarshalTypeError
	if ok := asType(err, &te); ok {
		return fmt.Sprintf("field %q wants a %s, got a JSON %s", te.Field, te.Type, te.Value)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown field " + strings.TrimPrefix(msg, "json: unknown field ") + " (a typo?)"
	}
	return msg
}

func asType(err error, target **json.UnmarshalTypeError) bool {
	te, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*target = te
	}
	return ok
}

// Load decodes and validates a stack's config in one step.
func Load(stack string, lookup Lookup) (*Spec, error) { return LoadFor(stack, lookup, ModeApply) }

// LoadFor decodes and validates a stack's config for a mode (see BuildFor).
func LoadFor(stack string, lookup Lookup, mode Mode) (*Spec, error) {
	raw, err := Decode(lookup)
	if err != nil {
		return nil, err
	}
	return BuildFor(stack, raw, mode)
}
