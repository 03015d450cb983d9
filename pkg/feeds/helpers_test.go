package feeds

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// describe renders an indicator as one comparable line, so table tests can
// state every field they expect in a form a reviewer can read.
func describe(ind reputation.FileIndicator) string {
	seen := "-"
	if !ind.FirstSeen.IsZero() {
		seen = ind.FirstSeen.Format("2006-01-02T15:04:05Z07:00")
	}
	return fmt.Sprintf("%s:%s size=%d %s name=%q cat=%s seen=%s",
		ind.Algorithm, hex.EncodeToString(ind.Digest), ind.Size, ind.Verdict, ind.ThreatName, ind.Category, seen)
}

// parseString runs Parse over s and returns what it emitted, described.
func parseString(t *testing.T, s string, f Format) ([]string, Summary, error) {
	t.Helper()
	var got []string
	sum, err := Parse(strings.NewReader(s), f, func(ind reputation.FileIndicator) error {
		checkIndicator(t, ind)
		got = append(got, describe(ind))
		return nil
	})
	return got, sum, err
}

// checkIndicator holds the promises every emitted indicator keeps,
// whatever the format; the fuzz targets rely on it too.
func checkIndicator(t testing.TB, ind reputation.FileIndicator) {
	t.Helper()
	if !ind.Algorithm.Valid() {
		t.Fatalf("invalid algorithm %q in %s", ind.Algorithm, describe(ind))
	}
	if len(ind.Digest) != ind.Algorithm.Size() {
		t.Fatalf("digest of %d bytes for %s in %s", len(ind.Digest), ind.Algorithm, describe(ind))
	}
	switch ind.Verdict {
	case reputation.Malicious, reputation.Suspicious, reputation.Clean:
	default:
		t.Fatalf("verdict %q in %s", ind.Verdict, describe(ind))
	}
	if ind.Size < -1 {
		t.Fatalf("size %d in %s", ind.Size, describe(ind))
	}
	if !utf8.ValidString(ind.ThreatName) {
		t.Fatalf("invalid UTF-8 in threat name of %s", describe(ind))
	}
	for _, r := range ind.ThreatName {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("control or format character %U in threat name of %s", r, describe(ind))
		}
	}
	if !ind.FirstSeen.IsZero() && ind.FirstSeen.Location().String() != "UTC" {
		t.Fatalf("first seen not in UTC in %s", describe(ind))
	}
}

// checkSummary holds the counting promises of Parse.
func checkSummary(t testing.TB, sum Summary, input []byte) {
	t.Helper()
	if sum.Indicators+sum.Malformed > sum.Lines {
		t.Fatalf("indicators %d + malformed %d > lines %d", sum.Indicators, sum.Malformed, sum.Lines)
	}
	if want := countLines(input); sum.Lines != want {
		t.Fatalf("lines = %d, want %d", sum.Lines, want)
	}
	if len(sum.Errors) > MaxReportedErrors || len(sum.Errors) > sum.Malformed {
		t.Fatalf("%d errors reported for %d malformed lines", len(sum.Errors), sum.Malformed)
	}
	if sum.Malformed > 0 && len(sum.Errors) != min(sum.Malformed, MaxReportedErrors) {
		t.Fatalf("%d errors reported for %d malformed lines", len(sum.Errors), sum.Malformed)
	}
	prev := 0
	for _, e := range sum.Errors {
		if e.Line <= prev || e.Line > sum.Lines || e.Err == nil {
			t.Fatalf("error list out of order or out of range: %v", sum.Errors)
		}
		prev = e.Line
	}
}

// countLines counts lines the way an editor does: a final line without a
// newline still counts, a final newline does not open another.
func countLines(b []byte) int {
	n := strings.Count(string(b), "\n")
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
