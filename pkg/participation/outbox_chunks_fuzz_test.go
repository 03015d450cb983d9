package participation

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParseChunk: the outbox's framing, read back from a database file
// that may have been damaged or written by another version. No input
// makes parsing or decoding panic; every record parsed decodes to an id
// of 32 hex characters and a known kind, and one framed as JSON frames
// back to exactly its bytes.
func FuzzParseChunk(f *testing.F) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	file, _ := NewRecord(KindFile, map[string]any{"size": 1}, now)
	compact, _ := NewCompactFileRecord([]FileSum{{"sha256", make([]byte, 32)}}, 7, "clean", time.Millisecond, now)
	f.Add(appendFramed(appendFramed(nil, &file), &compact))
	f.Add(appendFramed(nil, &file)[:recordHeader+2])
	f.Add(make([]byte, recordHeader))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := parseChunk(data)
		if err != nil {
			return
		}
		total := 0
		for _, fr := range recs {
			total += len(fr.raw)
			r, err := fr.record()
			if err != nil {
				continue
			}
			if len(r.ID) != 32 || !r.Kind.valid() {
				t.Fatalf("record decoded as id %q kind %q", r.ID, r.Kind)
			}
			if fr.raw[16] == codeCompactFile {
				if !jsonValid(r.Body) {
					t.Fatalf("compact body rendered as %q", r.Body)
				}
				continue
			}
			if back := appendFramed(nil, &r); !bytes.Equal(back, fr.raw) {
				t.Fatalf("framed %x, frames back as %x", fr.raw, back)
			}
		}
		if total != len(data) {
			t.Fatalf("%d records cover %d of %d bytes", len(recs), total, len(data))
		}
	})
}
