package feeds

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

// CVDInfo is what reading a ClamAV container found besides its entries.
type CVDInfo struct {
	Header CVDHeader
	// SignatureVerified: the header's signature is ClamAV's signature of
	// its MD5. MD5Verified: that MD5 is the archive's. A .cld is neither:
	// ClamAV rewrites it on incremental updates, keeping the header of
	// the .cvd it started from, and does not check it either.
	SignatureVerified bool
	MD5Verified       bool
	Members           []CVDMember    // the hash databases read, in archive order
	Skipped           map[string]int // members not read, by extension ("" for none)
}

// CVDMember is one hash database read from a container.
type CVDMember struct {
	Name    string // as named in the archive, safe to print
	Summary Summary
}

// SkippedList describes the skipped members, e.g. "12 .ndb, 3 .ldb".
func (c *CVDInfo) SkippedList() string {
	exts := make([]string, 0, len(c.Skipped))
	for e := range c.Skipped {
		exts = append(exts, e)
	}
	sort.Slice(exts, func(i, j int) bool {
		if (exts[i] == "") != (exts[j] == "") {
			return exts[j] == "" // members without an extension last
		}
		if c.Skipped[exts[i]] != c.Skipped[exts[j]] {
			return c.Skipped[exts[i]] > c.Skipped[exts[j]]
		}
		return exts[i] < exts[j]
	})
	parts := make([]string, len(exts))
	for i, e := range exts {
		name := e
		if name == "" {
			name = "without extension"
		}
		parts[i] = fmt.Sprintf("%d %s", c.Skipped[e], name)
	}
	return strings.Join(parts, ", ")
}

// cvdMember says how a member is read, by extension: the whole-file hash
// databases. .hdu and .hsu hold potentially unwanted applications, which
// ClamAV reports only when asked to: ksn makes them suspicious. Every
// other member (body signatures, section hashes, allow lists (.fp, .sfp),
// settings) is skipped: ksn matches whole files by digest only.
func cvdMember(name string) (clamavParser, bool) {
	switch strings.ToLower(path.Ext(name)) {
	case ".hdb":
		return clamavParser{}, true
	case ".hsb":
		return clamavParser{hsb: true}, true
	case ".hdu":
		return clamavParser{pua: true}, true
	case ".hsu":
		return clamavParser{hsb: true, pua: true}, true
	}
	return clamavParser{}, false
}

// Limits on what a container may make ksn read: ClamAV's main.cvd is
// about 170 MB and unpacks to a few hundred; these leave room for growth
// and stop a bomb. The unpacked limit counts what the archive yields
// (a tar member may be sparse: a hole of gigabytes costs a few bytes of
// input), not only what is decompressed. A variable so that the fuzz test
// can lower it.
var maxCVDUnpacked int64 = 4 << 30

const maxCVDMembers = 10000

// ImportCVD reads a ClamAV container from r and imports the entries of
// its hash databases into db under source, all or nothing. The header is
// checked first: a signature that is not ClamAV's stops the import before
// anything is read, unless allowUnsigned; then the entries are read into
// an open import while the MD5 of the archive is computed, and the import
// is committed only if that MD5 is the header's. isCLD skips both checks,
// as ClamAV does for .cld files. Errors name the container.
func ImportCVD(ctx context.Context, db Database, r io.Reader, name, source string, isCLD, allowUnsigned bool, count func()) (Imported, CVDInfo, error) {
	res := Imported{Name: name, Format: ClamAVCVD, Summary: Summary{Format: ClamAVCVD}}
	info := CVDInfo{Skipped: map[string]int{}}
	fail := func(err error) (Imported, CVDInfo, error) {
		if !strings.Contains(err.Error(), "nothing was imported") {
			err = fmt.Errorf("%w; nothing was imported", err)
		}
		return res, info, fmt.Errorf("%s: %w", displayName(name), err)
	}
	head := make([]byte, cvdHeaderSize)
	if _, err := io.ReadFull(r, head); err != nil {
		return fail(fmt.Errorf("%w: it is shorter than its %d-byte header", errCVD, cvdHeaderSize))
	}
	h, err := ParseCVDHeader(head)
	if err != nil {
		return fail(err)
	}
	info.Header = h
	if !isCLD {
		info.SignatureVerified = verifyDSig(clamavKey, h.MD5, h.DSig)
		if !info.SignatureVerified && !allowUnsigned {
			return fail(errors.New("its header is not signed with ClamAV's key (a container from elsewhere, or altered); nothing was imported; import it anyway with --allow-unsigned"))
		}
	}
	imp, err := db.BeginImport(ctx, source)
	if err != nil {
		return fail(err)
	}
	defer imp.Rollback()

	sum := md5.New()
	raw := bufio.NewReaderSize(io.TeeReader(r, sum), 64<<10)
	body, err := cvdBody(raw)
	if err != nil {
		return fail(err)
	}
	if err := readCVDArchive(body, imp, &info, &res.Summary, count); err != nil {
		return fail(err)
	}
	// Everything after the archive (its padding, the gzip trailer) is
	// part of what the MD5 covers.
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return fail(err)
	}
	if !isCLD {
		got := hex.EncodeToString(sum.Sum(nil))
		if got != h.MD5 {
			return fail(fmt.Errorf("the MD5 of its archive is %s, its header states %s: it is damaged or was altered", got, h.MD5))
		}
		info.MD5Verified = true
	}
	if res.Summary.Indicators == 0 && res.Summary.Malformed > 0 {
		return fail(fmt.Errorf("not one of the %d lines of its hash databases is an entry; nothing was imported", res.Summary.Lines))
	}
	if res.Stats, err = imp.Commit(); err != nil {
		return fail(err)
	}
	return res, info, nil
}

