package provider

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sample returns a value of type t that differs for each variant: strings and
// numbers carry the variant, bools flip, pointers, slices and structs are built
// from their elements (every exported field of a struct set).
func sample(t reflect.Type, variant int) reflect.Value {
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("v%d", variant))
	case reflect.Bool:
		v.SetBool(variant%2 == 1)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(10 + variant))
	case reflect.Pointer:
		v.Set(reflect.New(t.Elem()))
		v.Elem().Set(sample(t.Elem(), variant))
	case reflect.Slice:
		v.Set(reflect.Append(reflect.MakeSlice(t, 0, 1), sample(t.Elem(), variant)))
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				v.Field(i).Set(sample(t.Field(i).Type, variant))
			}
		}
	default:
		panic("sample: no sample for " + t.String())
	}
	return v
}

// pulumiName is a field's property name from its pulumi tag, or "" if it has none.
func pulumiName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("pulumi"), ",")
	return name
}

// paths lists every settable leaf of t below prefix as field-index paths with
// the top-level property name each change must be reported under.
func paths(t reflect.Type, index []int, top string, out *[]fieldPath) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := pulumiName(f)
		if !f.IsExported() || name == "" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		prop := top
		if prop == "" {
			prop = name
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
			paths(ft.Elem(), idx, prop, out)
			continue
		}
		*out = append(*out, fieldPath{index: idx, property: prop, label: strings.TrimPrefix(top+"."+name, ".")})
	}
}

type fieldPath struct {
	index    []int
	property string
	label    string
}

// set walks index from c, allocating nested struct pointers, and sets the leaf.
func set(c *Config, index []int, value func(reflect.Type) reflect.Value) {
	v := reflect.ValueOf(c).Elem()
	for n, i := range index {
		f := v.Field(i)
		if n == len(index)-1 {
			f.Set(value(f.Type()))
			return
		}
		if f.IsNil() {
			f.Set(reflect.New(f.Type().Elem()))
		}
		v = f.Elem()
	}
}

// Guards the provider config diff against a field it forgets: every field of
// Config (and of its nested kubernetes option), found by reflection, must show
// as an in-place update under its property name when it changes, from unset
// and from another value. A new field without a Diff entry fails here.
func TestConfigDiffCoversEveryField(t *testing.T) {
	var all []fieldPath
	paths(reflect.TypeOf(Config{}), nil, "", &all)
	require.NotEmpty(t, all)
	seenTop := map[string]bool{}
	for _, fp := range all {
		seenTop[fp.property] = true
		t.Run(fp.label, func(t *testing.T) {
			full := func(variant int) *Config {
				c := sample(reflect.TypeOf(Config{}), variant).Addr().Interface().(*Config)
				return c
			}
			for name, pair := range map[string][2]*Config{
				"from unset": {{}, func() *Config {
					c := &Config{}
					set(c, fp.index, func(t reflect.Type) reflect.Value { return sample(t, 1) })
					return c
				}()},
				"changed": {full(1), func() *Config {
					c := full(1)
					set(c, fp.index, func(t reflect.Type) reflect.Value { return sample(t, 2) })
					return c
				}()},
			} {
				resp, err := (&Config{}).Diff(context.Background(), infer.DiffRequest[*Config, *Config]{State: pair[0], Inputs: pair[1]})
				require.NoError(t, err)
				assert.True(t, resp.HasChanges, "%s: %s", fp.label, name)
				assert.Equal(t, map[string]p.PropertyDiff{fp.property: {Kind: p.Update, InputDiff: true}}, resp.DetailedDiff, "%s: %s", fp.label, name)
			}
		})
	}
	// Every top-level property of the schema was exercised.
	typ := reflect.TypeOf(Config{})
	for i := 0; i < typ.NumField(); i++ {
		if name := pulumiName(typ.Field(i)); name != "" {
			assert.True(t, seenTop[name], "field %s has no settable leaf to test", name)
		}
	}
}
