package feeds

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// fuzzParse runs Parse over data and checks the properties every format
// keeps: no panic, sound indicators, consistent counts. verdicts lists the
// verdicts the format may produce; algs the algorithms.
func fuzzParse(t *testing.T, data []byte, f Format, algs []checksum.Algorithm, verdicts ...reputation.Verdict) {
	emitted := 0
	sum, err := Parse(bytes.NewReader(data), f, func(ind reputation.FileIndicator) error {
		checkIndicator(t, ind)
		if !contains(algs, ind.Algorithm) {
			t.Fatalf("%s emitted algorithm %s", f, ind.Algorithm)
		}
		if !contains(verdicts, ind.Verdict) {
			t.Fatalf("%s emitted verdict %s", f, ind.Verdict)
		}
		if ind.Verdict == reputation.Suspicious && !strings.HasPrefix(ind.ThreatName, puaPrefix) {
			t.Fatalf("suspicious without a PUA name: %s", describe(ind))
		}
		emitted++
		return nil
	})
	if err != nil {
		t.Fatalf("Parse of in-memory data failed: %v", err)
	}
	if sum.Format != f {
		t.Fatalf("summary format %q, want %q", sum.Format, f)
	}
	if emitted != sum.Indicators {
		t.Fatalf("emitted %d, summary says %d", emitted, sum.Indicators)
	}
	checkSummary(t, sum, data)
}

// parseAny parses data in format f with the parser of its kind: links
// (ParseURLs) or digests (Parse), dropping what it finds.
func parseAny(data []byte, f Format) (Summary, error) {
	switch f {
	case URLhaus, URLList, URLhausHostfile:
		return ParseURLs(bytes.NewReader(data), f, func(reputation.URLIndicator) error { return nil })
	}
	return Parse(bytes.NewReader(data), f, nil)
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func FuzzParseMalwareBazaar(f *testing.F) {
	f.Add([]byte(mbBanner + mbColumns + "\n" + mbStd("2024-03-01 10:12:45", shaA, "invoice.exe", "AgentTesla") + "\n"))
	f.Add([]byte(mbStd("2024-03-01 10:12:45", shaA, `a, "b".exe`, "n/a") + "\r\n"))
	f.Add([]byte(`# "sha256_hash","signature"` + "\n" + mbRow(shaB, "Mirai") + "\n" + mbRow(shaB) + "\n"))
	f.Add([]byte(`"2024-03-01 10:12:45", "` + shaA + "\n"))
	f.Add([]byte(strings.TrimPrefix(mbColumns, "# ") + "\n" + mbStd("2024-02-30 25:00:00", shaA[:63], "x", "y")))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, MalwareBazaar, []checksum.Algorithm{checksum.SHA256}, reputation.Malicious)
	})
}

func FuzzParseClamAV(f *testing.F) {
	f.Add([]byte("44d88612fea8a8f36de82e1278abb02f:68:Win.Test.EICAR_HDB-1\n"), false)
	f.Add([]byte("# c\n275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:*:PUA.Win.X-1:73\r\n"), true)
	f.Add([]byte("3395856ce81f2b7382dee72602f798b642f14140:1024:Win.Trojan.X-1:73:255\n:68:\n"), true)
	f.Add([]byte("44d88612fea8a8f36de82e1278abb02f:12x4:X\n44d88612fea8a8f36de82e1278abb02f:-1:X\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, hsb bool) {
		format, algs := ClamAVHDB, hdbAlgorithms
		if hsb {
			format, algs = ClamAVHSB, hsbAlgorithms
		}
		fuzzParse(t, data, format, algs, reputation.Malicious, reputation.Suspicious)
	})
}

func FuzzParseKnownGood(f *testing.F) {
	f.Add([]byte("dbaf48c029d25df8ce6ea8d289d36f65e47a876d1b9006ecb134e947538bef84  a.txt\n"))
	f.Add([]byte("\xef\xbb\xbf# nsrl\r\nsha1:38726cb0eed748a8e2521962a0a564150522766f\tC:\\x\\y.dll\r\n"))
	f.Add([]byte("blake3:dbaf48c029d25df8ce6ea8d289d36f65e47a876d1b9006ecb134e947538bef84\nmd5:1c3b079e323cf1202d445af8a0906618\n"))
	f.Add([]byte("sha512:00\nnot-a-digest\n1C3B079E323CF1202D445AF8A0906618"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, data, KnownGood, checksum.All, reputation.Clean)
	})
}

func FuzzDetect(f *testing.F) {
	f.Add("recent.csv", []byte(mbBanner+mbColumns+"\n"+mbStd("2024-03-01 10:12:45", shaA, "invoice.exe", "AgentTesla")+"\n"))
	f.Add("daily.hdb", []byte("44d88612fea8a8f36de82e1278abb02f:68:Eicar-1\n"))
	f.Add("feed", []byte("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:*:X:73\n"))
	f.Add("nsrl.txt.gz", []byte("oops\nsha1:38726cb0eed748a8e2521962a0a564150522766f  a\n"))
	f.Add("x.fp", []byte("garbage\x00"))
	f.Fuzz(func(t *testing.T, name string, head []byte) {
		got, err := Detect(name, head)
		if err != nil {
			if got != "" {
				t.Fatalf("Detect returned %q with error %v", got, err)
			}
			if !strings.Contains(err.Error(), "--format") {
				t.Fatalf("error does not point at --format: %v", err)
			}
			return
		}
		if !contains(Formats, got) {
			t.Fatalf("Detect returned %q", got)
		}
		// Without a name only content decides, and a line-format decision
		// rests on a line its parser accepts.
		if byContent, err := Detect("", head); err == nil && byContent != MalwareBazaar {
			sum, err := parseAny(head, byContent)
			if err != nil || sum.Indicators == 0 {
				t.Fatalf("detected %s, but Parse finds no indicator: %+v, %v", byContent, sum, err)
			}
		}
		// Whatever Detect picks, parsing the same bytes with it must hold up.
		switch got {
		case MalwareBazaar:
			fuzzParse(t, head, got, []checksum.Algorithm{checksum.SHA256}, reputation.Malicious)
		case ClamAVHDB:
			fuzzParse(t, head, got, hdbAlgorithms, reputation.Malicious, reputation.Suspicious)
		case ClamAVHSB:
			fuzzParse(t, head, got, hsbAlgorithms, reputation.Malicious, reputation.Suspicious)
		case KnownGood:
			fuzzParse(t, head, got, checksum.All, reputation.Clean)
		}
	})
}
