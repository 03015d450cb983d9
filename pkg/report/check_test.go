package report

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/check"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/term"
)

func item(path string, rep reputation.Result, err error) check.Item {
	it := check.Item{Reputation: rep}
	it.Path, it.Size, it.Err = path, 1, err
	if err == nil {
		it.Digests = map[check.Algorithm][]byte{check.SHA256: make([]byte, 32), check.BLAKE3: make([]byte, 32)}
	}
	return it
}

// TestChecks: each form of a result (text, JSON, checksum lines, quiet),
// with hostile names escaped in every form meant for a terminal.
func TestChecks(t *testing.T) {
	bad := reputation.Result{Verdict: reputation.Malicious, ThreatName: "Evil\x1b[2J", Sources: []string{"local"}}
	clean := reputation.Result{Verdict: reputation.Clean}
	skipped := &checksum.SkipError{Reason: checksum.SkipFIFO}
	zeros := strings.Repeat("0", 64)
	cases := []struct {
		name        string
		o           CheckOptions
		item        check.Item
		out, errOut string // substrings; "" for empty
		notOut      string
	}{
		{"malicious", CheckOptions{}, item("a\x1b]0;x\a.exe", bad, nil),
			`MALICIOUS  a\x1b]0;x\a.exe  Evil\x1b[2J  (local)` + "\n", "", ""},
		{"clean", CheckOptions{}, item("ok.txt", clean, nil), "CLEAN      ok.txt\n", "", ""},
		{"skipped", CheckOptions{}, item("fifo", reputation.Result{}, skipped), "SKIPPED    fifo  named pipe\n", "", ""},
		{"error", CheckOptions{}, item("gone", reputation.Result{}, errors.New("no such file\r")), `ERROR      gone  no such file\r` + "\n", "", ""},
		{"quiet hides clean", CheckOptions{Quiet: true, FailOn: reputation.Malicious}, item("ok.txt", clean, nil), "", "", "ok.txt"},
		{"quiet hides errors", CheckOptions{Quiet: true, FailOn: reputation.Malicious}, item("gone", reputation.Result{}, errors.New("x")), "", "", "gone"},
		{"quiet keeps threats", CheckOptions{Quiet: true, FailOn: reputation.Malicious}, item("bad", bad, nil), "MALICIOUS  bad", "", ""},
		{"json", CheckOptions{JSON: true}, item("a\nb", bad, nil), `"path":"a\nb","status":"ok"`, "", "MALICIOUS"},
		{"json error", CheckOptions{JSON: true}, item("gone", reputation.Result{}, errors.New("denied")), `"status":"error"`, "", ""},
		{"sha256sum", CheckOptions{Format: "sha256sum", FailOn: reputation.Malicious}, item("ok.txt", clean, nil), zeros + "  ok.txt\n", "", ""},
		{"sha256sum escapes", CheckOptions{Format: "sha256sum", FailOn: reputation.Malicious}, item(`a\b`, clean, nil), `\` + zeros + `  a\\b` + "\n", "", ""},
		{"sha256sum warns of a threat", CheckOptions{Format: "sha256sum", FailOn: reputation.Malicious}, item("x\x07", bad, nil),
			zeros + "  x\x07\n", `ksn: warning: x\a: malicious Evil\x1b[2J`, ""},
		{"sha256sum skipped", CheckOptions{Format: "sha256sum", FailOn: reputation.Malicious}, item("fifo", reputation.Result{}, skipped),
			"", "ksn: fifo: skipped: named pipe\n", "fifo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, errOut := term.Test()
			r := NewChecks(ios, c.o, nil)
			if err := r.Batch([]check.Item{c.item}); err != nil {
				t.Fatal(err)
			}
			if c.out == "" && out.Len() > 0 || !strings.Contains(out.String(), c.out) {
				t.Errorf("out %q, want %q", out, c.out)
			}
			if c.notOut != "" && strings.Contains(out.String(), c.notOut) {
				t.Errorf("out %q holds %q", out, c.notOut)
			}
			if c.errOut == "" && errOut.Len() > 0 || !strings.Contains(errOut.String(), c.errOut) {
				t.Errorf("errOut %q, want %q", errOut, c.errOut)
			}
		})
	}
}

// TestChecksFinish: the summary line and the exit, a threat before an
// unreadable input.
func TestChecksFinish(t *testing.T) {
	cases := []struct {
		name string
		o    CheckOptions
		sum  check.Summary
		line string
		code exitcode.Code
	}{
		{"clean run", CheckOptions{}, check.Summary{Files: 2, Hashed: 2, Verdicts: map[reputation.Verdict]int{reputation.Clean: 2}},
			"2 files, 0 malicious, 2 clean · 2 hashed, 0 unchanged · 0 B in ", exitcode.OK},
		{"threat and unreadable", CheckOptions{}, check.Summary{Files: 3, Threats: 1, Failed: 1, Verdicts: map[reputation.Verdict]int{reputation.Malicious: 1}},
			"3 files, 1 malicious, 1 unreadable · 0 hashed", exitcode.Threat},
		{"one unreadable", CheckOptions{}, check.Summary{Files: 1, Failed: 1}, "1 file, 0 malicious, 1 unreadable", exitcode.Usage},
		{"a directory without -r", CheckOptions{}, check.Summary{Files: 1, Failed: 1, Directories: 1}, "0 files, 0 malicious, 1 directory not read (use -r)", exitcode.Usage},
		{"json has no summary", CheckOptions{JSON: true}, check.Summary{Files: 1}, "", exitcode.OK},
		{"checksum lines have no summary", CheckOptions{Format: "b3sum"}, check.Summary{Files: 1, Threats: 1}, "", exitcode.Threat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, _ := term.Test()
			err := NewChecks(ios, c.o, nil).Finish(c.sum, nil)
			if exitcode.Of(err) != c.code {
				t.Errorf("exit %v (%v), want %v", exitcode.Of(err), err, c.code)
			}
			if c.line == "" && out.Len() > 0 || !strings.Contains(out.String(), c.line) {
				t.Errorf("out %q, want %q", out, c.line)
			}
		})
	}
}

// TestChecksEnd: a threat or an unreadable input decides the exit before
// the network's failure, which is still mentioned; a run that stopped
// exits with its error unless a threat was found.
func TestChecksEnd(t *testing.T) {
	netErr := &exitcode.Error{Code: exitcode.Offline, Err: errors.New("network verdicts unavailable")}
	stop := errors.New("reading the list: too long")
	cases := []struct {
		name   string
		end    func(r *Checks) error
		code   exitcode.Code
		errOut string
	}{
		{"network failure", func(r *Checks) error { return r.Finish(check.Summary{Files: 1}, netErr) }, exitcode.Offline, ""},
		{"threat over network failure", func(r *Checks) error { return r.Finish(check.Summary{Files: 1, Threats: 1, Unanswered: 1}, netErr) },
			exitcode.Threat, "ksn: warning: network verdicts unavailable; 1 file had no network verdict (--json marks them \"unanswered\")\n"},
		{"stopped", func(r *Checks) error { return r.Stopped(check.Summary{Files: 1, Failed: 1}, stop) }, exitcode.Usage, ""},
		{"stopped with its own code", func(r *Checks) error { return r.Stopped(check.Summary{}, netErr) }, exitcode.Offline, ""},
		{"stopped after a threat", func(r *Checks) error { return r.Stopped(check.Summary{Files: 1, Threats: 1}, stop) },
			exitcode.Threat, "ksn: reading the list: too long\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, errOut := term.Test()
			err := c.end(NewChecks(ios, CheckOptions{}, nil))
			if exitcode.Of(err) != c.code || errOut.String() != c.errOut {
				t.Errorf("exit %v (%v), errOut %q; want %v, %q", exitcode.Of(err), err, errOut, c.code, c.errOut)
			}
			if !strings.Contains(out.String(), "hashed") {
				t.Errorf("no summary: %q", out)
			}
		})
	}
}

// TestPrevalenceShown: how many participants reported a file is shown in
// text and JSON, also when the network has no verdict on it.
func TestPrevalenceShown(t *testing.T) {
	localUnknown := reputation.Answer{Source: "local", Trust: reputation.TrustLocal, Result: reputation.Result{Verdict: reputation.Unknown}}
	net := func(r reputation.Result) reputation.Answer {
		return reputation.Answer{Source: "network", Trust: reputation.TrustNetwork, Result: r}
	}
	unknown := reputation.Combine([]reputation.Answer{localUnknown, net(reputation.Result{Verdict: reputation.Unknown, Prevalence: 3})})
	if unknown.Prevalence != 3 || unknown.Verdict != reputation.Unknown || len(unknown.Sources) != 0 {
		t.Fatalf("combined unknown %+v", unknown)
	}
	bad := reputation.Combine([]reputation.Answer{localUnknown, net(reputation.Result{Verdict: reputation.Malicious, ThreatName: "X", Prevalence: 1})})
	for _, c := range []struct {
		rep       reputation.Result
		json      bool
		want, not string
	}{
		{unknown, false, "UNKNOWN    f.bin  · seen by 3 participants\n", ""},
		{bad, false, "MALICIOUS  f.bin  X  (network)  · seen by 1 participant\n", ""},
		{reputation.Result{Verdict: reputation.Unknown}, false, "UNKNOWN    f.bin\n", "seen by"},
		{unknown, true, `"prevalence":3,`, ""},
		{reputation.Result{Verdict: reputation.Unknown}, true, `"verdict":"unknown"`, "prevalence"},
	} {
		ios, _, out, _ := term.Test()
		r := NewChecks(ios, CheckOptions{JSON: c.json, FailOn: reputation.Malicious}, nil)
		if err := r.Batch([]check.Item{item("f.bin", c.rep, nil)}); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if !strings.Contains(got, c.want) || c.not != "" && strings.Contains(got, c.not) {
			t.Errorf("output %q, want %q (and not %q)", got, c.want, c.not)
		}
	}
}

// TestDisagreementNoted: a lower network answer is shown under the
// result, its threat name escaped.
func TestDisagreementNoted(t *testing.T) {
	ios, _, out, _ := term.Test()
	rep := reputation.Result{Verdict: reputation.Malicious, Sources: []string{"local"},
		Disagreements: []reputation.Disagreement{{Source: "network", Verdict: reputation.Clean, ThreatName: "ok\x1b"}}}
	if err := NewChecks(ios, CheckOptions{}, nil).Batch([]check.Item{item("f", rep, nil)}); err != nil {
		t.Fatal(err)
	}
	if want := `  note: network says clean (ok\x1b): a network answer never lowers a verdict` + "\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("got %q, want it to end in %q", out, want)
	}
}

func TestCheckProgress(t *testing.T) {
	cases := []struct {
		name                   string
		files, read, unchanged int64
		elapsed                time.Duration
		want                   string
	}{
		{"one large file, half read", 0, 512 << 20, 0, 2 * time.Second, "checking: 0 files, 512.0 MiB, 256.0 MiB/s"},
		{"with unchanged files", 30, 1 << 20, 20, time.Second, "checking: 30 files, 1.0 MiB, 1.0 MiB/s, 20 unchanged"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &check.Progress{}
			p.Files.Store(tc.files)
			p.Bytes.Store(tc.read)
			p.Unchanged.Store(tc.unchanged)
			if got := CheckProgress(p, tc.elapsed); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckProgressETA: with named files the total is known, and the line
// says how long is left.
func TestCheckProgressETA(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	counts := &check.Progress{}
	_, err := check.Run(context.Background(), check.Options{Inputs: check.Args([]string{p}), Progress: counts},
		check.Config{Sources: []reputation.Source{unknownSource{}}, Sink: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := CheckProgress(counts, time.Second); !strings.HasSuffix(got, ", about 1s left") {
		t.Errorf("got %q, want an ETA", got)
	}
}

func TestETAText(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1s", 1400 * time.Millisecond: "1s", 59 * time.Second: "59s", 90 * time.Second: term.Duration(90 * time.Second)} {
		if got := etaText(d); got != want {
			t.Errorf("etaText(%v) = %q, want %q", d, got, want)
		}
	}
}

// unknownSource knows nothing.
type unknownSource struct{}

func (unknownSource) Name() string            { return "none" }
func (unknownSource) Trust() reputation.Trust { return reputation.TrustLocal }
func (unknownSource) LookupFiles(_ context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	return make([]reputation.Answer, len(files)), nil
}
func (unknownSource) LookupLinks(_ context.Context, links []reputation.LinkQuery) ([]reputation.Answer, error) {
	return make([]reputation.Answer, len(links)), nil
}

type discard struct{}

func (discard) Batch([]check.Item) error { return nil }
