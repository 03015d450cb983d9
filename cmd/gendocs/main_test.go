package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerate writes the pages and checks what cobra alone got wrong:
// placeholders survive, and every page has its exit status; ksn(1) has its
// environment and files.
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, "man", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for page, want := range map[string][]string{
		"ksn-license-activate.1": {`ksn license activate <key>|- [flags]`, ".SH EXIT STATUS"},
		"ksn-optin.1":            {`--accept=<sha256>`, ".SH EXIT STATUS"},
		"ksn.1":                  {".SH ENVIRONMENT", "KSN_HOME", "KSN_ENDPOINT", "DO_NOT_TRACK", ".SH FILES", "reputation.db", ".SH EXIT STATUS"},
	} {
		text := read(page)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %q", page, w)
			}
		}
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "man", "*.1"))
	for _, p := range pages {
		if b, _ := os.ReadFile(p); !strings.Contains(string(b), ".SH EXIT STATUS") {
			t.Errorf("%s has no EXIT STATUS", filepath.Base(p))
		}
	}
}
