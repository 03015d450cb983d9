package untrusted

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"EICAR-Test-File", 0, "EICAR-Test-File"},
		{"Trojan.Win32 café", 0, "Trojan.Win32 café"},
		{"red\x1b[31mALERT\x1b[0m", 0, `red\x1b[31mALERT\x1b[0m`},
		{"osc\x1b]8;;http://evil\x07link", 0, `osc\x1b]8;;http://evil\x07link`},
		{"c1\u009bX", 0, `c1\x9bX`},
		{"file\u202egnp.exe", 0, `file\u202egnp.exe`},
		{"iso\u2066late\u2069", 0, `iso\u2066late\u2069`},
		{"zero\u200bwidth\ufeff", 0, `zero\u200bwidth\ufeff`},
		{"line\u2028sep", 0, `line\u2028sep`},
		{"bad\xffutf8", 0, `bad\xffutf8`},
		{"new\nline\ttab", 0, `new\x0aline\x09tab`},
		{strings.Repeat("a", 200), 10, strings.Repeat("a", 9) + "…"},
		{"short", 10, "short"},
	}
	for _, tt := range tests {
		got := Text(tt.in, tt.limit)
		if got != tt.want {
			t.Errorf("Text(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
		for _, r := range got {
			if Suspect(r) && r != '…' {
				t.Errorf("Text(%q) still holds %U", tt.in, r)
			}
		}
		if tt.limit > 0 && utf8.RuneCountInString(got) > tt.limit {
			t.Errorf("Text(%q, %d) has %d runes", tt.in, tt.limit, utf8.RuneCountInString(got))
		}
	}
}

func TestValidID(t *testing.T) {
	for _, ok := range []string{"ksn-0123456789abcdef", "team-2026.1", "a", "v2:b+c_d"} {
		if !ValidID(ok) {
			t.Errorf("ValidID(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "-x", "a b", "id\x1b[2J", "id\u202e", strings.Repeat("x", 65), "ü", "a/b"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "a\x1b[0m", "\u202e", "\xff\xfe", "é"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit = limit % 300
		if limit < 0 {
			limit = -limit
		}
		got := Text(s, limit)
		if !utf8.ValidString(got) {
			t.Fatalf("Text(%q) = %q is not valid UTF-8", s, got)
		}
		for _, r := range got {
			if Suspect(r) {
				t.Fatalf("Text(%q) = %q holds %U", s, got, r)
			}
		}
		if limit > 0 && utf8.RuneCountInString(got) > limit {
			t.Fatalf("Text(%q, %d) = %q is too long", s, limit, got)
		}
	})
}
