package feeds

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const knownGoodText = "# known good\n" +
	"dbaf48c029d25df8ce6ea8d289d36f65e47a876d1b9006ecb134e947538bef84  a.txt\n" +
	"1c3b079e323cf1202d445af8a0906618\n"

func gzipped(t *testing.T, s, headerName string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Name = headerName
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zipped builds an archive from name/content pairs; a name ending in "/" is
// a directory entry.
func zipped(t *testing.T, entries ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		f, err := w.Create(entries[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(f, entries[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func truncated(b []byte) []byte { return b[:len(b)/2] }

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpen(t *testing.T) {
	// Large enough that detection's 64 KiB look-ahead is a strict prefix,
	// so the test sees whether the peeked bytes are handed on.
	bigKnownGood := knownGoodText + strings.Repeat("38726cb0eed748a8e2521962a0a564150522766f\n", 3000)
	mbText := mbBanner + mbColumns + "\n" + mbStd("2024-03-01 10:12:45", shaA, "a, b.exe", "AgentTesla") + "\n"
	hsbText := "e22ed00b83931ff520a081bb740529075c2b6ed6207636b0513802930333c274:28:Ksn.Test.Hsb-1\n"

	tests := []struct {
		name   string
		file   string
		data   []byte
		format Format
		want   Format
		text   string // the plain text Open must yield
	}{
		{"plain, detected", "good.txt", []byte(bigKnownGood), Auto, KnownGood, bigKnownGood},
		{"plain, by extension", "local.hsb", []byte(hsbText), Auto, ClamAVHSB, hsbText},
		{"plain, explicit format is trusted", "whatever.bin", []byte("not a feed\n"), KnownGood, KnownGood, "not a feed\n"},
		{"gzip, inner extension", "local.hsb.gz", gzipped(t, hsbText, ""), Auto, ClamAVHSB, hsbText},
		{"gzip, content", "list.gz", gzipped(t, bigKnownGood, ""), Auto, KnownGood, bigKnownGood},
		{"gzip, name from the gzip header", "feed.gz", gzipped(t, hsbText, "main.hsb"), Auto, ClamAVHSB, hsbText},
		{"gzip by magic without .gz", "feed.hsb", gzipped(t, hsbText, ""), Auto, ClamAVHSB, hsbText},
		{"zip with one file", "full.csv.zip", zipped(t, "full.csv", mbText), Auto, MalwareBazaar, mbText},
		{"zip with a directory and one file", "dump.zip", zipped(t, "dump/", "", "dump/main.hsb", hsbText), Auto, ClamAVHSB, hsbText},
		{"zip by magic, explicit format", "download", zipped(t, "x", knownGoodText), KnownGood, KnownGood, knownGoodText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, tt.file, tt.data)
			rc, f, err := Open(p, tt.format)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if err := rc.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if f != tt.want {
				t.Errorf("format %q, want %q", f, tt.want)
			}
			if string(got) != tt.text {
				t.Errorf("text differs: got %d bytes, want %d", len(got), len(tt.text))
			}
		})
	}
}

func TestOpenFailures(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		data   []byte
		format Format
		errHas string
	}{
		{"zip with two files", "two.zip", zipped(t, "a.csv", "x", "b.csv", "y"), Auto, "holds 2 files (a.csv, b.csv)"},
		{"zip with no file", "none.zip", zipped(t, "dir/", ""), Auto, "holds no file"},
		{"not a zip despite the name", "fake.zip", []byte(knownGoodText), Auto, "not readable as zip"},
		{"not gzip despite the name", "fake.gz", []byte(knownGoodText), Auto, "not readable as gzip"},
		{"empty .gz", "empty.gz", nil, Auto, "empty file"},
		{"truncated gzip", "bad.gz", truncated(gzipped(t, strings.Repeat("x", 100000), "")), Auto, "unexpected EOF"},
		{"undetectable", "notes.txt", []byte("hello\n"), Auto, "--format"},
		{"undetectable inside zip names the member", "a.zip", zipped(t, "inner.dat", "hello\n"), Auto, "inner.dat"},
		{"unknown format value", "x.txt", []byte(knownGoodText), "csv", "unknown feed format"},
		{"member names are quoted when unsafe", "evil.zip", zipped(t, "\x1b[2Jinner.dat", "hello\n"), Auto, `"\x1b[2Jinner.dat"`},
		{"member lists are quoted when unsafe", "evil2.zip", zipped(t, "a\x1b]0;x\a", "", "b", ""), Auto, `"a\x1b]0;x\a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, tt.file, tt.data)
			rc, f, err := Open(p, tt.format)
			if err == nil {
				rc.Close()
				t.Fatalf("Open succeeded with format %q", f)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not say %q", err, tt.errHas)
			}
			if strings.ContainsAny(err.Error(), "\x1b\a") {
				t.Errorf("error %q carries raw control characters", err)
			}
		})
	}

	if _, _, err := Open(filepath.Join(t.TempDir(), "missing.csv"), Auto); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := Open(t.TempDir(), Auto); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestOpenEncryptedZipMember(t *testing.T) {
	data := zipped(t, "full.csv", "x")
	// Set the "encrypted" general-purpose flag in both the local and the
	// central header, as a password-protected archive has it.
	data = bytes.Replace(data, []byte("PK\x03\x04\x14\x00\x08\x00"), []byte("PK\x03\x04\x14\x00\x09\x00"), 1)
	data = bytes.Replace(data, []byte("PK\x01\x02\x14\x00\x14\x00\x08\x00"), []byte("PK\x01\x02\x14\x00\x14\x00\x09\x00"), 1)
	p := writeFile(t, "enc.zip", data)
	_, _, err := Open(p, Auto)
	if err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("Open = %v, want an encrypted-member error", err)
	}
}

// TestImportPath: "-" reads the stream given, anything else is a file.
func TestImportPath(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res, err := ImportPath(ctx, db, "-", strings.NewReader("http://evil.example/x\n"), ImportOptions{Format: URLList})
	if err != nil || res.Name != "-" || res.Summary.Indicators != 1 {
		t.Errorf("stdin: %+v (%v)", res, err)
	}
	file := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(file, []byte("http://a.example/\nhttp://b.example/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err = ImportPath(ctx, db, file, nil, ImportOptions{Format: URLList})
	if err != nil || res.Name != file || res.Summary.Indicators != 2 {
		t.Errorf("file: %+v (%v)", res, err)
	}
}
