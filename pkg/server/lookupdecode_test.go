package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/store"
)

const (
	sha = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	b3  = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
)

var lookupBodies = []string{
	`{"items":[{"digests":{"sha256":"` + sha + `","blake3":"` + b3 + `"},"size":68}]}`,
	` { "items" : [ { "digests" : { "sha256" : "` + sha + `" } } , {"size":-1,"digests":{"md5":"00112233445566778899aabbccddeeff"}} ] } `,
	`{"items":[]}`,
	`{"extra":{"a":[1,true,null,"x\n"]},"items":[{"digests":{"sha256":"` + sha + `"},"note":"x"}]}`,
	`{"items":[{"digests":{"SHA256":"` + sha + `"}}]}`,
	`{"items":[{"digests":{"sha256":"275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"}}]}`,
	`{"items":[{"digests":{"sha256":"\u0032` + sha[1:] + `"}}]}`,
	`{"items":[{"digests":{"sha256":"` + sha + `","sha256":"` + sha + `"}}]}`,
	`{"items":[{"digests":{"sha256":"` + sha[:62] + `"}}]}`,
	`{"items":[{"digests":{"crc32":"00000000"}}]}`,
	`{"items":[{"digests":{}}]}`,
	`{"items":[{"digests":null}]}`,
	`{"items":[{}]}`,
	`{"items":null}`,
	`{"ITEMS":[{"digests":{"sha256":"` + sha + `"}}]}`,
	`{"items":[{"digests":{"sha256":"` + sha + `"}}],"Items":[]}`,
	`{"items":[{"digests":{"sha256":"` + sha + `"},"size":1.5}]}`,
	`{"items":[{"digests":{"sha256":"` + sha + `"},"size":-0}]}`,
	`{"items":[{"digests":{"sha256":"` + sha + `"},"size":007}]}`,
	`{"items":[{"digests":{"sha256":"` + sha + `"},"size":99999999999999999999}]}`,
	`{"items":[{"digests":{"sha256":"` + sha + `"}}]} x`,
	`{"items":[{"digests":{"sha256":"` + sha + `"}}]`,
	`{"items":[{"digests":{"sha256":"` + sha + `"}},]}`,
	`[]`,
	``,
	lookupOf(api.MaxBatch),
	lookupOf(api.MaxBatch + 1),
	lookupOf(api.MaxBatch) + "]",
}

