package statement

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzNew: a statement's identity follows its exact bytes, whatever they
// are (a server's operator file, an endpoint's answer): SHA256 is the
// lower-case hex digest of the text, an empty id is derived from it, and
// two texts that differ in any byte get different derived ids unless
// their digests share 64 bits.
func FuzzNew(f *testing.F) {
	f.Add("", builtinText, "x")
	f.Add("custom-1", "text\r\n\x00\xff", "y")
	f.Fuzz(func(t *testing.T, id, text, other string) {
		s := New(id, text, "test")
		sum := sha256.Sum256([]byte(text))
		if s.SHA256 != hex.EncodeToString(sum[:]) || s.Text != text {
			t.Fatalf("New(%q) = %+v", text, s)
		}
		switch {
		case id != "" && s.ID != id:
			t.Fatalf("id %q became %q", id, s.ID)
		case id == "" && s.ID != "ksn-"+s.SHA256[:16]:
			t.Fatalf("derived id %q for digest %s", s.ID, s.SHA256)
		}
		o := New("", other, "test")
		if other != text && o.ID == New("", text, "test").ID && !strings.HasPrefix(o.SHA256, s.SHA256[:16]) {
			t.Fatalf("texts %q and %q share id %s", text, other, o.ID)
		}
	})
}
