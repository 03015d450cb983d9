package server

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/api"
)

// The streaming decoders read what any license holder sends. Their seeds
// run with every `go test`; `go test -fuzz FuzzDecode...` explores more.

func seedBatches(f *testing.F, seeds ...string) {
	for _, s := range append(seeds,
		``, ` `, `{}`, `[]`, `null`, `{"x":1}`, `{"items":null}`, `{"items":[1,2]}`, `{"items":[`, `{"items":]`,
		`{"items":[],"items":[]}`, `{"items":[]} {}`, `{"items":[]}x`, `{"a":{"b":[1,{"c":"d"}]},"items":[]}`,
		`{"ITEMS":[]}`, `{"items":"`+strings.Repeat("x", 100)+`"}`, `{"items":[{}, {}]}`, "{\"items\":[]}\n\t ",
		manyItems(api.MaxBatch+1), manyItems(3)) {
		f.Add([]byte(s))
	}
}

// checkBatch holds every decoder to the same promises: it fails or
// returns at most api.MaxBatch items, having called item once per item in
// order; it accepts only valid JSON; and where it accepts a body that
// encoding/json reads into the request type as well, both read the same
// list (unless the body spells the list's name in another case, which
// encoding/json matches and the decoder does not).
func checkBatch[T any](t *testing.T, body []byte, list string, got []T, calls []int, err error, want func() ([]T, error)) {
	if err != nil {
		return
	}
	if len(got) > api.MaxBatch {
		t.Fatalf("%d items", len(got))
	}
	for i, n := range calls {
		if n != i+1 {
			t.Fatalf("item calls %v", calls)
		}
	}
	if len(calls) != len(got) {
		t.Fatalf("%d item calls for %d items", len(calls), len(got))
	}
	if !json.Valid(body) {
		t.Fatalf("accepted invalid JSON %q", body)
	}
	if strings.Contains(strings.ToLower(string(body)), `"`+list+`"`) && !strings.Contains(string(body), `"`+list+`"`) {
		return
	}
	std, serr := want()
	if serr == nil && !reflect.DeepEqual(std, got) && !(len(std) == 0 && len(got) == 0) {
		t.Fatalf("decoded %#v, encoding/json %#v", got, std)
	}
}

func FuzzDecodeFileLookup(f *testing.F) {
	seedBatches(f, `{"items":[{"digests":{"sha256":"ab","md5":"cd"},"size":3}]}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var calls []int
		got, err := decodeBatch[api.FileQuery](strings.NewReader(string(body)), "items", nil, func(n int) error { calls = append(calls, n); return nil })
		checkBatch(t, body, "items", got, calls, err, func() ([]api.FileQuery, error) {
			var req api.FileLookupRequest
			err := json.Unmarshal(body, &req)
			return req.Items, err
		})
	})
}

func FuzzDecodeURLLookup(f *testing.F) {
	seedBatches(f, `{"prefixes":["0a1b2c3d","ffffffff"]}`, `{"prefixes":[1]}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var calls []int
		got, err := decodeBatch[string](strings.NewReader(string(body)), "prefixes", nil, func(n int) error { calls = append(calls, n); return nil })
		checkBatch(t, body, "prefixes", got, calls, err, func() ([]string, error) {
			var req api.URLLookupRequest
			err := json.Unmarshal(body, &req)
			return req.Prefixes, err
		})
	})
}

func FuzzDecodeSubmissions(f *testing.F) {
	seedBatches(f,
		`{"participant":"0123456789abcdef0123456789abcdef","records":[{"id":"aa","kind":"file","created_at":"2026-03-01T10:00:00Z","body":{"x":[1]}}]}`,
		`{"records":[],"participant":"x","participant":"y"}`, `{"participant":7,"records":[]}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var calls []int
		var participant string
		got, err := decodeBatch[api.Record](strings.NewReader(string(body)), "records",
			map[string]any{"participant": &participant}, func(n int) error { calls = append(calls, n); return nil })
		checkBatch(t, body, "records", got, calls, err, func() ([]api.Record, error) {
			var req api.SubmissionBatch
			err := json.Unmarshal(body, &req)
			return req.Records, err
		})
	})
}