// cvdBody returns the archive after the header: gzip-compressed, as every
// .cvd, or a plain tar, as a .cld may be. Reading it to the end checks
// the gzip checksum, so a cut download is an error, not a short archive.
func cvdBody(raw *bufio.Reader) (io.Reader, error) {
	magic, _ := raw.Peek(2)
	if !bytes.Equal(magic, gzipMagic) {
		return raw, nil
	}
	gz, err := gzip.NewReader(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: its archive is not readable as gzip: %v", errCVD, err)
	}
	return gz, nil
}

// readCVDArchive reads the tar archive, parses the hash databases into imp
// and counts the members it skips.
func readCVDArchive(body io.Reader, imp store.Importer, info *CVDInfo, total *Summary, count func()) error {
	tooBig := fmt.Errorf("%w: its archive unpacks to more than %d bytes", errCVD, maxCVDUnpacked)
	limited := &io.LimitedReader{R: body, N: maxCVDUnpacked + 1}
	left := maxCVDUnpacked // what the members may still yield
	tr := tar.NewReader(limited)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if limited.N <= 0 {
				return tooBig
			}
			return fmt.Errorf("%w: reading its archive: %v", errCVD, err)
		}
		if n >= maxCVDMembers {
			return fmt.Errorf("%w: its archive holds more than %d members", errCVD, maxCVDMembers)
		}
		// ClamAV itself refuses members in directories, and anything but
		// plain files.
		if strings.Contains(hdr.Name, "/") || (hdr.Typeflag != tar.TypeReg && hdr.Typeflag != 0) {
			return fmt.Errorf("%w: its archive holds %s, which is not a plain file at the top", errCVD, displayName(hdr.Name))
		}
		p, ok := cvdMember(hdr.Name)
		if !ok {
			ext := strings.ToLower(path.Ext(hdr.Name))
			if ext != "" {
				ext = displayName(ext) // a name from the archive, shown to the user
			}
			info.Skipped[ext]++
			continue
		}
		f := ClamAVHDB
		if p.hsb {
			f = ClamAVHSB
		}
		content := &io.LimitedReader{R: tr, N: left + 1}
		s, err := parseLines(content, f, p.parseLine, func(ind reputation.FileIndicator) error {
			if count != nil {
				count()
			}
			return imp.Add(ind)
		})
		if content.N <= 0 || limited.N <= 0 {
			return tooBig
		}
		if err != nil {
			return fmt.Errorf("%s: %w", displayName(hdr.Name), err)
		}
		left = content.N - 1
		info.Members = append(info.Members, CVDMember{Name: displayName(hdr.Name), Summary: s})
		total.Lines += s.Lines
		total.Indicators += s.Indicators
		for _, le := range s.Errors {
			if len(total.Errors) < MaxReportedErrors {
				total.Errors = append(total.Errors, LineError{Line: le.Line, Err: fmt.Errorf("%s: %w", displayName(hdr.Name), le.Err)})
			}
		}
		total.Malformed += s.Malformed
	}
	if limited.N <= 0 {
		return tooBig
	}
	// The rest of the decompressed stream: reading it checks the gzip
	// trailer.
	if _, err := io.Copy(io.Discard, limited); err != nil {
		return fmt.Errorf("%w: its archive is cut short or damaged: %v", errCVD, err)
	}
	return nil
}
