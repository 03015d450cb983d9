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
)

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
			if err := SetSetting(p, "outbox.max_records", fmt.Sprint(i+1)); err != nil {
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
