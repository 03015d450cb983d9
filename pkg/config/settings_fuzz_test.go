package config

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseDuration checks that ParseDuration never panics, never returns a
// negative duration, and that formatDuration's text (what ksn writes to the
// file and shows) reads back to the same duration and is itself stable.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90d", "1d12h", "1.5h", "-1s", "", "d", "5x", "0", "1µs", ".5s", "106751d23h47m16.854775807s", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		text := formatDuration(d)
		back, err := ParseDuration(text)
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; formatted %q reads back as %v, %v", s, d, text, back, err)
		}
		if again := formatDuration(back); again != text {
			t.Fatalf("formatDuration is not stable: %q then %q", text, again)
		}
	})
}

// FuzzSettingValue feeds arbitrary text to every key's check: it must never
// panic, a normalised value must be accepted again unchanged (so `ksn config
// set` followed by a load never fails), and an accepted URL never carries
// credentials and a rejected one is never echoed with them.
func FuzzSettingValue(f *testing.F) {
	for _, s := range []string{"https://ksn.example.org/", "http://u:p@h", "ftp://x", "10s", "90d", "100000", "+7", "-1", " ", "http://[::1]:80", "https://h?q#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range Keys {
			v, err := k.parse(s)
			if err != nil {
				if k.Kind != KindURL {
					continue
				}
				// A password long enough not to turn up by chance elsewhere
				// in the message must not be printed.
				if u, perr := url.Parse(strings.TrimSpace(s)); perr == nil && u.User != nil {
					if pw, ok := u.User.Password(); ok && len(pw) >= 6 && strings.Contains(err.Error(), pw) {
						t.Fatalf("%s %q: the error shows the password: %v", k.Name, s, err)
					}
				}
				continue
			}
			again, err := k.parse(v.text)
			if err != nil || again != v {
				t.Fatalf("%s %q normalised to %q, which reads as %+v, %v", k.Name, s, v.text, again, err)
			}
			if k.Kind == KindURL && v.text != "" {
				u, err := url.Parse(v.text)
				if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
					t.Fatalf("%s %q: accepted as %q (%v)", k.Name, s, v.text, err)
				}
			}
		}
	})
}
