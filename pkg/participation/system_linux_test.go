package participation

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemTotal(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]uint64{
		"MemTotal:       16318504 kB\nMemFree:         1234 kB\n": 16318504 << 10,
		"MemFree:         1234 kB\nMemTotal: 2048 kB\n":           2048 << 10,
		"MemFree:         1234 kB\n":                              0,
		"MemTotal: lots kB\n":                                     0,
		"MemTotal:\n":                                             0,
	} {
		p := filepath.Join(dir, "meminfo")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := memTotal(p); got != want {
			t.Errorf("memTotal(%q) = %d, want %d", content, got, want)
		}
	}
	if got := memTotal(filepath.Join(dir, "missing")); got != 0 {
		t.Errorf("memTotal of a missing file = %d", got)
	}
}
