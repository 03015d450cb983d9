package feeds

import (
	"slices"
	"strings"
	"testing"
)

func TestParseKnownGood(t *testing.T) {
	const (
		md5  = "1c3b079e323cf1202d445af8a0906618"
		sha1 = "38726cb0eed748a8e2521962a0a564150522766f"
		sha  = "dbaf48c029d25df8ce6ea8d289d36f65e47a876d1b9006ecb134e947538bef84"
	)
	clean := func(alg, hex string) string {
		return alg + ":" + hex + ` size=-1 clean name="" cat=known-good seen=-`
	}
	tests := []struct {
		name      string
		in        string
		want      []string
		malformed []error
	}{
		{
			name: "algorithm from the length",
			in:   sha + "\n" + sha1 + "\n" + md5 + "\n",
			want: []string{clean("sha256", sha), clean("sha1", sha1), clean("md5", md5)},
		},
		{
			name: "file names are dropped, whatever they contain",
			in:   sha + "  notepad.exe\n" + sha1 + "\tC:\\Program Files\\x:y.dll\n" + md5 + " # not a comment\n",
			want: []string{clean("sha256", sha), clean("sha1", sha1), clean("md5", md5)},
		},
		{
			name: "prefix overrides the guess",
			in:   "blake3:" + sha + " b3.bin\nsha256:" + sha + "\nSHA-1:" + sha1 + "\nmd5:" + md5 + "\n",
			want: []string{clean("blake3", sha), clean("sha256", sha), clean("sha1", sha1), clean("md5", md5)},
		},
		{
			name: "upper case, CRLF, comments, blank lines, surrounding space",
			in:   "\xef\xbb\xbf# NSRL subset\r\n\r\n  " + strings.ToUpper(sha) + "  \r\n",
			want: []string{clean("sha256", sha)},
		},
		{
			name:      "bad hex",
			in:        "x" + sha[1:] + "\n" + sha[:63] + "-\n",
			malformed: []error{errBadHex, errBadHex},
		},
		{
			name:      "wrong lengths",
			in:        sha[:63] + "\n" + sha + "0\n" + "md5:" + sha1 + "\n" + "blake3:" + md5 + "\n",
			malformed: []error{errDigestLength, errDigestLength, errDigestLength, errDigestLength},
		},
		{
			name:      "unknown prefix",
			in:        "sha512:" + sha + "\n" + "C:\\Windows\\notepad.exe\n",
			malformed: []error{errBadAlgorithm, errBadAlgorithm},
		},
		{
			name:      "prefix without a digest",
			in:        "sha256:\n",
			malformed: []error{errMissingField},
		},
		{
			name:      "a bad line between good ones",
			in:        sha + "\nnot-a-digest  malformed.txt\n" + md5 + "\n",
			want:      []string{clean("sha256", sha), clean("md5", md5)},
			malformed: []error{errBadHex},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sum, err := parseString(t, tt.in, KnownGood)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkSummary(t, sum, []byte(tt.in))
			if !slices.Equal(got, tt.want) {
				t.Errorf("indicators:\n got %q\nwant %q", got, tt.want)
			}
			checkReasons(t, sum, tt.malformed)
		})
	}
}
