package feeds

import (
	"slices"
	"strings"
	"testing"
)

func TestParseClamAV(t *testing.T) {
	const (
		md5  = "44d88612fea8a8f36de82e1278abb02f"
		sha1 = "3395856ce81f2b7382dee72602f798b642f14140"
		sha  = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	)
	tests := []struct {
		name      string
		format    Format
		in        string
		want      []string
		malformed []error
	}{
		{
			name:   "hdb md5 as sigtool writes it",
			format: ClamAVHDB,
			in:     md5 + ":68:Win.Test.EICAR_HDB-1\n",
			want:   []string{"md5:" + md5 + ` size=68 malicious name="Win.Test.EICAR_HDB-1" cat=malware seen=-`},
		},
		{
			name:   "hdb takes sha1 and sha256 by length, upper case, CRLF",
			format: ClamAVHDB,
			in:     strings.ToUpper(sha1) + ":68:A-1\r\n" + sha + ":68:B-1\r\n",
			want: []string{
				"sha1:" + sha1 + ` size=68 malicious name="A-1" cat=malware seen=-`,
				"sha256:" + sha + ` size=68 malicious name="B-1" cat=malware seen=-`,
			},
		},
		{
			name:   "comments, blank lines and functionality levels",
			format: ClamAVHDB,
			in:     "# local signatures\n\n" + md5 + ":68:Win.Test-1:73\n" + md5 + ":68:Win.Test-2:73:255\n" + md5 + ":68:Win.Test-3::120\n",
			want: []string{
				"md5:" + md5 + ` size=68 malicious name="Win.Test-1" cat=malware seen=-`,
				"md5:" + md5 + ` size=68 malicious name="Win.Test-2" cat=malware seen=-`,
				"md5:" + md5 + ` size=68 malicious name="Win.Test-3" cat=malware seen=-`,
			},
		},
		{
			name:   "hsb with unknown size and a PUA",
			format: ClamAVHSB,
			in:     sha + ":*:Win.Ransomware.Test-1:73\n" + sha1 + ":1024:PUA.Win.Tool.Test-2\n",
			want: []string{
				"sha256:" + sha + ` size=-1 malicious name="Win.Ransomware.Test-1" cat=malware seen=-`,
				"sha1:" + sha1 + ` size=1024 suspicious name="PUA.Win.Tool.Test-2" cat=pua seen=-`,
			},
		},
		{
			name:   "only the PUA. prefix makes a PUA",
			format: ClamAVHSB,
			in:     sha + ":0:Win.PUA.Test-1\n",
			want:   []string{"sha256:" + sha + ` size=0 malicious name="Win.PUA.Test-1" cat=malware seen=-`},
		},
		{
			name:      "bad hex",
			format:    ClamAVHDB,
			in:        "z" + md5[1:] + ":68:X-1\n",
			malformed: []error{errBadHex},
		},
		{
			name:      "md5 in an hsb",
			format:    ClamAVHSB,
			in:        md5 + ":68:X-1\n",
			malformed: []error{errDigestLength},
		},
		{
			name:      "odd lengths in an hdb",
			format:    ClamAVHDB,
			in:        md5[:31] + ":68:X-1\n" + sha + "00:68:X-1\n",
			malformed: []error{errDigestLength, errDigestLength},
		},
		{
			name:      "missing fields",
			format:    ClamAVHDB,
			in:        md5 + ":68\n" + md5 + "\n" + md5 + ":68:\n" + ":68:X-1\n",
			malformed: []error{errMissingField, errMissingField, errMissingField, errMissingField},
		},
		{
			name:      "bad sizes",
			format:    ClamAVHSB,
			in:        sha + ":12x4:X-1\n" + sha + ":-5:X-1\n" + sha + ":+5:X-1\n" + sha + ":99999999999999999999:X-1\n" + sha + "::X-1\n",
			malformed: []error{errBadSize, errBadSize, errBadSize, errBadSize, errBadSize},
		},
		{
			name:      "too many fields and a bad functionality level",
			format:    ClamAVHDB,
			in:        md5 + ":68:X-1:1:2:3\n" + md5 + ":68:X-1:new\n",
			malformed: []error{errBadField, errBadField},
		},
		{
			name:   "a bad line between good ones",
			format: ClamAVHDB,
			in:     md5 + ":68:A-1\n" + md5 + ":6 8:B-1\n" + md5 + ":68:C-1\n",
			want: []string{
				"md5:" + md5 + ` size=68 malicious name="A-1" cat=malware seen=-`,
				"md5:" + md5 + ` size=68 malicious name="C-1" cat=malware seen=-`,
			},
			malformed: []error{errBadSize},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sum, err := parseString(t, tt.in, tt.format)
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
