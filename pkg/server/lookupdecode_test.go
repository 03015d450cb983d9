package server

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/store"
)

// slowLookup is what the server did before parseLookup: encoding/json,
// then parseDigests; ok is false where it refuses the body.
func slowLookup(body []byte) ([]store.FileDigests, bool) {
	var req api.FileLookupRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	files := make([]store.FileDigests, len(req.Items))
	for i, it := range req.Items {
		fd, err := parseDigests(it.Digests)
		if err != nil {
			return nil, false
		}
		files[i] = fd
	}
	return files, true
}

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
	`{"items":[{"digests":{"sha256":"` + sha + `"},"size":99999999999999999999}]}`,
	`{"items":[{"digests":{"sha256":"` + sha + `"}}]} x`,
	`{"items":[{"digests":{"sha256":"` + sha + `"}}]`,
	`[]`,
	``,
}

// TestParseLookupAgrees holds the fast reader to encoding/json's answer:
// where it reads a body it reads what encoding/json and parseDigests
// read, and it never takes a body they refuse.
func TestParseLookupAgrees(t *testing.T) {
	for _, body := range lookupBodies {
		checkLookupAgrees(t, []byte(body))
	}
	if _, ok := parseLookup([]byte(lookupBodies[0])); !ok {
		t.Error("the fast reader does not read what clients send")
	}
}

func checkLookupAgrees(t *testing.T, body []byte) {
	t.Helper()
	fast, ok := parseLookup(body)
	if !ok {
		return // encoding/json decides
	}
	slow, sok := slowLookup(body)
	if !sok {
		t.Errorf("%s: the fast reader took a body that is refused", body)
		return
	}
	if len(fast) != len(slow) || (len(fast) > 0 && !reflect.DeepEqual(fast, slow)) {
		t.Errorf("%s: fast %v, encoding/json %v", body, fast, slow)
	}
}

func FuzzParseLookup(f *testing.F) {
	for _, b := range lookupBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(checkLookupAgrees)
}
