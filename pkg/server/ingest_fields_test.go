package server

import (
	"bytes"
	"fmt"
	"testing"
)

func TestObjectFields(t *testing.T) {
	for _, tc := range []struct {
		in      string
		members int    // fields returned
		err     string // "" for none
	}{
		{`{"a":1,"b":{"c":2,"d":[3,{"e":4}]}}`, 2, ""},
		{` {"k:\"}":"{:,[", "x" : null } `, 2, ""},
		{`{}`, 0, ""},
		{`{"a":1,"a":2}`, 0, "a: given twice"},
		{`{"a":1,"\u0061":2}`, 0, "a: given twice"},
		{`{"a":{"b":1,"b":2}}`, 1, ""}, // a nested object is its own caller's business
		{`null`, 0, "must be a JSON object"},
		{`[1]`, 0, "must be a JSON object"},
		{`{"a":}`, 0, "malformed JSON"},
		{`{"a":1`, 0, "malformed JSON"},
	} {
		got, err := objectFields([]byte(tc.in), "")
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case tc.err != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.err))):
			t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && len(got) != tc.members:
			t.Errorf("%s: %d fields, want %d", tc.in, len(got), tc.members)
		}
	}
}

// FuzzObjectFields holds the quick path to the token walk it skips: the
// same fields, or the same error, for any input.
func FuzzObjectFields(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"x"}`, `{"a":1,"a":2}`, `{"a":"\"}:"}`, `{"é":[{"x":1}]}`, `{"a":1} {}`, "{\"\xff\":1,\"\xfe\":2}", `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, errFast := objectFields(raw, "p")
		slow, errSlow := objectFieldsSlow(raw, "p")
		if fmt.Sprint(errFast) != fmt.Sprint(errSlow) {
			t.Fatalf("%q: quick path error %v, token walk %v", raw, errFast, errSlow)
		}
		if len(fast) != len(slow) {
			t.Fatalf("%q: %d fields, token walk %d", raw, len(fast), len(slow))
		}
		for k, v := range slow {
			if !bytes.Equal(fast[k], v) {
				t.Fatalf("%q: field %q = %q, token walk %q", raw, k, fast[k], v)
			}
		}
	})
}
