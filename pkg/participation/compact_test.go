package participation

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// TestCompactRendersAsJSON: a compact file record reads back with exactly
// the body NewFileRecord would have made of the same observation.
func TestCompactRendersAsJSON(t *testing.T) {
	b3 := sha256.Sum256([]byte("blake3 stand-in"))
	s2 := sha256.Sum256([]byte("x"))
	s1 := make([]byte, 20)
	m5 := bytes.Repeat([]byte{0xab}, 16)
	tests := []struct {
		sums    []FileSum
		size    int64
		verdict string
		spent   time.Duration
	}{
		{[]FileSum{{"sha256", s2[:]}, {"blake3", b3[:]}}, 12345, "unknown", 250 * time.Microsecond},
		{[]FileSum{{"md5", m5}, {"sha1", s1}, {"sha256", s2[:]}, {"blake3", b3[:]}}, 0, "malicious", 0},
		{[]FileSum{{"sha256", s2[:]}}, 1 << 40, "clean", 3*time.Second + 7*time.Microsecond},
		{nil, 1, "suspicious", time.Millisecond},
	}
	s, _ := openTemp(t)
	var want [][]byte
	var recs []Record
	for _, tt := range tests {
		r, err := NewCompactFileRecord(tt.sums, tt.size, tt.verdict, tt.spent, testEpoch)
		if err != nil {
			t.Fatal(err)
		}
		if r.Body != nil || r.Kind != KindFile || len(r.ID) != 32 {
			t.Fatalf("record %+v", r)
		}
		obs := FileObservation{Digests: map[string]string{}, Size: tt.size, Verdict: tt.verdict,
			HashMS: float64(tt.spent.Microseconds()) / 1000}
		for _, d := range tt.sums {
			obs.Digests[d.Algorithm] = hexOf(d.Sum)
		}
		j, err := NewFileRecord(obs, testEpoch)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, j.Body)
		recs = append(recs, r)
		if len(r.compact) >= len(j.Body)/2 && len(tt.sums) >= 2 {
			t.Errorf("compact form is %d bytes for a %d-byte JSON body", len(r.compact), len(j.Body))
		}
	}
	if _, err := s.Append(t.Context(), recs, Limits{}); err != nil {
		t.Fatal(err)
	}
	got := all(t, s)
	if len(got) != len(want) {
		t.Fatalf("%d records read back, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.ID != recs[i].ID || r.Kind != KindFile || !bytes.Equal(r.Body, want[i]) {
			t.Errorf("record %d read back as %s %s %s, want %s", i, r.ID, r.Kind, r.Body, want[i])
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(digits[c>>4])
		sb.WriteByte(digits[c&15])
	}
	return sb.String()
}

func TestCompactRejects(t *testing.T) {
	d := make([]byte, 32)
	for name, f := range map[string]func() (Record, error){
		"unknown verdict": func() (Record, error) { return NewCompactFileRecord(nil, 1, "evil", 0, testEpoch) },
		"short digest": func() (Record, error) {
			return NewCompactFileRecord([]FileSum{{"sha256", d[:31]}}, 1, "unknown", 0, testEpoch)
		},
		"unknown algorithm": func() (Record, error) {
			return NewCompactFileRecord([]FileSum{{"sha512", d}}, 1, "unknown", 0, testEpoch)
		},
		"repeated": func() (Record, error) {
			return NewCompactFileRecord([]FileSum{{"sha256", d}, {"sha256", d}}, 1, "unknown", 0, testEpoch)
		},
		"negative size": func() (Record, error) { return NewCompactFileRecord(nil, -1, "unknown", 0, testEpoch) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, bad := range [][]byte{nil, {2}, {1}, {1, 5}, {1, 5, 9, 0, 0}, {1, 5, 0, 0, 1, 4}, {1, 5, 0, 0, 0, 0xff}} {
		if _, err := renderCompact(bad); err == nil {
			t.Errorf("renderCompact(%x) accepted", bad)
		}
	}
}

// FuzzRenderCompact: no input makes the renderer panic, and what it
// accepts is a JSON object.
func FuzzRenderCompact(f *testing.F) {
	r, _ := NewCompactFileRecord([]FileSum{{"sha256", make([]byte, 32)}}, 7, "clean", time.Millisecond, testEpoch)
	f.Add(r.compact)
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := renderCompact(b)
		if err == nil && !jsonValid(out) {
			t.Fatalf("rendered %q", out)
		}
	})
}
