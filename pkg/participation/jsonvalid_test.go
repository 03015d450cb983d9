package participation

import (
	"encoding/json"
	"strings"
	"testing"
)

var jsonSeeds = []string{
	``, ` `, `{}`, `{ }`, `[]`, `[ ]`, `{"a":1}`, `{"a":1,}`, `{"a" : [1, 2.5, -0, -0.0e+1, 1E5, true, false, null, "x"]}`,
	`{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":1e+}`, `{"a":+1}`, `{"a":tru}`, `{"a":truex}`,
	`{"a":nul}`, `{"a":"\u00e9\n\t\"\\\/\b\f\r"}`, `{"a":"\u00g0"}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xff\xfe\"}",
	`{"a":"` + "\x7f" + `"}`, `{"a":1} `, `{"a":1} x`, `{"a":1}{}`, ` {"a":1}`, "\t{\"a\"\n:\r1}", `{a:1}`, `{"a"}`, `{"a":}`,
	`{,}`, `[1,]`, `[,1]`, `[1 2]`, `"abc`, `"abc"`, `123`, `-`, `0123`, `1.5e10`, `{"a":"\u12"}`, `{"a":"\`, `{"a":[`,
	`{"digests":{"blake3":"cd","sha256":"ab"},"size":12,"verdict":"clean","hash_ms":0.5}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"a":` + strings.Repeat(`{"a":`, 9999) + `1` + strings.Repeat("}", 10000),
	`{"a":` + strings.Repeat(`{"a":`, 9998) + `1` + strings.Repeat("}", 9999),
}

func TestJSONValid(t *testing.T) {
	for _, s := range jsonSeeds {
		if got, want := jsonValid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("jsonValid(%.60q) = %v, json.Valid %v", s, got, want)
		}
	}
}

func FuzzJSONValid(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := jsonValid(b), json.Valid(b); got != want {
			t.Errorf("jsonValid(%q) = %v, json.Valid %v", b, got, want)
		}
	})
}
