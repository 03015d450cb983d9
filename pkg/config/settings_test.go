package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
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

func TestKeysTable(t *testing.T) {
	want := []string{"endpoint", "timeout", "proxy", "cache.ttl", "outbox.max_records", "outbox.max_age"}
	if len(Keys) != len(want) {
		t.Fatalf("%d keys, want %d", len(Keys), len(want))
	}
	envs := map[string]string{}
	for i, k := range Keys {
		if k.Name != want[i] {
			t.Errorf("Keys[%d] = %s, want %s", i, k.Name, want[i])
		}
		if k.Help == "" || strings.Contains(k.Help, "\n") {
			t.Errorf("%s: help must be one non-empty line: %q", k.Name, k.Help)
		}
		// `ksn config list` prints the default next to the value; they
		// must look the same when nothing is configured.
		v, err := k.parse(k.Default)
		if err != nil || v.text != k.Default {
			t.Errorf("%s: default %q normalises to %q, %v", k.Name, k.Default, v.text, err)
		}
		if got, ok := LookupKey(k.Name); !ok || got != k {
			t.Errorf("LookupKey(%s) = %+v, %v", k.Name, got, ok)
		}
		e := EnvName(k.Name)
		if other, dup := envs[e]; dup {
			t.Errorf("%s and %s share %s", k.Name, other, e)
		}
		envs[e] = k.Name
		// These variables mean something else to ksn.
		if e == "KSN_HOME" || e == "KSN_PARTICIPATION" {
			t.Errorf("%s collides with %s", k.Name, e)
		}
	}
	if _, ok := LookupKey("outbox"); ok {
		t.Error("LookupKey(outbox) found a table")
	}
}

func TestEnvName(t *testing.T) {
	for name, want := range map[string]string{
		"endpoint":           "KSN_ENDPOINT",
		"timeout":            "KSN_TIMEOUT",
		"cache.ttl":          "KSN_CACHE_TTL",
		"outbox.max_records": "KSN_OUTBOX_MAX_RECORDS",
		"outbox.max_age":     "KSN_OUTBOX_MAX_AGE",
	} {
		if got := EnvName(name); got != want {
			t.Errorf("EnvName(%s) = %s, want %s", name, got, want)
		}
	}
}

