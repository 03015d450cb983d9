package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

func mapEnv(m map[string]string) Env { return func(k string) string { return m[k] } }

// testPaths puts the config directory one level below a fresh temp dir, so
// that tests also see it being created.
func testPaths(t *testing.T) Paths {
	t.Helper()
	root := t.TempDir()
	return Paths{
		Config: filepath.Join(root, "config"),
		Data:   filepath.Join(root, "data"),
		State:  filepath.Join(root, "state"),
		Cache:  filepath.Join(root, "cache"),
	}
}

func writeConfig(t *testing.T, p Paths, text string) string {
	t.Helper()
	if err := os.MkdirAll(p.Config, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(p.Config, "config.toml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func readConfig(t *testing.T, p Paths) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.Config, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustLoad(t *testing.T, p Paths, env map[string]string) *Settings {
	t.Helper()
	s, err := LoadSettings(p, mapEnv(env))
	if err != nil {
		t.Fatalf("LoadSettings: %v", err)
	}
	return s
}

func TestDefaults(t *testing.T) {
	p := testPaths(t)
	s := mustLoad(t, p, nil)
	if s.File() != filepath.Join(p.Config, "config.toml") {
		t.Errorf("File() = %s", s.File())
	}
	list := s.List()
	// The fixed keys, then three fields of each built-in feed.
	if want := len(Keys) + 3*len(Families[0].Builtin); len(list) != want {
		t.Fatalf("List has %d values, want %d", len(list), want)
	}
	for i, v := range list[:len(Keys)] {
		if v.Key != Keys[i] || v.Value != Keys[i].Default || v.Source != "default" {
			t.Errorf("List()[%d] = %+v", i, v)
		}
	}
	for _, v := range list[len(Keys):] {
		if v.Value != v.Key.Default || v.Source != "default" || !strings.HasPrefix(v.Key.Name, "feed.") {
			t.Errorf("family setting %+v", v)
		}
	}
	if d := s.Duration("timeout"); d != 10*time.Second {
		t.Errorf("timeout = %v", d)
	}
	if d := s.Duration("cache.ttl"); d != day {
		t.Errorf("cache.ttl = %v", d)
	}
	if d := s.Duration("outbox.max_age"); d != 90*day {
		t.Errorf("outbox.max_age = %v", d)
	}
	if n := s.Int("outbox.max_records"); n != 100000 {
		t.Errorf("outbox.max_records = %d", n)
	}
	if e := s.String("endpoint"); e != "" {
		t.Errorf("endpoint = %q", e)
	}
	// A nil Env is the same as an empty environment.
	if _, err := LoadSettings(p, nil); err != nil {
		t.Error(err)
	}
	// Loading reads; it must not create anything.
	if _, err := os.Stat(p.Config); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadSettings created %s: %v", p.Config, err)
	}
}

func TestLoadSources(t *testing.T) {
	type want struct{ value, source string }
	cases := []struct {
		name string
		file string // "" = no file
		env  map[string]string
		want map[string]want // keys not listed must be defaults
	}{
		{
			name: "file values, tables and dotted keys",
			file: `endpoint = "https://ksn.example.org"
timeout = "30s"
cache.ttl = "1h"
[outbox]
max_records = 5000
max_age = "30d"
`,
			want: map[string]want{
				"endpoint":           {"https://ksn.example.org", "file"},
				"timeout":            {"30s", "file"},
				"cache.ttl":          {"1h", "file"},
				"outbox.max_records": {"5000", "file"},
				"outbox.max_age":     {"30d", "file"},
			},
		},
		{
			name: "env beats file",
			file: "timeout = \"30s\"\n[outbox]\nmax_records = 5000\n",
			env:  map[string]string{"KSN_TIMEOUT": "1m", "KSN_OUTBOX_MAX_RECORDS": "7"},
			want: map[string]want{
				"timeout":            {"1m", "env KSN_TIMEOUT"},
				"outbox.max_records": {"7", "env KSN_OUTBOX_MAX_RECORDS"},
			},
		},
		{
			name: "env without a file",
			env:  map[string]string{"KSN_ENDPOINT": "http://127.0.0.1:8080", "KSN_CACHE_TTL": "0"},
			want: map[string]want{
				"endpoint":  {"http://127.0.0.1:8080", "env KSN_ENDPOINT"},
				"cache.ttl": {"0s", "env KSN_CACHE_TTL"},
			},
		},
		{
			name: "set but empty env falls back to the file",
			file: "endpoint = \"https://ksn.example.org\"\ntimeout = \"30s\"\n",
			env:  map[string]string{"KSN_ENDPOINT": "", "KSN_TIMEOUT": "  "},
			want: map[string]want{
				"endpoint": {"https://ksn.example.org", "file"},
				"timeout":  {"30s", "file"},
			},
		},
		{
			name: "values are normalised",
			file: "endpoint = \" https://ksn.example.org/ \"\ntimeout = \"1.5h\"\n[outbox]\nmax_age = \"2160h\"\n",
			env:  map[string]string{"KSN_OUTBOX_MAX_RECORDS": "+007", "KSN_PROXY": "http://proxy:3128/"},
			want: map[string]want{
				"endpoint":           {"https://ksn.example.org", "file"},
				"timeout":            {"1h30m", "file"},
				"outbox.max_age":     {"90d", "file"},
				"outbox.max_records": {"7", "env KSN_OUTBOX_MAX_RECORDS"},
				"proxy":              {"http://proxy:3128", "env KSN_PROXY"},
			},
		},
		{
			name: "an explicitly empty endpoint in the file",
			file: "endpoint = \"\"\n",
			want: map[string]want{"endpoint": {"", "file"}},
		},
		{
			name: "an empty file",
			file: "# nothing yet\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testPaths(t)
			if c.file != "" {
				writeConfig(t, p, c.file)
			}
			s := mustLoad(t, p, c.env)
			for _, k := range Keys {
				w, ok := c.want[k.Name]
				if !ok {
					w = want{k.Default, "default"}
				}
				v, err := s.Get(k.Name)
				if err != nil {
					t.Fatal(err)
				}
				if v.Value != w.value || v.Source != w.source || v.Key != k {
					t.Errorf("%s = %q from %q, want %q from %q", k.Name, v.Value, v.Source, w.value, w.source)
				}
				if s.String(k.Name) != v.Value {
					t.Errorf("String(%s) = %q, Get says %q", k.Name, s.String(k.Name), v.Value)
				}
			}
		})
	}
}

