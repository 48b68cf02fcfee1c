package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tailscale/hujson"
)

// Duration is a length of time written in the config either as a Go
// duration string ("90s", "20m", "1h30m") or as a number of seconds.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String writes d as a config file would: "72h", "1h30m", "90s" rather
// than time.Duration's "72h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// stringForm is implemented by file types that also accept a plain string
// in place of their object form, as OpenClaw does for agents.defaults.model.
// setString stores the string and returns the key it stands for.
type stringForm interface{ setString(string) (key string) }

// decoder fills typed structs from a parsed HuJSON tree, recording where each
// key was so that later validation can point at it.
type decoder struct {
	file    string
	orig    []byte
	offs    *offsetMap
	lookup  func(string) (string, bool)
	errs    Errors
	pos     map[string]int      // key path -> offset of its value in orig
	order   map[string][]string // object key path -> member names in file order
	missing []missingVar
	// modelless are the providers that list no models, with the error to
	// give unless tools.media.audio transcribes with them.
	modelless map[*Provider]func()
}

// missingVar is a ${VAR} reference whose variable is not set.
type missingVar struct{ Path, Var string }

func newDecoder(file string, orig []byte, offs *offsetMap, lookup func(string) (string, bool)) *decoder {
	return &decoder{file: file, orig: orig, offs: offs, lookup: lookup,
		pos: map[string]int{}, order: map[string][]string{}}
}

func (d *decoder) lineCol(origOff int) (int, int) {
	if origOff < 0 || origOff > len(d.orig) {
		return 0, 0
	}
	b := d.orig[:origOff]
	line := 1 + bytes.Count(b, []byte("\n"))
	col := 1 + origOff - (bytes.LastIndexByte(b, '\n') + 1)
	return line, col
}

// errAt records an error at rewritten offset off.
func (d *decoder) errAt(off int, path, format string, args ...any) {
	line, col := d.lineCol(d.offs.original(off))
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// errPath records an error at the place the key path was read from, or
// with no position when the path did not come from the file.
func (d *decoder) errPath(path, format string, args ...any) {
	e := &Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if off, ok := d.pos[path]; ok {
		e.Line, e.Column = d.lineCol(off)
	}
	d.errs = append(d.errs, e)
}

// has reports whether the key path was present in the file.
func (d *decoder) has(path string) bool {
	_, ok := d.pos[path]
	return ok
}

var (
	durationType = reflect.TypeFor[Duration]()
	anyType      = reflect.TypeFor[any]()
)

func (d *decoder) decode(v *hujson.Value, path string, rv reflect.Value) {
	d.pos[path] = d.offs.original(v.StartOffset)
	kind := v.Value.Kind()

	if rv.Kind() == reflect.Pointer {
		if kind == 'n' {
			return // null means "not set"
		}
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		rv = rv.Elem()
	}
	if kind == '"' && rv.CanAddr() {
		if sf, ok := rv.Addr().Interface().(stringForm); ok {
			key := sf.setString(d.expand(path, v.Value.(hujson.Literal).String()))
			d.pos[joinPath(path, key)] = d.pos[path]
			return
		}
	}
	switch {
	case rv.Type() == durationType:
		d.decodeDuration(v, path, rv)
		return
	case rv.Type() == anyType:
		rv.Set(reflect.ValueOf(d.decodeAny(v, path)))
		return
	}

	switch rv.Kind() {
	case reflect.Struct:
		obj, ok := d.object(v, path, rv.Type())
		if !ok {
			return
		}
		fields := structFields(rv.Type())
		for i := range obj.Members {
			m := &obj.Members[i]
			name := m.Name.Value.(hujson.Literal).String()
			sub := joinPath(path, name)
			idx, ok := fields[name]
			if !ok {
				msg := fmt.Sprintf("unknown key %q", name)
				if s := Closest(name, slices.Sorted(maps.Keys(fields))); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else {
					msg += fmt.Sprintf(" (known keys here: %s)", strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
				}
				d.errAt(m.Name.StartOffset, sub, "%s", msg)
				continue
			}
			d.decode(&m.Value, sub, rv.Field(idx))
		}
	case reflect.Map:
		obj, ok := d.object(v, path, rv.Type())
		if !ok {
			return
		}
		if rv.IsNil() {
			rv.Set(reflect.MakeMap(rv.Type()))
		}
		for i := range obj.Members {
			m := &obj.Members[i]
			name := m.Name.Value.(hujson.Literal).String()
			sub := joinPath(path, name)
			elem := reflect.New(rv.Type().Elem()).Elem()
			d.decode(&m.Value, sub, elem)
			rv.SetMapIndex(reflect.ValueOf(name), elem)
		}
	case reflect.Slice:
		arr, ok := v.Value.(*hujson.Array)
		if !ok {
			d.wrongType(v, path, rv.Type())
			return
		}
		s := reflect.MakeSlice(rv.Type(), len(arr.Elements), len(arr.Elements))
		for i := range arr.Elements {
			d.decode(&arr.Elements[i], fmt.Sprintf("%s[%d]", path, i), s.Index(i))
		}
		rv.Set(s)
	case reflect.String:
		if kind != '"' {
			d.wrongType(v, path, rv.Type())
			return
		}
		rv.SetString(d.expand(path, v.Value.(hujson.Literal).String()))
	case reflect.Bool:
		if kind != 't' && kind != 'f' {
			d.wrongType(v, path, rv.Type())
			return
		}
		rv.SetBool(kind == 't')
	case reflect.Int:
		if kind != '0' {
			d.wrongType(v, path, rv.Type())
			return
		}
		lit := string(v.Value.(hujson.Literal))
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(lit, 64)
			if ferr != nil || f != float64(int64(f)) {
				d.errAt(v.StartOffset, path, "expected a whole number, got %s", lit)
				return
			}
			n = int64(f)
		}
		if n < 0 {
			d.errAt(v.StartOffset, path, "must not be negative, got %d", n)
			return
		}
		rv.SetInt(n)
	case reflect.Float64:
		if kind != '0' {
			d.wrongType(v, path, rv.Type())
			return
		}
		f := v.Value.(hujson.Literal).Float()
		if f < 0 {
			d.errAt(v.StartOffset, path, "must not be negative, got %s", v.Value.(hujson.Literal))
			return
		}
		rv.SetFloat(f)
	default:
		panic(fmt.Sprintf("config: no decoder for %s", rv.Type())) // a programming error, never input
	}
}

// object returns v as an object, recording its member order, and reports
// duplicate keys.
func (d *decoder) object(v *hujson.Value, path string, t reflect.Type) (*hujson.Object, bool) {
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		d.wrongType(v, path, t)
		return nil, false
	}
	seen := make(map[string]bool, len(obj.Members))
	names := make([]string, 0, len(obj.Members))
	for _, m := range obj.Members {
		name := m.Name.Value.(hujson.Literal).String()
		if seen[name] {
			d.errAt(m.Name.StartOffset, joinPath(path, name), "key %q appears twice in the same object: keep one", name)
		}
		seen[name] = true
		names = append(names, name)
	}
	d.order[path] = names
	return obj, true
}

