package seal

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func TestKeyDir(t *testing.T) {
	d := KeyDir{Path: filepath.Join(t.TempDir(), "keys")}
	if labels, err := d.Labels(); err != nil || len(labels) != 0 {
		t.Fatalf("a missing directory: %v, %v", labels, err)
	}
	if _, err := d.Load("2026H1"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of nothing: %v", err)
	}
	// Processes racing to create one key all end up with the same.
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := d.Create("2026H1", []byte{byte(i), 1, 2, 3})
			if err != nil {
				t.Error(err)
			}
			got[i] = w
		}()
	}
	wg.Wait()
	for _, w := range got {
		if !bytes.Equal(w, got[0]) {
			t.Fatalf("racing creators got different keys: %x", got)
		}
	}
	if w, err := d.Load("2026H1"); err != nil || !bytes.Equal(w, got[0]) {
		t.Fatalf("Load: %x, %v", w, err)
	}
	for path, want := range map[string]fs.FileMode{d.Path: 0o700, filepath.Join(d.Path, "2026H1.key"): 0o600} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, %v", path, st.Mode(), err)
		}
	}
	if _, err := d.Create("2026H2", []byte("x")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d.Path, "notes.txt"), nil, 0o600)
	if labels, err := d.Labels(); err != nil || !slices.Equal(labels, []string{"2026H1", "2026H2"}) {
		t.Fatalf("Labels: %v, %v", labels, err)
	}
	if err := d.Destroy("2026H1"); err != nil {
		t.Fatal(err)
	}
	if err := d.Destroy("2026H1"); err != nil {
		t.Errorf("destroying twice: %v", err)
	}
	if _, err := d.Load("2026H1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load after Destroy: %v", err)
	}
	for _, bad := range []string{"", "../x", "a/b", ".", "2026 H1"} {
		if _, err := d.Create(bad, []byte("x")); err == nil {
			t.Errorf("label %q accepted", bad)
		}
	}
	os.WriteFile(filepath.Join(d.Path, "2027H1.key"), []byte("garbage\n"), 0o600)
	if _, err := d.Load("2027H1"); err == nil {
		t.Error("a damaged key file loaded")
	}
}
