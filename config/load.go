package config

import (
	"encoding/json"
	"errors"
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

// Decode reads every key of Raw from src. Objects are decoded strictly: a
// field Raw does not declare (a typo such as `storage.szie`, at any depth) is a
// problem naming the field and the nearest declared one (checkFields), so a
// setting is never silently ignored. All problems are returned together.
func Decode(src Source) (Raw, error) {
	var raw Raw
	var p problems
	rv := reflect.ValueOf(&raw).Elem()
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		text, ok := src.Lookup(key)
		if !ok {
			continue
		}
		field := rv.Field(i)
		// Plain strings are stored unquoted in Pulumi.<stack>.yaml.
		if field.Type() == reflect.TypeOf((*string)(nil)) {
			s := text
			field.Set(reflect.ValueOf(&s))
			continue
		}
		if v, ok := decodeValue(&p, src, key, text, field.Type()); ok {
			field.Set(v)
		}
	}
	if len(p.list) > 0 {
		return Raw{}, &ValidationError{Problems: p.list}
	}
	return raw, nil
}

// decodeValue decodes one key's JSON text into a value of type t, recording
// its problems: unreadable text, unknown fields (checkFields), wrong types.
func decodeValue(p *problems, src Source, key, text string, t reflect.Type) (reflect.Value, bool) {
	fail := func(err error) (reflect.Value, bool) {
		p.add(key, src.shown(key, text), "cannot be read as "+kindOf(t)+": "+describeJSONError(err), "check the key's type in Pulumi.yaml's config block")
		return reflect.Value{}, false
	}
	var generic any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return fail(err)
	}
	before := len(p.list)
	checkFields(p, key, t, generic, src.Secret != nil && src.Secret(key))
	if len(p.list) > before {
		return reflect.Value{}, false
	}
	target := reflect.New(t)
	dec = json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target.Interface()); err != nil {
		return fail(err)
	}
	return target.Elem(), true
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

// Load decodes and validates a stack's config from its values (ReadStackFile's
// map), for ModeApply.
func Load(stack string, values map[string]string) (*Spec, error) {
	return LoadFor(stack, MapSource(values), ModeApply)
}

// LoadFor checks, decodes and validates a stack's config for a mode, and
// reports every problem at once, in this order: keys the program does not
// know (checkKeys), values it cannot read (Decode), then the values' own
// problems (BuildFor). Nothing is registered before it returns a Spec.
func LoadFor(stack string, src Source, mode Mode) (*Spec, error) {
	var p problems
	checkKeys(&p, src)
	raw, err := Decode(src)
	if err == nil {
		var spec *Spec
		if spec, err = BuildFor(stack, raw, mode); err == nil && len(p.list) == 0 {
			return spec, nil
		}
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		p.list = append(p.list, ve.Problems...)
	} else if err != nil {
		return nil, err
	}
	return nil, &ValidationError{Problems: p.list}
}