func TestDefaults(t *testing.T) {
	p := testPaths(t)
	s := mustLoad(t, p, nil)
	if s.File() != filepath.Join(p.Config, "config.toml") {
		t.Errorf("File() = %s", s.File())
	}
	list := s.List()
	if len(list) != len(Keys) {
		t.Fatalf("List has %d values", len(list))
	}
	for i, v := range list {
		if v.Key != Keys[i] || v.Value != Keys[i].Default || v.Source != "default" {
			t.Errorf("List()[%d] = %+v", i, v)
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
	writeConfig(t, p, "timeout = \"1d12h\"\n[outbox]\nmax_records = 0\n")
	s := mustLoad(t, p, map[string]string{"KSN_OUTBOX_MAX_AGE": "1.5h"})
	if d := s.Duration("timeout"); d != 36*time.Hour {
		t.Errorf("timeout = %v", d)
	}
	if d := s.Duration("outbox.max_age"); d != 90*time.Minute {
		t.Errorf("outbox.max_age = %v", d)
	}
	if n := s.Int("outbox.max_records"); n != 0 {
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

func TestGetUnknown(t *testing.T) {
	s := mustLoad(t, testPaths(t), nil)
	for name, hint := range map[string]string{
		"timout":      "did you mean timeout?",
		"max_records": "did you mean outbox.max_records?",
		"Endpoint":    "did you mean endpoint?",
		"colour":      "",
	} {
		_, err := s.Get(name)
		if err == nil {
			t.Fatalf("Get(%s): no error", name)
		}
		msg := err.Error()
		if !strings.Contains(msg, fmt.Sprintf("%q", name)) || !strings.Contains(msg, "endpoint, timeout, proxy, cache.ttl, outbox.max_records, outbox.max_age") {
			t.Errorf("Get(%s): %v", name, err)
		}
		if hint != "" && !strings.Contains(msg, hint) {
			t.Errorf("Get(%s): %v lacks %q", name, err, hint)
		}
		if hint == "" && strings.Contains(msg, "did you mean") {
			t.Errorf("Get(%s): %v suggests something", name, err)
		}
	}
}

func TestSetUnsetRoundTrip(t *testing.T) {
	p := testPaths(t)
	// A hand-written file: a dotted key, and a key ksn does not know, which
	// set must keep (it is the user's to fix, and load reports it).
	writeConfig(t, p, "cache.ttl = \"1h\"\n")
	steps := []struct {
		set, unset string
		value      string
		want       map[string]string // the file's settings after the step
	}{
		{set: "endpoint", value: "https://ksn.example.org/", want: map[string]string{"cache.ttl": "1h", "endpoint": "https://ksn.example.org"}},
		{set: "outbox.max_records", value: "5000", want: map[string]string{"cache.ttl": "1h", "endpoint": "https://ksn.example.org", "outbox.max_records": "5000"}},
		{set: "timeout", value: "90s", want: map[string]string{"cache.ttl": "1h", "endpoint": "https://ksn.example.org", "outbox.max_records": "5000", "timeout": "1m30s"}},
		{set: "outbox.max_age", value: "2d", want: map[string]string{"cache.ttl": "1h", "endpoint": "https://ksn.example.org", "outbox.max_records": "5000", "timeout": "1m30s", "outbox.max_age": "2d"}},
		{set: "timeout", value: "1m", want: map[string]string{"cache.ttl": "1h", "endpoint": "https://ksn.example.org", "outbox.max_records": "5000", "timeout": "1m", "outbox.max_age": "2d"}},
		{unset: "timeout", want: map[string]string{"cache.ttl": "1h", "endpoint": "https://ksn.example.org", "outbox.max_records": "5000", "outbox.max_age": "2d"}},
		{unset: "timeout", want: map[string]string{"cache.ttl": "1h", "endpoint": "https://ksn.example.org", "outbox.max_records": "5000", "outbox.max_age": "2d"}},
		{unset: "outbox.max_records", want: map[string]string{"cache.ttl": "1h", "endpoint": "https://ksn.example.org", "outbox.max_age": "2d"}},
		{unset: "outbox.max_age", want: map[string]string{"cache.ttl": "1h", "endpoint": "https://ksn.example.org"}},
		{set: "endpoint", value: "", want: map[string]string{"cache.ttl": "1h", "endpoint": ""}},
		{unset: "endpoint", want: map[string]string{"cache.ttl": "1h"}},
		{unset: "cache.ttl", want: map[string]string{}},
	}
	for i, st := range steps {
		var err error
		if st.set != "" {
			err = SetSetting(p, st.set, st.value)
		} else {
			err = UnsetSetting(p, st.unset)
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		s := mustLoad(t, p, nil)
		for _, v := range s.List() {
			w, inFile := st.want[v.Key.Name]
			if !inFile {
				w = v.Key.Default
			}
			if v.Value != w || (v.Source == "file") != inFile {
				t.Errorf("step %d: %s = %q from %s, want %q (in file: %v)", i, v.Key.Name, v.Value, v.Source, w, inFile)
			}
		}
	}
	text := readConfig(t, p)
	if strings.Contains(text, "[outbox]") || strings.Contains(text, "[cache]") {
		t.Errorf("empty tables left behind:\n%s", text)
	}
}

func TestFileFormat(t *testing.T) {
	p := testPaths(t)
	for _, kv := range [][2]string{
		{"endpoint", "https://ksn.example.org"},
		{"timeout", "30s"},
		{"outbox.max_records", "5000"},
		{"outbox.max_age", "30d"},
	} {
		if err := SetSetting(p, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	text := readConfig(t, p)
	for _, line := range []string{
		"\nendpoint = \"https://ksn.example.org\"\n",
		"\ntimeout = \"30s\"\n",
		"\n[outbox]\n",
		"\nmax_records = 5000\n", // an integer, not a string
		"\nmax_age = \"30d\"\n",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("file lacks %q:\n%s", line, text)
		}
	}
	if !strings.HasPrefix(text, "# ") {
		t.Errorf("no header comment:\n%s", text)
	}
}

func TestSetKeepsUnknownKeys(t *testing.T) {
	p := testPaths(t)
	writeConfig(t, p, "timout = \"5s\"\n[outbox]\nmaxrecords = 5\n")
	if err := SetSetting(p, "timeout", "5s"); err != nil {
		t.Fatal(err)
	}
	text := readConfig(t, p)
	if !strings.Contains(text, "timout = \"5s\"") || !strings.Contains(text, "maxrecords = 5") {
		t.Errorf("set dropped keys it does not know:\n%s", text)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	t.Run("new directory and file", func(t *testing.T) {
		p := testPaths(t)
		p.Config = filepath.Join(p.Config, "nested", "ksn")
		if err := SetSetting(p, "timeout", "5s"); err != nil {
			t.Fatal(err)
		}
		checkMode(t, p.Config, 0o700|fs.ModeDir)
		checkMode(t, filepath.Join(p.Config, "config.toml"), 0o600)
	})
	t.Run("an open file is tightened", func(t *testing.T) {
		p := testPaths(t)
		file := writeConfig(t, p, "timeout = \"5s\"\n")
		if err := os.Chmod(file, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := UnsetSetting(p, "timeout"); err != nil {
			t.Fatal(err)
		}
		checkMode(t, file, 0o600)
	})
	t.Run("no temporary files left", func(t *testing.T) {
		p := testPaths(t)
		for i := range 3 {
			if err := SetSetting(p, "outbox.max_records", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		entries, err := os.ReadDir(p.Config)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != "config.toml" {
			t.Errorf("config dir holds %v", entries)
		}
	})
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (fs.ModePerm | fs.ModeDir); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}

func TestSetInvalidLeavesFileUnchanged(t *testing.T) {
	const original = "# my settings\ntimeout = \"30s\"\n"
	cases := []struct{ name, value, want string }{
		{"timeout", "ten", `timeout: "ten" is not a duration`},
		{"timeout", "0", `timeout: "0" must be more than 0`},
		{"timeout", "-5s", "negative"},
		{"timeout", "30", `timeout: "30" has no unit (e.g. 30s`},
		{"cache.ttl", "", `cache.ttl: "" is not a duration`},
		{"outbox.max_records", "1e5", "is not a whole number"},
		{"outbox.max_records", "-1", "is negative"},
		{"endpoint", "ftp://x.org", "https://"},
		{"endpoint", "https://u:p@x.org", "credentials"},
		{"proxy", "http://u:p@proxy:3128", "HTTPS_PROXY"},
		{"timeot", "5s", `unknown setting "timeot" (did you mean timeout?); known settings: endpoint, timeout,`},
		{"outbox", "5", "unknown setting"},
	}
	for _, c := range cases {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			p := testPaths(t)
			file := writeConfig(t, p, original)
			err := SetSetting(p, c.name, c.value)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("SetSetting(%s, %q) = %v, want %q", c.name, c.value, err, c.want)
			}
			if text := readConfig(t, p); text != original {
				t.Errorf("file changed to %q", text)
			}
			// Nothing to write means nothing created either.
			q := testPaths(t)
			if err := SetSetting(q, c.name, c.value); err == nil {
				t.Fatal("no error the second time")
			}
			if _, err := os.Stat(q.Config); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("failed set created %s", q.Config)
			}
			_ = file
		})
	}
}

func TestSetRefusesToClobber(t *testing.T) {
	p := testPaths(t)
	const broken = "timeout = \n"
	writeConfig(t, p, broken)
	if err := SetSetting(p, "timeout", "5s"); err == nil || !strings.Contains(err.Error(), "not valid TOML") {
		t.Errorf("SetSetting on a broken file: %v", err)
	}
	if err := UnsetSetting(p, "timeout"); err == nil {
		t.Error("UnsetSetting on a broken file: no error")
	}
	if readConfig(t, p) != broken {
		t.Error("a file that did not parse was rewritten")
	}
	// A setting's table spelt as a value cannot be descended into.
	writeConfig(t, p, "outbox = 5\n")
	if err := SetSetting(p, "outbox.max_records", "5"); err == nil || !strings.Contains(err.Error(), "outbox is 5, not a table") {
		t.Errorf("SetSetting into a non-table: %v", err)
	}
}

func TestUnset(t *testing.T) {
	p := testPaths(t)
	if err := UnsetSetting(p, "timeout"); err != nil {
		t.Errorf("unset without a file: %v", err)
	}
	if _, err := os.Stat(p.Config); !errors.Is(err, fs.ErrNotExist) {
		t.Error("unset without a file created the config directory")
	}
	err := UnsetSetting(p, "timout")
	if err == nil || !strings.Contains(err.Error(), "did you mean timeout?") {
		t.Errorf("unset of an unknown key: %v", err)
	}
	// The environment still wins after an unset.
	if err := SetSetting(p, "timeout", "5s"); err != nil {
		t.Fatal(err)
	}
	if err := UnsetSetting(p, "timeout"); err != nil {
		t.Fatal(err)
	}
	v, _ := mustLoad(t, p, map[string]string{"KSN_TIMEOUT": "7s"}).Get("timeout")
	if v.Value != "7s" || v.Source != "env KSN_TIMEOUT" {
		t.Errorf("after unset: %+v", v)
	}
}

func TestSetThroughSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges")
	}
	p := testPaths(t)
	dotfiles := t.TempDir()
	real := filepath.Join(dotfiles, "ksn.toml")
	if err := os.WriteFile(real, []byte("timeout = \"5s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p.Config, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(p.Config, "config.toml")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := SetSetting(p, "cache.ttl", "1h"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
	s := mustLoad(t, p, nil)
	if s.String("timeout") != "5s" || s.String("cache.ttl") != "1h" {
		t.Errorf("through the link: %+v", s.List())
	}
}

// TestConcurrentSet runs writers and readers at once: a reader must never
// see a partial file, and each writer's own key must end up valid.
func TestConcurrentSet(t *testing.T) {
	p := testPaths(t)
	if err := SetSetting(p, "timeout", "1s"); err != nil {
		t.Fatal(err)
	}
	const rounds = 30
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for _, name := range []string{"timeout", "cache.ttl", "outbox.max_age"} {
		wg.Go(func() {
			for i := range rounds {
				if err := SetSetting(p, name, fmt.Sprintf("%ds", i+1)); err != nil {
					errs <- err
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := LoadSettings(p, mapEnv(nil)); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustLoad(t, p, nil)
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  string // substring; "" = must succeed
	}{
		{"90d", 90 * day, ""},
		{"1d12h", 36 * time.Hour, ""},
		{"1.5h", 90 * time.Minute, ""},
		{"1.5d", 36 * time.Hour, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"+5s", 5 * time.Second, ""},
		{"10s", 10 * time.Second, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"1us", time.Microsecond, ""},
		{"1µs", time.Microsecond, ""},
		{"1μs", time.Microsecond, ""},
		{"3ns", 3, ""},
		{".5s", 500 * time.Millisecond, ""},
		{"5.s", 5 * time.Second, ""},
		{"106751d23h47m16.854775807s", 1<<63 - 1, ""},
		{"-1s", 0, "negative"},
		{"-0", 0, "negative"},
		{"", 0, `"" is not a duration (e.g. 30s, 5m, 2h, 90d)`},
		{"d", 0, `"d" is not a duration`},
		{"5x", 0, `"5x" has an unknown unit "x"`},
		{"5D", 0, `unknown unit "D"`},
		{"30", 0, `"30" has no unit (e.g. 30s`},
		{"ten", 0, "is not a duration"},
		{"1d 12h", 0, "unknown unit"},
		{" 5s", 0, "is not a duration"},
		{".", 0, "is not a duration"},
		{"+", 0, "is not a duration"},
		{"1..5h", 0, "is not a duration"},
		{"106752d", 0, "too long"},
		{"9223372036854775808ns", 0, "too long"},
		{"99999999999999999999s", 0, "too long"},
		{"106751d23h47m16.854775808s", 0, "too long"},
	}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseDuration(%q) = %v, %v; want an error with %q", c.in, got, err, c.err)
		}
	}
}

// TestParseDurationMatchesGo checks that everything Go reads means the same
// here, so users can rely on Go's documentation.
func TestParseDurationMatchesGo(t *testing.T) {
	for _, s := range []string{"1h", "1.5h", "2h45m", "1.000000001s", "0.1ns", "1h1m1s1ms1us1ns", "300ms", "12.345678901234s", "7.5m"} {
		want, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; Go says %v", s, got, err, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{3, "3ns"},
		{1500 * time.Microsecond, "1.5ms"},
		{time.Second, "1s"},
		{10 * time.Second, "10s"},
		{1500 * time.Millisecond, "1.5s"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{time.Hour + time.Second, "1h1s"},
		{day, "24h"},
		{36 * time.Hour, "36h"},
		{47*time.Hour + 59*time.Minute, "47h59m"},
		{2 * day, "2d"},
		{90 * day, "90d"},
		{2*day + time.Nanosecond + time.Second, "2d1.000000001s"},
		{1<<63 - 1, "106751d23h47m16.854775807s"},
	}
	for _, c := range cases {
		got := formatDuration(c.d)
		if got != c.want {
			t.Errorf("formatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
		if back, err := ParseDuration(got); err != nil || back != c.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, c.d)
		}
	}
}

func TestURLValues(t *testing.T) {
	endpoint, _ := LookupKey("endpoint")
	proxy, _ := LookupKey("proxy")
	cases := []struct {
		key  Key
		in   string
		want string // normalised, when err is ""
		err  string
	}{
		{endpoint, "https://ksn.example.org", "https://ksn.example.org", ""},
		{endpoint, "  https://ksn.example.org/  ", "https://ksn.example.org", ""},
		{endpoint, "https://ksn.example.org/api//", "https://ksn.example.org/api", ""},
		{endpoint, "http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{endpoint, "http://[::1]:8080/", "http://[::1]:8080", ""},
		{endpoint, "", "", ""},
		{endpoint, "   ", "", ""},
		{endpoint, "/", "", ""},
		{proxy, "http://proxy.corp:3128", "http://proxy.corp:3128", ""},
		{endpoint, "https://user:secret@ksn.example.org", "", "credentials"},
		{endpoint, "https://token@ksn.example.org", "", "credentials"},
		{proxy, "http://user:secret@proxy:3128", "", "set HTTPS_PROXY instead"},
		{endpoint, "ftp://ksn.example.org", "", "must start with https:// or http://, not ftp://"},
		{endpoint, "file:///etc/passwd", "", "not file://"},
		{endpoint, "https://", "", "has no scheme"},
		{endpoint, "https:///path", "", "has no host"},
		{endpoint, "http://:8080", "", "has no host"},
		{endpoint, "http://127.0.0.1:99999", "", "has port 99999; a port is a number from 1 to 65535"},
		{endpoint, "http://127.0.0.1:0", "", "has port 0"},
		{endpoint, "http://host:", "", "has an empty port"},
		{endpoint, "http://[::1]:7415", "http://[::1]:7415", ""},
		{endpoint, "ksn.example.org", "", "has no scheme (e.g. https://ksn.example.org)"},
		{endpoint, "localhost:8080", "", "has no scheme"},
		{endpoint, "https://ksn.example.org/?key=1", "", "has a query"},
		{endpoint, "https://ksn.example.org?", "", "has a query"},
		{endpoint, "https://ksn.example.org/#top", "", "has a fragment"},
		{endpoint, "https://ksn example.org", "", "is not a URL"},
		{endpoint, "https://ksn.example.org:port", "", "is not a URL"},
	}
	for _, c := range cases {
		v, err := c.key.parse(c.in)
		if c.err == "" {
			if err != nil || v.text != c.want {
				t.Errorf("%s %q = %q, %v; want %q", c.key.Name, c.in, v.text, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s %q: error %v, want %q", c.key.Name, c.in, err, c.err)
			continue
		}
		if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "token@") {
			t.Errorf("%s %q: the error repeats the credential: %v", c.key.Name, c.in, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://a:b@host/x@y":    "https://REDACTED@host/x@y",
		"https://host/x@y":        "https://host/x@y",
		"user:pw@host":            "REDACTED@host",
		"https://a@b@host:1?q=@":  "https://REDACTED@host:1?q=@",
		"https://ksn.example.org": "https://ksn.example.org",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