func TestTypedAccessors(t *testing.T) {
	p := testPaths(t)
	writeConfig(t, p, "timeout = \"1d12h\"\n[outbox]\nmax_records = 7\n")
	s := mustLoad(t, p, map[string]string{"KSN_OUTBOX_MAX_AGE": "1.5h"})
	if d := s.Duration("timeout"); d != 36*time.Hour {
		t.Errorf("timeout = %v", d)
	}
	if d := s.Duration("outbox.max_age"); d != 90*time.Minute {
		t.Errorf("outbox.max_age = %v", d)
	}
	if n := s.Int("outbox.max_records"); n != 7 {
		t.Errorf("outbox.max_records = %d", n)
	}
	for _, f := range []func(){
		func() { s.Duration("endpoint") },
		func() { s.Int("timeout") },
		func() { s.String("nope") },
		func() { s.Duration("time_out") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic for a programming error")
				}
			}()
			f()
		}()
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name string
		file string
		env  map[string]string
		want []string // every one must appear; "FILE" is replaced by the file's path
		not  []string // none may appear
	}{
		{
			name: "bad duration from env",
			env:  map[string]string{"KSN_TIMEOUT": "ten"},
			want: []string{`timeout: "ten" from env KSN_TIMEOUT is not a duration (e.g. 30s, 5m, 2h, 90d)`},
		},
		{
			name: "bad duration in file",
			file: "timeout = \"ten\"\n",
			want: []string{`timeout: "ten" in FILE is not a duration`},
		},
		{
			name: "bad file value is an error even when env overrides it",
			file: "timeout = \"ten\"\n",
			env:  map[string]string{"KSN_TIMEOUT": "5s"},
			want: []string{`timeout: "ten" in FILE`},
		},
		{
			name: "duration written as a number",
			file: "timeout = 30\n",
			want: []string{`timeout: 30 in FILE must be a quoted string (e.g. timeout = "10s")`},
		},
		{
			name: "zero timeout",
			env:  map[string]string{"KSN_TIMEOUT": "0s"},
			want: []string{`timeout: "0s" from env KSN_TIMEOUT must be more than 0`},
		},
		{
			name: "negative duration",
			file: "[cache]\nttl = \"-1h\"\n",
			want: []string{`cache.ttl: "-1h" in FILE is negative`},
		},
		{
			name: "count written as a string",
			file: "[outbox]\nmax_records = \"5000\"\n",
			want: []string{`outbox.max_records: "5000" in FILE must be an integer without quotes (e.g. max_records = 100000)`},
		},
		{
			name: "negative count",
			file: "[outbox]\nmax_records = -1\n",
			want: []string{`outbox.max_records: -1 in FILE is negative`},
		},
		{
			name: "bad counts from env",
			env:  map[string]string{"KSN_OUTBOX_MAX_RECORDS": "lots"},
			want: []string{`outbox.max_records: "lots" from env KSN_OUTBOX_MAX_RECORDS is not a whole number`},
		},
		{
			name: "huge count from env",
			env:  map[string]string{"KSN_OUTBOX_MAX_RECORDS": "99999999999999999999999"},
			want: []string{`from env KSN_OUTBOX_MAX_RECORDS is too large`},
		},
		{
			name: "credentials in the endpoint are refused and not echoed",
			env:  map[string]string{"KSN_ENDPOINT": "https://alice:hunter2@ksn.example.org"},
			want: []string{`endpoint: "https://REDACTED@ksn.example.org" from env KSN_ENDPOINT contains credentials`, "leak"},
			not:  []string{"hunter2", "alice"},
		},
		{
			name: "ftp proxy in file",
			file: "proxy = \"ftp://proxy.example.org\"\n",
			want: []string{`proxy: "ftp://proxy.example.org" in FILE must start with https:// or http://`},
		},
		{
			name: "endpoint is a table",
			file: "[endpoint]\nurl = \"https://x.org\"\n",
			want: []string{`endpoint: a table in FILE must be a quoted string`},
		},
		{
			name: "unknown keys are named",
			file: "timout = \"5s\"\n[outbox]\nmaxrecords = 5\n[extra]\nx = 1\n",
			want: []string{"FILE: unknown keys extra, outbox.maxrecords, timout (known: endpoint, timeout,"},
		},
		{
			name: "a quoted dotted key is not the table key",
			file: "\"outbox.max_records\" = 5\n",
			want: []string{`unknown key "outbox.max_records"`},
		},
		{
			name: "a table where a value belongs",
			file: "outbox = 5\n",
			want: []string{"unknown key outbox "},
		},
		{
			name: "not TOML",
			file: "timeout = \n",
			want: []string{"FILE is not valid TOML", "line 1"},
		},
		{
			name: "every problem is reported",
			file: "timeout = \"ten\"\nbogus = 1\n",
			env:  map[string]string{"KSN_CACHE_TTL": "5x"},
			want: []string{"unknown key bogus", `timeout: "ten" in FILE`, `cache.ttl: "5x" from env KSN_CACHE_TTL has an unknown unit "x"`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := testPaths(t)
			file := filepath.Join(p.Config, "config.toml")
			if c.file != "" {
				writeConfig(t, p, c.file)
			}
			s, err := LoadSettings(p, mapEnv(c.env))
			if err == nil {
				t.Fatalf("no error; settings %+v", s.List())
			}
			if s != nil {
				t.Error("settings returned with an error")
			}
			for _, w := range c.want {
				w = strings.ReplaceAll(w, "FILE", file)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q contains %q", err, n)
				}
			}
		})
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	p := testPaths(t)
	// A directory where the file should be: not "missing", so not defaults.
	if err := os.MkdirAll(filepath.Join(p.Config, "config.toml"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSettings(p, mapEnv(nil)); err == nil {
		t.Error("no error for an unreadable config file")
	}
	if _, err := LoadSettings(Paths{}, mapEnv(nil)); err == nil {
		t.Error("no error without a config directory")
	}
}
