package feeds

import (
	"bytes"
	"strings"
	"testing"
)

// BenchmarkParseMalwareBazaar measures the format with the largest feed
// (the full dump is about a million rows), whose CSV splitting dominates.
func BenchmarkParseMalwareBazaar(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(mbBanner + mbColumns + "\n")
	for range 10000 {
		buf.WriteString(mbStd("2024-03-01 10:12:45", shaA, "Rechnung, März 2024.pdf.exe", "AgentTesla") + "\n")
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), MalwareBazaar, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDetectWorstCase feeds Detect a full head of lines that each
// fail CSV parsing, the most expensive thing sniffing does.
func BenchmarkDetectWorstCase(b *testing.B) {
	head := []byte(strings.Repeat(`"`+strings.Repeat("a,", 20)+"\n", sniffLimit/42))
	b.ReportAllocs()
	for b.Loop() {
		Detect("x", head)
	}
}
