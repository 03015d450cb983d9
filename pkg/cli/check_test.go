package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/check"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
)

// fakeSource knows files by their SHA-256 and counts how often it is asked.
type fakeSource struct {
	verdicts map[string]reputation.Result // by hex SHA-256
	queries  int
}

func (s *fakeSource) Name() string            { return "fake" }
func (s *fakeSource) Trust() reputation.Trust { return reputation.TrustLocal }
func (s *fakeSource) LookupFiles(_ context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	s.queries++
	out := make([]reputation.Answer, len(files))
	for i, f := range files {
		r, ok := s.verdicts[f.Digests.Hex(check.SHA256)]
		if !ok {
			r = reputation.Result{Verdict: reputation.Unknown}
		}
		out[i] = reputation.Answer{Source: "fake", Trust: reputation.TrustLocal, Result: r}
	}
	return out, nil
}
func (s *fakeSource) LookupLinks(_ context.Context, links []reputation.LinkQuery) ([]reputation.Answer, error) {
	return make([]reputation.Answer, len(links)), nil
}

func local(s reputation.Source) func(context.Context) (Local, error) {
	return func(context.Context) (Local, error) { return Local{Source: s, Close: func() error { return nil }}, nil }
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// defaultAlgorithms is what --hash gives by default.
var defaultAlgorithms = []check.Algorithm{check.BLAKE3, check.SHA256}

func TestCheckFlags(t *testing.T) {
	cases := []struct {
		args    []string
		tty     bool // standard input is a terminal
		wantErr string
		check   func(*testing.T, *CheckOptions)
	}{
		{args: []string{"a"}, check: func(t *testing.T, o *CheckOptions) {
			if !slices.Equal(o.Algorithms, defaultAlgorithms) || o.FailOn != reputation.Malicious {
				t.Errorf("defaults: %v %v", o.Algorithms, o.FailOn)
			}
		}},
		{args: []string{"--format", "b3sum", "--hash", "sha256", "a"}, check: func(t *testing.T, o *CheckOptions) {
			if !slices.Equal(o.Algorithms, []check.Algorithm{check.BLAKE3, check.SHA256}) {
				t.Errorf("b3sum format must add blake3: %v", o.Algorithms)
			}
		}},
		{args: []string{"--fail-on", "suspicious", "-r", "--follow", "d"}, check: func(t *testing.T, o *CheckOptions) {
			if o.FailOn != reputation.Suspicious || !o.Recursive || !o.Follow {
				t.Errorf("got %+v", o)
			}
		}},
		{args: []string{"--files-from", "-", "-0"}, check: func(t *testing.T, o *CheckOptions) {
			if o.FilesFrom != "-" || !o.Null || len(o.Inputs) != 0 {
				t.Errorf("got %+v", o)
			}
		}},
		{args: []string{"--rehash", "--no-cache", "a"}, check: func(t *testing.T, o *CheckOptions) {
			if !o.Rehash || !o.NoCache || o.StatCache != "/k/cache/statcache" {
				t.Errorf("--rehash and --no-cache are two things: %+v", o)
			}
		}},
		{args: []string{}, tty: true, wantErr: "nothing to check"},
		{args: []string{}, check: func(t *testing.T, o *CheckOptions) {
			if !slices.Equal(o.Inputs, []string{"-"}) {
				t.Errorf("stdin not a terminal: inputs %q, want standard input", o.Inputs)
			}
		}},
		{args: []string{"--workers", "-1", "a"}, wantErr: "--workers: -1 is out of range"},
		{args: []string{"--workers", "100000", "a"}, wantErr: "--workers: 100000 is out of range"},
		{args: []string{"-q", "--format", "b3sum", "a"}, wantErr: "--quiet and --format"},
		{args: []string{"-0", "a"}, wantErr: "-0 only applies"},
		{args: []string{"--format", "md5sum", "a"}, wantErr: "unknown format"},
		{args: []string{"--format", "sha256sum", "--json", "a"}, wantErr: "cannot be used together"},
		{args: []string{"--fail-on", "unknown", "a"}, wantErr: "not a threat level"},
		{args: []string{"--hash", "crc32", "a"}, wantErr: "unknown hash"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			ios, _, _, _ := term.Test()
			ios.SetStdinTTY(c.tty)
			var got *CheckOptions
			env := func(k string) string { return map[string]string{"KSN_HOME": "/k"}[k] }
			cmd := NewCmdCheck(&Factory{IO: ios, Env: env}, func(o *CheckOptions) error { got = o; return nil })
			cmd.SetArgs(c.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || exitcode.Of(err) != exitcode.Usage {
					t.Fatalf("err = %v, want exit 2 with %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, got)
		})
	}
}

func TestRunCheckVerdictsAndExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad", "bad bytes")
	pua := write("pua", "adware")
	good := write("good", "fine")
	db := &fakeSource{verdicts: map[string]reputation.Result{
		sha256Hex([]byte("bad bytes")): {Verdict: reputation.Malicious, ThreatName: "Trojan.X", Sources: []string{"feed"}},
		sha256Hex([]byte("adware")):    {Verdict: reputation.Suspicious, ThreatName: "PUA.Y", Sources: []string{"feed"}},
	}}
	cases := []struct {
		name   string
		inputs []string
		failOn reputation.Verdict
		want   exitcode.Code
		out    []string
	}{
		{"clean run", []string{good}, reputation.Malicious, exitcode.OK, []string{"UNKNOWN", "1 file, 0 malicious, 1 unknown"}},
		{"threat", []string{good, bad}, reputation.Malicious, exitcode.Threat, []string{"MALICIOUS  " + bad + "  Trojan.X  (feed)"}},
		{"suspicious below the bar", []string{pua}, reputation.Malicious, exitcode.OK, []string{"SUSPICIOUS " + pua}},
		{"suspicious at the bar", []string{pua}, reputation.Suspicious, exitcode.Threat, nil},
		{"threat beats unreadable", []string{filepath.Join(dir, "nope"), bad}, reputation.Malicious, exitcode.Threat, []string{"ERROR", "1 unreadable"}},
		{"unreadable alone", []string{filepath.Join(dir, "nope")}, reputation.Malicious, exitcode.Usage, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, _ := term.Test()
			opts := &CheckOptions{IO: ios, Inputs: c.inputs, Algorithms: defaultAlgorithms, FailOn: c.failOn, OpenLocal: local(db)}
			err := runCheck(context.Background(), opts)
			if got := exitcode.Of(err); got != c.want {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, c.want, out)
			}
			for _, s := range c.out {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestRunCheckBatchesLookups(t *testing.T) {
	dir := t.TempDir()
	var inputs []string
	for i := range 1500 {
		p := filepath.Join(dir, fmt.Sprintf("f%04d", i))
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
	}
	db := &fakeSource{}
	ios, _, out, _ := term.Test()
	opts := &CheckOptions{IO: ios, Inputs: inputs, Algorithms: defaultAlgorithms, FailOn: reputation.Malicious, Flags: check.Flags{JSON: true}, OpenLocal: local(db)}
	if err := runCheck(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != len(inputs) {
		t.Fatalf("%d lines for %d inputs", n, len(inputs))
	}
	if db.queries >= len(inputs)/2 {
		t.Fatalf("%d lookups for %d files: lookups are not batched", db.queries, len(inputs))
	}
}

func TestRunCheckDatabaseUnavailable(t *testing.T) {
	ios, _, _, _ := term.Test()
	opts := &CheckOptions{IO: ios, Inputs: []string{"x"}, FailOn: reputation.Malicious,
		OpenLocal: func(context.Context) (Local, error) { return Local{}, errors.New("disk on fire") }}
	err := runCheck(context.Background(), opts)
	var e *exitcode.Error
	if !errors.As(err, &e) || e.Code != exitcode.Usage || e.Hint == "" || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %#v", err)
	}
}
