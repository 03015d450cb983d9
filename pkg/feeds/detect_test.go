package feeds

import (
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	const (
		md5  = "44d88612fea8a8f36de82e1278abb02f"
		sha1 = "3395856ce81f2b7382dee72602f798b642f14140"
		sha  = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	)
	mbData := mbStd("2024-03-01 10:12:45", sha, "invoice.exe", "AgentTesla") + "\n"
	tests := []struct {
		name, file, head string
		want             Format
		errHas           string // for failures: a phrase the explanation must contain
	}{
		{name: "hdb by extension", file: "daily.hdb", head: "anything at all", want: ClamAVHDB},
		{name: "hsb by extension, any case, gzipped", file: "/x/MAIN.HSB.gz", head: sha + ":*:X:73\n", want: ClamAVHSB},
		{name: "extension beats content", file: "local.hdb", head: sha + ":1:X\n", want: ClamAVHDB},
		{name: "MalwareBazaar header block", file: "recent.csv", head: mbBanner + mbColumns + "\n" + mbData, want: MalwareBazaar},
		{name: "MalwareBazaar banner alone", file: "export", head: mbBanner, want: MalwareBazaar},
		{name: "MalwareBazaar rows without a header", file: "recent.csv", head: mbData + mbData, want: MalwareBazaar},
		{name: "MalwareBazaar uncommented header", file: "", head: strings.TrimPrefix(mbColumns, "# ") + "\n", want: MalwareBazaar},
		{name: "MalwareBazaar CRLF with BOM", file: "full.csv", head: "\xef\xbb\xbf" + strings.ReplaceAll(mbData, "\n", "\r\n"), want: MalwareBazaar},
		{name: "hdb by content", file: "sigs", head: "# mine\n" + md5 + ":68:Eicar-1\n", want: ClamAVHDB},
		{name: "hsb by content", file: "sigs.txt", head: sha + ":*:Eicar-1:73\n", want: ClamAVHSB},
		{name: "sha1 hash database goes to hsb", file: "sigs", head: sha1 + ":68:Eicar-1\n", want: ClamAVHSB},
		{name: "known-good digests", file: "nsrl.txt", head: sha + "\n" + md5 + "  notepad.exe\n", want: KnownGood},
		{name: "known-good with a prefix", file: "good.list", head: "blake3:" + sha + " b3.bin\n", want: KnownGood},
		{name: "known-good name with colons is not a hash database", file: "good", head: sha1 + "  C:\\x\\a:b:c\n", want: KnownGood},
		{name: "a damaged first line does not decide", file: "good", head: "oops\n" + md5 + "\n", want: KnownGood},
		{name: "a MalwareBazaar mention is not its header", file: "good", head: "# also listed on MalwareBazaar\n" + md5 + "\n", want: KnownGood},

		{name: "garbage", file: "notes.txt", head: "hello world\nthis is not a feed\n", errHas: `line 1, "hello world"`},
		{name: "empty", file: "x", head: "", errHas: "empty"},
		{name: "only comments", file: "x", head: "# a\n\n# b\n", errHas: "only comments"},
		{name: "binary", file: "x", head: "MZ\x90\x00\x03", errHas: "binary"},
		{name: "still gzipped", file: "x", head: "\x1f\x8b\x08\x00", errHas: "gzip"},
		{name: "zip", file: "x", head: "PK\x03\x04....", errHas: "zip"},
		{name: "csv that is not MalwareBazaar", file: "urlhaus.csv", head: "# id,dateadded,url\n\"1\",\"2024-03-01\",\"http://x/\"\n", errHas: "not a MalwareBazaar export"},
		{name: "csv holding digests", file: "list.csv", head: sha + "\n", errHas: "not a MalwareBazaar export"},
		{name: "ClamAV false-positive list", file: "local.fp", head: md5 + ":68:Eicar-1\n", errHas: "false positives"},
		{name: "ClamAV section hashes", file: "x.mdb", head: "45056:" + md5 + ":X\n", errHas: "PE sections"},
		{name: "ClamAV container", file: "daily.cvd", head: "ClamAV-VDB:...", want: ClamAVCVD},
		{name: "ClamAV incremental container", file: "/var/lib/clamav/daily.CLD", head: "anything", want: ClamAVCVD},
		{name: "ClamAV container by content", file: "daily", head: "ClamAV-VDB:07 Mar 2017", want: ClamAVCVD},
		{name: "URLhaus host file banner", file: "hostfile", head: "#####\n# abuse.ch URLhaus Host file   #\n127.0.0.1\tevil.example\n", want: URLhausHostfile},
		{name: "hosts lines without a banner", file: "hosts", head: "# blocked\n0.0.0.0 evil.example\n", want: URLhausHostfile},
		{name: "hash with bad size field", file: "x", head: md5 + ":big:X\n", errHas: "no line looks like"},
		{name: "digest of no known length", file: "x", head: sha[:50] + "\n", errHas: "no line looks like"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.file, []byte(tt.head))
			if tt.errHas == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Detect = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Detect = %q, want an error", got)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.errHas) {
				t.Errorf("error %q does not say %q", msg, tt.errHas)
			}
			if !strings.Contains(msg, "--format") {
				t.Errorf("error %q does not point at --format", msg)
			}
			for _, f := range Formats {
				if !strings.Contains(msg, string(f)) {
					t.Errorf("error %q does not list %s", msg, f)
				}
			}
		})
	}
}

// TestDetectLooksOnlyAtTheHead checks that Detect honours its 64 KiB
// promise: an entry past it cannot decide.
func TestDetectLooksOnlyAtTheHead(t *testing.T) {
	head := strings.Repeat("junk\n", sniffLimit/5+10) + "44d88612fea8a8f36de82e1278abb02f\n"
	if f, err := Detect("x", []byte(head)); err == nil {
		t.Errorf("Detect used data past %d bytes: %q", sniffLimit, f)
	}
}