func (d *decoder) decodeDuration(v *hujson.Value, path string, rv reflect.Value) {
	lit, _ := v.Value.(hujson.Literal)
	switch v.Value.Kind() {
	case '0':
		f := lit.Float()
		if f < 0 {
			d.errAt(v.StartOffset, path, "must not be negative, got %s", lit)
			return
		}
		rv.SetInt(int64(f * float64(time.Second)))
	case '"':
		s := lit.String()
		dur, err := time.ParseDuration(s)
		if err != nil || dur < 0 {
			d.errAt(v.StartOffset, path, `expected a duration such as "90s", "20m" or "1h", or a number of seconds, got %q`, s)
			return
		}
		rv.SetInt(int64(dur))
	default:
		d.wrongType(v, path, rv.Type())
	}
}

// decodeAny decodes a free-form value (model params) as encoding/json would.
func (d *decoder) decodeAny(v *hujson.Value, path string) any {
	switch val := v.Value.(type) {
	case *hujson.Object:
		out := make(map[string]any, len(val.Members))
		for i := range val.Members {
			m := &val.Members[i]
			name := m.Name.Value.(hujson.Literal).String()
			out[name] = d.decodeAny(&m.Value, joinPath(path, name))
		}
		return out
	case *hujson.Array:
		out := make([]any, len(val.Elements))
		for i := range val.Elements {
			out[i] = d.decodeAny(&val.Elements[i], fmt.Sprintf("%s[%d]", path, i))
		}
		return out
	case hujson.Literal:
		switch val.Kind() {
		case '"':
			return d.expand(path, val.String())
		case '0':
			return json.Number(string(val))
		case 't', 'f':
			return val.Bool()
		}
	}
	return nil
}

func (d *decoder) wrongType(v *hujson.Value, path string, t reflect.Type) {
	d.errAt(v.StartOffset, path, "expected %s, got %s", describeType(t), describeValue(v))
}

func describeType(t reflect.Type) string {
	if t == durationType {
		return `a duration such as "90s" or a number of seconds`
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[stringForm]()) {
		return "a string or an object"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object { ... }"
	case reflect.Slice:
		return "a list [ ... ]"
	case reflect.String:
		return "a string in quotes"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	}
	return t.String()
}

func describeValue(v *hujson.Value) string {
	switch v.Value.Kind() {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return fmt.Sprintf("a string (%s)", truncate(string(v.Value.(hujson.Literal)), 40))
	case '0':
		return fmt.Sprintf("a number (%s)", v.Value.(hujson.Literal))
	case 't', 'f':
		return string(v.Value.(hujson.Literal))
	case 'n':
		return "null"
	}
	return "something else"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

var envRef = regexp.MustCompile(`\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expand replaces ${VAR} with the variable's value; $${VAR} stands for a
// literal ${VAR}. A variable that is not set (or empty) becomes "" and is recorded, so
// that whatever needs it can say so when it is used.
func (d *decoder) expand(path, s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		if strings.HasPrefix(ref, "$$") {
			return ref[1:]
		}
		name := ref[2 : len(ref)-1]
		if val, ok := d.lookup(name); ok && val != "" {
			return val
		}
		d.missing = append(d.missing, missingVar{Path: path, Var: name})
		return ""
	})
}

// joinPath appends key to a dotted key path, bracketing keys that are not
// plain identifiers ("models[\"anthropic/claude-opus-4-5\"]").
func joinPath(path, key string) string {
	plain := key != ""
	for i, r := range key {
		if !(r == '_' || r == '$' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || (i > 0 && '0' <= r && r <= '9')) {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return fmt.Sprintf("%s[%q]", path, key)
	case path == "":
		return key
	default:
		return path + "." + key
	}
}

// structFields maps the json tag names of t's fields to their indexes.
func structFields(t reflect.Type) map[string]int {
	out := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = i
	}
	return out
}
