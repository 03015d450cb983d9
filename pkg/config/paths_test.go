package config

import (
	"path/filepath"
	"testing"
)

func TestResolvePaths(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want Paths
	}{
		{"KSN_HOME relocates everything", map[string]string{"KSN_HOME": "/k", "HOME": "/h", "XDG_DATA_HOME": "/x"},
			Paths{"/k/config", "/k/data", "/k/state", "/k/cache"}},
		{"XDG defaults under HOME", map[string]string{"HOME": "/h"},
			Paths{"/h/.config/ksn", "/h/.local/share/ksn", "/h/.local/state/ksn", "/h/.cache/ksn"}},
		{"XDG variables honoured", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/c", "XDG_DATA_HOME": "/d", "XDG_STATE_HOME": "/s", "XDG_CACHE_HOME": "/ca"},
			Paths{"/c/ksn", "/d/ksn", "/s/ksn", "/ca/ksn"}},
		{"relative XDG values ignored", map[string]string{"HOME": "/h", "XDG_DATA_HOME": "rel"},
			Paths{"/h/.config/ksn", "/h/.local/share/ksn", "/h/.local/state/ksn", "/h/.cache/ksn"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ResolvePaths(func(k string) string { return c.env[k] })
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
	p, _ := ResolvePaths(func(k string) string { return map[string]string{"KSN_HOME": "/k"}[k] })
	if p.DatabaseFile() != filepath.Join("/k/data", "reputation.db") {
		t.Errorf("DatabaseFile = %s", p.DatabaseFile())
	}
}
