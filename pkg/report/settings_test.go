package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/buildinfo"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/term"
)

func TestSettings(t *testing.T) {
	values := []config.Value{
		{Key: config.Key{Name: "endpoint", Default: ""}, Value: "https://ksn.example", Source: "file"},
		{Key: config.Key{Name: "timeout", Default: "10s"}, Value: "5s\x1b", Source: "env KSN_TIMEOUT"},
	}
	ios, _, out, _ := term.Test()
	if err := Settings(ios, values, false); err != nil {
		t.Fatal(err)
	}
	want := `endpoint             "https://ksn.example"        file` + "\n" + `timeout              "5s\x1b"                     env KSN_TIMEOUT` + "\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
	out.Reset()
	if err := Settings(ios, values, true); err != nil {
		t.Fatal(err)
	}
	want = `[{"key":"endpoint","value":"https://ksn.example","source":"file","default":""},{"key":"timeout","value":"5s\u001b","source":"env KSN_TIMEOUT","default":"10s"}]` + "\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out, want)
	}
}

func TestVersion(t *testing.T) {
	var w bytes.Buffer
	v := buildinfo.Info{Version: "1.2.3", Go: "go1.24", Platform: "linux/amd64", Revision: "abc", Modified: true}
	_ = Version(&w, v, false)
	if !strings.HasPrefix(w.String(), "ksn 1.2.3") || !strings.HasSuffix(w.String(), "\nrevision abc (with local changes)\n") {
		t.Errorf("got %q", w.String())
	}
	w.Reset()
	v.Revision = ""
	_ = Version(&w, v, false)
	if strings.Contains(w.String(), "revision") || strings.Count(w.String(), "\n") != 1 {
		t.Errorf("got %q", w.String())
	}
}