// lookupOf is a lookup of n items, as clients send it.
func lookupOf(n int) string {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"digests":{"sha256":"%064x"},"size":%d}`, i, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// outcome is what a decoding came to: the digests, the item calls, the
// wrong item, and the kind of error.
type outcome struct {
	files   []store.FileDigests
	calls   int
	itemErr string
	err     string
}

func kind(err error) string {
	var rr *rateRefusal
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errTooManyItems):
		return "too many"
	case errors.As(err, &rr):
		return "rate"
	}
	return "refused"
}

// refuseAt charges items as meter.item does (an item charged before is
// free: the fallback reads the body again), and runs dry at the nth item
// (0: never); calls counts the items charged.
func refuseAt(n int, calls *int) func(int) error {
	return func(k int) error {
		if k <= *calls {
			return nil
		}
		if k != *calls+1 {
			panic(fmt.Sprintf("item %d charged after %d", k, *calls))
		}
		if k == n {
			return &rateRefusal{}
		}
		*calls = k
		return nil
	}
}

// slowLookup is what the server does without the fast reader: decodeBatch,
// then parseDigests.
func slowLookup(body io.Reader, dry int) outcome {
	var o outcome
	items, err := decodeBatch[api.FileQuery](body, "items", nil, refuseAt(dry, &o.calls))
	if o.err = kind(err); err != nil {
		return o
	}
	o.files = make([]store.FileDigests, len(items))
	for i, it := range items {
		fd, err := parseDigests(it.Digests)
		if err != nil {
			o.itemErr = fmt.Sprintf("items[%d]: %v", i, err)
			break
		}
		o.files[i] = fd
	}
	return o
}

// checkLookupAgrees holds the fast reader to decodeBatch's answer: where
// it answers (rather than leaving the body to encoding/json) it reads what
// decodeBatch and parseDigests read, charges the same items, and refuses
// what they refuse in the same way; and decodeFileLookup, fast reader and
// fallback together, always answers as they do. The body arrives whole
// and a byte at a time.
func checkLookupAgrees(t *testing.T, body []byte, dry int) {
	t.Helper()
	want := slowLookup(bytes.NewReader(body), dry)
	for _, r := range []io.Reader{bytes.NewReader(body), iotest.OneByteReader(bytes.NewReader(body))} {
		var fast outcome
		p := &lookupParser{r: r, item: refuseAt(dry, &fast.calls)}
		files, err := p.lookup()
		if !errors.Is(err, errNotFast) {
			fast.files, fast.err = files, kind(err)
			if fast.err != "" {
				fast.files = want.files // not compared: both refused
			}
			if !sameOutcome(fast, want) {
				t.Fatalf("%.200q: fast %+v, decodeBatch %+v", body, fast, want)
			}
		}
		var got outcome
		r2 := bytes.NewReader(body)
		files, itemErr, err := decodeFileLookup(r2, refuseAt(dry, &got.calls))
		got.files, got.err = files, kind(err)
		if itemErr != nil {
			got.itemErr = itemErr.Error()
		}
		if got.err != "" || got.itemErr != "" {
			got.files = want.files
		}
		if !sameOutcome(got, want) {
			t.Fatalf("%.200q: decodeFileLookup %+v, decodeBatch %+v", body, got, want)
		}
	}
}

// sameOutcome compares two outcomes; of a wrong item, only which one
// (parseDigests names one of its wrong digests, in map order).
func sameOutcome(a, b outcome) bool {
	item := func(s string) string { i, _, _ := strings.Cut(s, ":"); return i }
	if a.err != b.err || item(a.itemErr) != item(b.itemErr) || a.calls != b.calls || len(a.files) != len(b.files) {
		return false
	}
	return len(a.files) == 0 || reflect.DeepEqual(a.files, b.files)
}

func TestLookupDecodeAgrees(t *testing.T) {
	for _, body := range lookupBodies {
		for _, dry := range []int{0, 1, 3} {
			checkLookupAgrees(t, []byte(body), dry)
		}
	}
	// What clients send takes the fast way, whole or a byte at a time.
	for _, body := range []string{lookupBodies[0], lookupBodies[1], lookupOf(api.MaxBatch)} {
		p := &lookupParser{r: iotest.OneByteReader(strings.NewReader(body)), item: func(int) error { return nil }}
		if _, err := p.lookup(); err != nil {
			t.Errorf("%.80q: the fast reader did not read it: %v", body, err)
		}
	}
	// A read error (the body limit, its deadline) is the answer, not a
	// reason to fall back.
	limited := &lookupParser{r: io.MultiReader(strings.NewReader(`{"items":[`), iotest.ErrReader(errors.New("too large"))),
		item: func(int) error { return nil }}
	if _, err := limited.lookup(); err == nil || err.Error() != "too large" {
		t.Errorf("a read error: %v", err)
	}
}

func FuzzLookupDecode(f *testing.F) {
	for _, b := range lookupBodies[:len(lookupBodies)-3] {
		f.Add([]byte(b), uint8(0))
	}
	f.Add([]byte(lookupBodies[0]), uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, dry uint8) { checkLookupAgrees(t, body, int(dry%5)) })
}

// BenchmarkLookupDecode compares the fast reader with decodeBatch and
// parseDigests on bodies as clients send them.
func BenchmarkLookupDecode(b *testing.B) {
	for _, n := range []int{1, 100, api.MaxBatch} {
		body := []byte(lookupOf(n))
		b.Run(fmt.Sprintf("fast/%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := decodeFileLookup(bytes.NewReader(body), func(int) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("encoding-json/%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if o := slowLookup(bytes.NewReader(body), 0); o.err != "" {
					b.Fatal(o.err)
				}
			}
		})
	}
}
