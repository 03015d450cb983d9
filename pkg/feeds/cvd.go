package feeds

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A ClamAV database container (.cvd, and .cld after incremental updates)
// starts with a header of cvdHeaderSize bytes: colon-separated fields
// after cvdMagic, padded with spaces,
//
//	ClamAV-VDB:build time:version:signatures:functionality level:MD5:digital signature:builder:build time in seconds
//
// then the databases as a tar archive, gzip-compressed in a .cvd (a .cld
// may hold it uncompressed). The MD5 is that of everything after the
// header; the digital signature signs that MD5 with ClamAV's key (see
// cvdsig.go). The build time contains no colon ("07 Mar 2017 08-02
// -0500"); old files lack the seconds field. (ClamAV's documentation of
// the format, "CVD format", and libclamav's cvd.c.)
const (
	cvdMagic      = "ClamAV-VDB:"
	cvdHeaderSize = 512
)

// CVDHeader is a parsed container header. Every text field is checked to
// hold printable ASCII only, so it can be printed as it is.
type CVDHeader struct {
	Built      string // the build time as written
	Version    int
	Signatures int // how many signatures the container says it holds
	Level      int // the functionality level ClamAV needs to load it
	MD5        string
	DSig       string
	Builder    string
	BuiltAt    time.Time // from the seconds field; zero in old files
}

// errCVD marks a container ksn will not read.
var errCVD = errors.New("not a valid ClamAV container")

// ParseCVDHeader parses the first cvdHeaderSize bytes of a container.
func ParseCVDHeader(b []byte) (CVDHeader, error) {
	var h CVDHeader
	if len(b) < cvdHeaderSize {
		return h, fmt.Errorf("%w: the header is %d bytes, want %d", errCVD, len(b), cvdHeaderSize)
	}
	b = b[:cvdHeaderSize]
	if !bytes.HasPrefix(b, []byte(cvdMagic)) {
		return h, fmt.Errorf("%w: it does not start with %q", errCVD, cvdMagic)
	}
	// The padding: spaces, and in files written by some tools newlines
	// or NUL bytes.
	text := strings.TrimRight(string(b), " \r\n\x00")
	for _, c := range []byte(text) {
		if c < 0x20 || c > 0x7e {
			return h, fmt.Errorf("%w: the header holds byte 0x%02x", errCVD, c)
		}
	}
	f := strings.Split(text, ":")
	if len(f) < 8 || len(f) > 9 {
		return h, fmt.Errorf("%w: the header has %d fields, want 8 or 9", errCVD, len(f))
	}
	var err error
	num := func(i int, what string) int {
		if err != nil {
			return 0
		}
		n, e := strconv.Atoi(f[i])
		if e != nil || n < 0 || !isDigits(f[i]) {
			err = fmt.Errorf("%w: %s %q is not a number", errCVD, what, f[i])
		}
		return n
	}
	h.Built = f[1]
	h.Version = num(2, "the version")
	h.Signatures = num(3, "the signature count")
	h.Level = num(4, "the functionality level")
	if err != nil {
		return CVDHeader{}, err
	}
	h.MD5 = strings.ToLower(f[5])
	if len(h.MD5) != 32 || !isHex(h.MD5) {
		return CVDHeader{}, fmt.Errorf("%w: the MD5 %q is not 32 hex digits", errCVD, f[5])
	}
	h.DSig = f[6]
	if len(h.DSig) > maxDSig {
		return CVDHeader{}, fmt.Errorf("%w: the digital signature is %d characters long", errCVD, len(h.DSig))
	}
	h.Builder = f[7]
	if len(f) == 9 && f[8] != "" {
		sec := num(8, "the build time")
		if err != nil {
			return CVDHeader{}, err
		}
		h.BuiltAt = time.Unix(int64(sec), 0).UTC()
	}
	return h, nil
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
