package config

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/tailscale/hujson"
)

func TestJSON5ToJWCC(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{a: 1}`, `{"a": 1}`},
		{`{ $id_2: true, _x: null }`, `{ "$id_2": true, "_x": null }`},
		{`{'a': 'it\'s "q"'}`, `{"a": "it's \"q\""}`},
		{`{"url": "http://x/v1", c: 'a\nb'}`, `{"url": "http://x/v1", "c": "a\nb"}`},
		// Nothing inside strings or comments is touched.
		{`{"k": "a: b, c: 'd'"}`, `{"k": "a: b, c: 'd'"}`},
		{"{// key: 'v'\n k /* x: 'y' */ : 1}", "{// key: 'v'\n \"k\" /* x: 'y' */ : 1}"},
		{`{k: [true, false, null, 1e5, -2]}`, `{"k": [true, false, null, 1e5, -2]}`},
		{`{'k': "it's"}`, `{"k": "it's"}`},
		{`{ключ: 1}`, `{"ключ": 1}`},
		{"{k\n:\n1}", "{\"k\"\n:\n1}"},
	}
	for _, tt := range tests {
		got, _ := json5ToJWCC([]byte(tt.in))
		if string(got) != tt.want {
			t.Errorf("json5ToJWCC(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestJSON5OffsetsMapBack(t *testing.T) {
	src := []byte("{a: 'x\"y', bb: 2}")
	out, m := json5ToJWCC(src)
	// Every byte of "bb" and "2" in the output maps to the same byte in src.
	for _, tok := range []string{"bb", "2"} {
		i := bytes.Index(out, []byte(tok))
		j := bytes.Index(src, []byte(tok))
		if got := m.original(i); got != j {
			t.Errorf("offset of %q: original(%d) = %d; want %d", tok, i, got, j)
		}
	}
}

func TestSeedFixturesStandardize(t *testing.T) {
	for _, f := range []string{"01-local-primary.json5", "02-hybrid-hosted-primary.json5", "03-other-proxy.json5"} {
		src, err := os.ReadFile(fixtures + f)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json5ToJWCC(src)
		if !json.Valid(out) {
			t.Errorf("%s: rewritten text is not JSON:\n%s", f, out)
		}
		if bytes.Count(out, []byte("\n")) != bytes.Count(src, []byte("\n")) {
			t.Errorf("%s: line count changed", f)
		}
	}
}

func FuzzJSON5ToJWCC(f *testing.F) {
	for _, s := range []string{
		`{a: 1}`, `{'a': 'b\'c'}`, `{"a": [1, 2, {"b": null}]}`, "{// c\n a: 1, /* d */ }",
		`{"k": "a: b"}`, `[1, 'x', "y"]`, "2" + strings.Repeat("0", 320), `{a`, `'unterminated`, "{\"\\u00e9\": \"\\\"\"}",
	} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"01-local-primary.json5", "02-hybrid-hosted-primary.json5", "03-other-proxy.json5"} {
		if src, err := os.ReadFile(fixtures + name); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, m := json5ToJWCC(in)
		if bytes.Count(out, []byte("\n")) != bytes.Count(in, []byte("\n")) {
			t.Fatalf("newline count changed: %q -> %q", in, out)
		}
		for i := 0; i <= len(out); i++ {
			if o := m.original(i); o < 0 || o > len(in)+1 {
				t.Fatalf("original(%d) = %d outside input of %d bytes", i, o, len(in))
			}
		}
		if json.Valid(in) {
			// Numbers as written (json.Number): a valid number can still
			// overflow a float64.
			decode := func(b []byte) (any, error) {
				d := json.NewDecoder(bytes.NewReader(b))
				d.UseNumber()
				var v any
				return v, d.Decode(&v)
			}
			want, err := decode(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode(out)
			if err != nil {
				t.Fatalf("plain JSON %q became invalid: %q: %v", in, out, err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("plain JSON %q decodes differently after the pass: %q", in, out)
			}
		}
		// The whole loader never panics on any input either.
		Parse("fuzz", in, noEnv)
		if v, err := hujson.Parse(out); err == nil {
			_ = v
		}
	})
}
