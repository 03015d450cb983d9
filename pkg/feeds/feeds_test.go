package feeds

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ksnproject/ksn/pkg/reputation"
)

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"auto": Auto, "malwarebazaar": MalwareBazaar, "clamav-hdb": ClamAVHDB,
		"clamav-hsb": ClamAVHSB, "known-good": KnownGood, " Known-Good ": KnownGood, "CLAMAV-HSB": ClamAVHSB,
	} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "hdb", "csv", "malware-bazaar", "auto,hdb"} {
		_, err := ParseFormat(in)
		if err == nil {
			t.Errorf("ParseFormat(%q) succeeded", in)
			continue
		}
		for _, f := range append([]Format{Auto}, Formats...) {
			if !strings.Contains(err.Error(), string(f)) {
				t.Errorf("ParseFormat(%q) error %q does not list %q", in, err, f)
			}
		}
	}
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("Formats entry %q does not round-trip: %q, %v", f, got, err)
		}
	}
}

func TestLineError(t *testing.T) {
	e := LineError{Line: 12, Err: fmt.Errorf("%w: 31 hex characters", errDigestLength)}
	if got, want := e.Error(), "line 12: digest has the wrong length: 31 hex characters"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, errDigestLength) {
		t.Error("errors.Is does not see through LineError")
	}
	var le LineError
	if !errors.As(fmt.Errorf("import: %w", e), &le) || le.Line != 12 {
		t.Error("errors.As does not find a wrapped LineError")
	}
}

func TestParseCountsAndReportsFirstErrors(t *testing.T) {
	const good = "dbaf48c029d25df8ce6ea8d289d36f65e47a876d1b9006ecb134e947538bef84"
	lines := []string{
		"# header", // 1
		good,       // 2
		"bad-1",    // 3
		"",         // 4
		"bad-2",    // 5
		good,       // 6
		"bad-3",    // 7
		"bad-4",    // 8
		"# note",   // 9
		"bad-5",    // 10
		"bad-6",    // 11
		good,       // 12
		"bad-7",    // 13
	}
	in := strings.Join(lines, "\n") + "\n"
	_, sum, err := parseString(t, in, KnownGood)
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, sum, []byte(in))
	if sum.Lines != 13 || sum.Indicators != 3 || sum.Malformed != 7 {
		t.Errorf("lines/indicators/malformed = %d/%d/%d, want 13/3/7", sum.Lines, sum.Indicators, sum.Malformed)
	}
	var got []int
	for _, e := range sum.Errors {
		got = append(got, e.Line)
	}
	if fmt.Sprint(got) != "[3 5 7 8 10]" {
		t.Errorf("reported lines %v, want [3 5 7 8 10]", got)
	}
	if !strings.HasPrefix(sum.Errors[0].Error(), `line 3: digest is not hexadecimal: "bad-1"`) {
		t.Errorf("first error reads %q", sum.Errors[0])
	}
}

func TestParseStopsOnEmitError(t *testing.T) {
	in := "# x\n" +
		"1c3b079e323cf1202d445af8a0906618\n" +
		"nope\n" +
		"38726cb0eed748a8e2521962a0a564150522766f\n" +
		"dbaf48c029d25df8ce6ea8d289d36f65e47a876d1b9006ecb134e947538bef84\n"
	stop := errors.New("database is full")
	calls := 0
	sum, err := Parse(strings.NewReader(in), KnownGood, func(reputation.FileIndicator) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("Parse returned %v, want the emit error unchanged", err)
	}
	if calls != 2 || sum.Indicators != 1 || sum.Lines != 4 || sum.Malformed != 1 {
		t.Errorf("calls=%d indicators=%d lines=%d malformed=%d, want 2/1/4/1", calls, sum.Indicators, sum.Lines, sum.Malformed)
	}
}

func TestParseNilEmitCounts(t *testing.T) {
	sum, err := Parse(strings.NewReader("1c3b079e323cf1202d445af8a0906618\nx\n"), KnownGood, nil)
	if err != nil || sum.Indicators != 1 || sum.Malformed != 1 || sum.Lines != 2 {
		t.Errorf("got %+v, %v", sum, err)
	}
}

func TestParseReturnsReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("1c3b079e323cf1202d445af8a0906618\n"), iotest.ErrReader(boom))
	sum, err := Parse(r, KnownGood, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("Parse error = %v, want it to wrap %v", err, boom)
	}
	if sum.Indicators != 1 || sum.Lines != 1 {
		t.Errorf("summary %+v, want the line before the failure counted", sum)
	}
	// One byte at a time exercises the line reader's buffering.
	sum, err = Parse(iotest.OneByteReader(strings.NewReader("# a\r\n1c3b079e323cf1202d445af8a0906618\r\n\r\nx")), KnownGood, nil)
	if err != nil || sum.Lines != 4 || sum.Indicators != 1 || sum.Malformed != 1 {
		t.Errorf("one-byte reads: %+v, %v", sum, err)
	}
}

func TestParseRejectsWrongFormats(t *testing.T) {
	for _, f := range []Format{Auto, "", "csv"} {
		if _, err := Parse(strings.NewReader(""), f, nil); err == nil {
			t.Errorf("Parse with format %q succeeded", f)
		}
	}
}

func TestParseLongLines(t *testing.T) {
	const good = "1c3b079e323cf1202d445af8a0906618"
	for _, tt := range []struct {
		name    string
		n       int // length of the long line
		tooLong bool
	}{
		{"exactly the limit", maxLineLength, false},
		{"one over the limit", maxLineLength + 1, true},
		{"many times the limit", 5*maxLineLength + 12345, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, eol := range []string{"\n", "\r\n"} {
				long := strings.Repeat("a", tt.n)
				in := good + eol + long + eol + good + eol + long // also unterminated at EOF
				sum, err := Parse(strings.NewReader(in), KnownGood, nil)
				if err != nil {
					t.Fatal(err)
				}
				if sum.Lines != 4 || sum.Indicators != 2 || sum.Malformed != 2 {
					t.Fatalf("%q endings: lines/indicators/malformed = %d/%d/%d, want 4/2/2", eol, sum.Lines, sum.Indicators, sum.Malformed)
				}
				for _, e := range sum.Errors {
					if errors.Is(e, errLineTooLong) != tt.tooLong {
						t.Errorf("line %d: %v (too long expected: %v)", e.Line, e, tt.tooLong)
					}
					if len(e.Error()) > 200 {
						t.Errorf("error message of %d bytes", len(e.Error()))
					}
				}
			}
		})
	}
}

// TestLineReaderMemoryIsBounded reads a line far over the limit and checks
// the reader never held more than the limit plus its read buffer.
func TestLineReaderMemoryIsBounded(t *testing.T) {
	in := strings.Repeat("x", 8*maxLineLength) + "\nshort\n"
	lr := newLineReader(strings.NewReader(in))
	line, tooLong, err := lr.next()
	if err != nil || !tooLong || line != nil {
		t.Fatalf("next() = %d bytes, %v, %v; want a too-long line", len(line), tooLong, err)
	}
	if c := cap(lr.buf); c > maxLineLength+2+lr.r.Size() {
		t.Errorf("line buffer grew to %d bytes", c)
	}
	line, tooLong, err = lr.next()
	if err != nil || tooLong || string(line) != "short" {
		t.Fatalf("next() = %q, %v, %v; want the following line", line, tooLong, err)
	}
	if _, _, err := lr.next(); err != io.EOF {
		t.Fatalf("next() at end = %v", err)
	}
}

func TestParseEmptyInput(t *testing.T) {
	for _, f := range Formats {
		if f == ClamAVCVD {
			continue // a container, not lines: see the CVD tests
		}
		var sum Summary
		var err error
		if IsURLFormat(f) {
			sum, err = ParseURLs(strings.NewReader(""), f, nil)
		} else {
			sum, err = Parse(strings.NewReader(""), f, nil)
		}
		if err != nil || sum.Format != f || sum.Lines != 0 || sum.Indicators != 0 || sum.Malformed != 0 || sum.Errors != nil {
			t.Errorf("%s: %+v, %v", f, sum, err)
		}
	}
}

// TestEmittedDigestsAreNotShared guards against an indicator aliasing the
// line buffer, which the next line would overwrite under the caller.
func TestEmittedDigestsAreNotShared(t *testing.T) {
	in := "1c3b079e323cf1202d445af8a0906618 a\nffffffffffffffffffffffffffffffff b\n"
	var kept []reputation.FileIndicator
	if _, err := Parse(strings.NewReader(in), KnownGood, func(ind reputation.FileIndicator) error {
		kept = append(kept, ind)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if describe(kept[0]) == describe(kept[1]) {
		t.Errorf("indicators share storage: %s", describe(kept[0]))
	}
}
