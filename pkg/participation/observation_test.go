package participation

import (
	"encoding/json"
	"testing"
	"time"
)

// TestFileObservationJSON holds the hand-written encoder to what
// encoding/json would write by reflection, byte for byte.
func TestFileObservationJSON(t *testing.T) {
	type plain FileObservation // same fields, no MarshalJSON method
	cases := []FileObservation{
		{Digests: map[string]string{"sha256": "ab", "blake3": "cd", "md5": "ef"}, Size: 12, Verdict: "clean", HashMS: 0.5},
		{Digests: map[string]string{}, Size: 0, Verdict: "unknown", HashMS: 0},
		{Digests: nil, Size: -1, Verdict: "", HashMS: 1e-7},
		{Digests: map[string]string{"x\"<y>\n": "é&"}, Size: 1 << 40, Verdict: "mal\\icious", HashMS: 123456789.125},
	}
	for _, o := range cases {
		got, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(plain(o))
		if err != nil {
			t.Fatal(err)
		}
		if o.Digests == nil { // encoding/json writes null for a nil map; ours writes {}
			want = []byte(`{"digests":{}` + string(want[len(`{"digests":null`):]))
		}
		if string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestNewFileRecordMatchesNewRecord(t *testing.T) {
	o := FileObservation{Digests: map[string]string{"sha256": "ab", "blake3": "cd"}, Size: 3, Verdict: "unknown", HashMS: 0.25}
	now := time.Unix(1_800_000_000, 0)
	a, err := NewFileRecord(o, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRecord(KindFile, o, now)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Body) != string(b.Body) || a.Kind != b.Kind || !a.CreatedAt.Equal(b.CreatedAt) || a.ID == b.ID || len(a.ID) != 32 {
		t.Fatalf("NewFileRecord %+v, NewRecord %+v", a, b)
	}
}
