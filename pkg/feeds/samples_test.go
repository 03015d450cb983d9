package feeds

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"path/filepath"
	"testing"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// TestSamples reads the shared samples in testdata/feeds the way
// `ksn feed import` will, and checks the promises testdata/feeds/README.md
// makes to end-to-end scripts: the counts, the malformed line, and that the
// deterministic entry's digest really is that of its documented content.
func TestSamples(t *testing.T) {
	sha := func(s string) []byte { d := sha256.Sum256([]byte(s)); return d[:] }
	md := func(s string) []byte { d := md5.Sum([]byte(s)); return d[:] }
	tests := []struct {
		file                         string
		format                       Format
		lines, indicators, malformed int
		badLine                      int
		reason                       error
		alg                          checksum.Algorithm
		digest                       []byte
		verdict                      reputation.Verdict
		threat                       string
	}{
		{"malwarebazaar-recent.csv", MalwareBazaar, 20, 10, 1, 15, errDigestLength,
			checksum.SHA256, sha("ksn feed sample: malwarebazaar\n"), reputation.Malicious, "KsnTestSignature"},
		{"clamav-sample.hdb", ClamAVHDB, 7, 5, 1, 5, errBadSize,
			checksum.MD5, md("ksn feed sample: clamav hdb\n"), reputation.Malicious, "Ksn.Test.Hdb-1"},
		{"clamav-sample.hsb", ClamAVHSB, 6, 4, 1, 5, errDigestLength,
			checksum.SHA256, sha("ksn feed sample: clamav hsb\n"), reputation.Malicious, "Ksn.Test.Hsb-1"},
		{"known-good.txt", KnownGood, 7, 5, 1, 6, errBadHex,
			checksum.SHA256, sha("ksn feed sample: known good\n"), reputation.Clean, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rc, f, err := Open(filepath.Join("..", "..", "testdata", "feeds", tt.file), Auto)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if f != tt.format {
				t.Errorf("detected %q, want %q", f, tt.format)
			}
			var found []reputation.FileIndicator
			var all []reputation.FileIndicator
			sum, err := Parse(rc, f, func(ind reputation.FileIndicator) error {
				checkIndicator(t, ind)
				all = append(all, ind)
				if ind.Algorithm == tt.alg && bytes.Equal(ind.Digest, tt.digest) {
					found = append(found, ind)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Lines != tt.lines || sum.Indicators != tt.indicators || sum.Malformed != tt.malformed {
				t.Errorf("lines/indicators/malformed = %d/%d/%d, want %d/%d/%d",
					sum.Lines, sum.Indicators, sum.Malformed, tt.lines, tt.indicators, tt.malformed)
			}
			if len(sum.Errors) != 1 || sum.Errors[0].Line != tt.badLine {
				t.Errorf("errors %v, want one on line %d", sum.Errors, tt.badLine)
			}
			checkReasons(t, sum, []error{tt.reason})
			if len(found) != 1 {
				t.Fatalf("deterministic entry found %d times", len(found))
			}
			if found[0].Verdict != tt.verdict || found[0].ThreatName != tt.threat {
				t.Errorf("deterministic entry: %s", describe(found[0]))
			}
			if tt.format == ClamAVHSB || tt.format == ClamAVHDB {
				if found[0].Size != 28 {
					t.Errorf("deterministic entry size %d, want 28", found[0].Size)
				}
			}
			checkSampleFeatures(t, tt.format, all)
		})
	}
}

// checkSampleFeatures checks that each sample still exercises what the
// README says it does, so an edit to a sample cannot quietly drop a case.
func checkSampleFeatures(t *testing.T, f Format, all []reputation.FileIndicator) {
	t.Helper()
	count := func(pred func(reputation.FileIndicator) bool) int {
		n := 0
		for _, ind := range all {
			if pred(ind) {
				n++
			}
		}
		return n
	}
	switch f {
	case MalwareBazaar:
		if count(func(i reputation.FileIndicator) bool { return i.ThreatName == "" }) != 1 {
			t.Error("want exactly one row with signature n/a")
		}
		if count(func(i reputation.FileIndicator) bool { return i.ThreatName == "Formbook" }) != 1 {
			t.Error("the row with a comma in file_name (Formbook) is gone or misaligned")
		}
		if count(func(i reputation.FileIndicator) bool { return i.ThreatName == "Valak" }) != 1 {
			t.Error("the row with doubled quotes in file_name (Valak) is gone or misaligned")
		}
	case ClamAVHDB, ClamAVHSB:
		if count(func(i reputation.FileIndicator) bool {
			return i.Verdict == reputation.Suspicious && i.Category == "pua"
		}) != 1 {
			t.Error("want exactly one PUA entry")
		}
		if f == ClamAVHSB && count(func(i reputation.FileIndicator) bool { return i.Size == -1 }) != 1 {
			t.Error("want exactly one entry with size *")
		}
	case KnownGood:
		if count(func(i reputation.FileIndicator) bool { return i.Algorithm == checksum.BLAKE3 }) != 1 {
			t.Error("want exactly one blake3: entry")
		}
	}
}
