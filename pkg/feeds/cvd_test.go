package feeds

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

// realDailyHeader is the header of a daily.cvd ClamAV published in March
// 2017 (quoted in the documentation of github.com/mxplusb/clamav): its
// signature must verify with ClamAV's published key, which makes it a
// known-answer test of the scheme.
const realDailyHeader = "ClamAV-VDB:07 Mar 2017 08-02 -0500:23182:1741572:63:c1537143239006af01e814a4dcd58a48:" +
	"QC2ZncCPK0AzfYPW8OKvde9GFOO1HyH5qbozl9JZbmlOmZnSV55zWaP9yH9tXiS+JmZWA1277X6pBeTHPCcaqUDakke4W58duZ5mavDGJoWekl3q/5RgVeAg39cM1X4zNf6gER8G+HIWDUka0sRQWal1KXAb1UWkFoKsbHVqgVi" +
	":neo:1488891746"

func pad(h string) []byte { return []byte(h + strings.Repeat(" ", cvdHeaderSize-len(h))) }

func TestCVDHeaderOfClamAV(t *testing.T) {
	h, err := ParseCVDHeader(pad(realDailyHeader))
	if err != nil {
		t.Fatal(err)
	}
	if h.Built != "07 Mar 2017 08-02 -0500" || h.Version != 23182 || h.Signatures != 1741572 || h.Level != 63 ||
		h.MD5 != "c1537143239006af01e814a4dcd58a48" || h.Builder != "neo" || !h.BuiltAt.Equal(time.Unix(1488891746, 0)) {
		t.Errorf("header %+v", h)
	}
	if !verifyDSig(clamavKey, h.MD5, h.DSig) {
		t.Fatal("ClamAV's own signature does not verify with its published key")
	}
	// One digit of the signature, or of the MD5, changed: no longer.
	if verifyDSig(clamavKey, h.MD5, "R"+h.DSig[1:]) {
		t.Error("an altered signature verifies")
	}
	if verifyDSig(clamavKey, "c1537143239006af01e814a4dcd58a49", h.DSig) {
		t.Error("the signature verifies another MD5")
	}
	for _, bad := range []string{"", "!", strings.Repeat("/", maxDSig+1)} {
		if verifyDSig(clamavKey, h.MD5, bad) {
			t.Errorf("signature %q verifies", bad)
		}
	}
}

func TestParseCVDHeaderErrors(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"ClamAV-VDB:x:1:2:3:c1537143239006af01e814a4dcd58a48:sig", "7 fields"},
		{"ClamAV-VDB:x:1:2:3:c1537143239006af01e814a4dcd58a48:sig:b:1:extra", "10 fields"},
		{"ClamAV-VDB:x:one:2:3:c1537143239006af01e814a4dcd58a48:sig:b", "the version"},
		{"ClamAV-VDB:x:1:-2:3:c1537143239006af01e814a4dcd58a48:sig:b", "signature count"},
		{"ClamAV-VDB:x:1:2:3:c15371432:sig:b", "not 32 hex digits"},
		{"ClamAV-VDB:x:1:2:3:c1537143239006af01e814a4dcd58a48:sig:b\x1b[31m", "byte 0x1b"},
		{"ClamAV-VDB:x:1:2:3:c1537143239006af01e814a4dcd58a48:sig:b:soon", "the build time"},
		{"ClamAV-VDC:x:1:2:3:c1537143239006af01e814a4dcd58a48:sig:b", "does not start"},
	} {
		_, err := ParseCVDHeader(pad(c.header))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.header, err, c.want)
		}
	}
	if _, err := ParseCVDHeader([]byte("ClamAV-VDB:")); err == nil {
		t.Error("a short header parsed")
	}
}

// testSigner is a key of the same scheme as ClamAV's, for containers a
// test builds and signs.
type testSigner struct{ key *rsa.PrivateKey }

func newTestSigner(t *testing.T) testSigner {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return testSigner{k}
}

func (s testSigner) public() cvdKey { return cvdKey{n: s.key.N, e: big.NewInt(int64(s.key.E))} }

// sign writes m^d mod n in ClamAV's digits, least significant first.
func (s testSigner) sign(md5Hex string) string {
	m, _ := new(big.Int).SetString(md5Hex, 16)
	c := new(big.Int).Exp(m, s.key.D, s.key.N)
	const digits = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
	var b strings.Builder
	for c.Sign() > 0 {
		b.WriteByte(digits[new(big.Int).And(c, big.NewInt(63)).Int64()])
		c.Rsh(c, 6)
	}
	return b.String()
}

// useKey makes the checks trust key for the rest of the test.
func useKey(t *testing.T, key cvdKey) {
	old := clamavKey
	clamavKey = key
	t.Cleanup(func() { clamavKey = old })
}

type member struct{ name, body string }

// buildCVD writes a container: header, then the members as a tar archive,
// gzip-compressed unless plain. md5Of, when set, replaces the archive's
// MD5 in the header; sign, when set, signs the header's MD5.
func buildCVD(t testing.TB, members []member, plain bool, md5Of string, sign func(string) string) []byte {
	var archive bytes.Buffer
	var tw *tar.Writer
	var gz *gzip.Writer
	if plain {
		tw = tar.NewWriter(&archive)
	} else {
		gz = gzip.NewWriter(&archive)
		tw = tar.NewWriter(gz)
	}
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(m.body))
	}
	tw.Close()
	if gz != nil {
		gz.Close()
	}
	sum := md5.Sum(archive.Bytes())
	md5Hex := hex.EncodeToString(sum[:])
	if md5Of != "" {
		md5Hex = md5Of
	}
	dsig := "unsigned"
	if sign != nil {
		dsig = sign(md5Hex)
	}
	header := fmt.Sprintf("ClamAV-VDB:01 Mar 2026 10-00 +0000:27000:%d:90:%s:%s:ksn-test:1772359200", len(members), md5Hex, dsig)
	return append(pad(header), archive.Bytes()...)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The members of a daily.cvd, as far as ksn cares: a SHA-256 database, a
// PUA MD5 database, and what it skips.
func dailyMembers() []member {
	return []member{
		{"COPYING", "ClamAV databases are licensed under the GPL\n"},
		{"daily.info", "ClamAV-VDB:01 Mar 2026:27000:3:90\n"},
		{"daily.hsb", sha256Hex("malware sample\n") + ":15:Win.Trojan.Sample-1\nnot a line\n"},
		{"daily.hdu", hex.EncodeToString(md5Sum("adware sample\n")) + ":14:Win.Adware.Sample-2\n"},
		{"daily.ndb", "Win.Trojan.Body-1:0:*:deadbeef\n"},
	}
}

func md5Sum(s string) []byte { b := md5.Sum([]byte(s)); return b[:] }

// verdictOf looks a file's content up in db.
func verdictOf(t *testing.T, db *store.Local, content string) reputation.Result {
	t.Helper()
	s256 := sha256.Sum256([]byte(content))
	res, err := db.LookupFiles(context.Background(), []store.FileDigests{{checksum.SHA256: s256[:], checksum.MD5: md5Sum(content)}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// A member's name comes from the archive: the skipped list shows its
// extension escaped, never its control characters raw.
func TestImportCVDSkippedNameEscaped(t *testing.T) {
	signer := newTestSigner(t)
	useKey(t, signer.public())
	members := append(dailyMembers(), member{"x.\x1b]0;PWNED\a", "odd\n"})
	cvd := buildCVD(t, members, false, "", signer.sign)
	res, err := ImportReader(context.Background(), openTestDB(t), bytes.NewReader(cvd), "daily.cvd", ImportOptions{Format: ClamAVCVD})
	if err != nil {
		t.Fatal(err)
	}
	got := res.CVD.SkippedList()
	if strings.ContainsAny(got, "\x1b\a") || !strings.Contains(got, `1 ".\x1b]0;pwned\a"`) {
		t.Errorf("skipped %q", got)
	}
}

func TestImportCVD(t *testing.T) {
	signer := newTestSigner(t)
	useKey(t, signer.public())
	db := openTestDB(t)
	cvd := buildCVD(t, dailyMembers(), false, "", signer.sign)
	res, err := ImportReader(context.Background(), db, bytes.NewReader(cvd), "daily.cvd", ImportOptions{Format: ClamAVCVD})
	if err != nil {
		t.Fatal(err)
	}
	info := res.CVD
	if !info.SignatureVerified || !info.MD5Verified || info.Header.Version != 27000 {
		t.Errorf("checks: %+v", info)
	}
	if res.Summary.Indicators != 2 || res.Summary.Malformed != 1 || res.Stats.Added != 2 {
		t.Errorf("summary %+v stats %+v", res.Summary, res.Stats)
	}
	if len(info.Members) != 2 || info.Members[0].Name != "daily.hsb" || info.Members[1].Name != "daily.hdu" {
		t.Errorf("members %+v", info.Members)
	}
	if got := info.SkippedList(); got != "1 .info, 1 .ndb, 1 without extension" {
		t.Errorf("skipped %q", got)
	}
	if r := verdictOf(t, db, "malware sample\n"); r.Verdict != reputation.Malicious || r.ThreatName != "Win.Trojan.Sample-1" || r.Sources[0] != "clamav" {
		t.Errorf("hsb entry: %+v", r)
	}
	if r := verdictOf(t, db, "adware sample\n"); r.Verdict != reputation.Suspicious || r.Category != "pua" {
		t.Errorf("hdu entry: %+v", r)
	}
}

// A container whose archive is not what its header's MD5 says is refused
// whole: not one entry is imported, signed or not.
func TestImportCVDRefusesWrongMD5(t *testing.T) {
	signer := newTestSigner(t)
	useKey(t, signer.public())
	db := openTestDB(t)
	cvd := buildCVD(t, dailyMembers(), false, strings.Repeat("ab", 16), signer.sign)
	for _, allow := range []bool{false, true} {
		_, err := ImportReader(context.Background(), db, bytes.NewReader(cvd), "daily.cvd", ImportOptions{Format: ClamAVCVD, AllowUnsigned: allow})
		if err == nil || !strings.Contains(err.Error(), "header states abababababababababababababababab") || !strings.Contains(err.Error(), "nothing was imported") {
			t.Fatalf("import: %v", err)
		}
	}
	if r := verdictOf(t, db, "malware sample\n"); r.Verdict != reputation.Unknown {
		t.Errorf("an entry of a refused container is in the database: %+v", r)
	}
}

// A container not signed with ClamAV's key is refused before it is read,
// unless the user allows it; its MD5 is checked all the same.
func TestImportCVDUnsigned(t *testing.T) {
	db := openTestDB(t)
	cvd := buildCVD(t, dailyMembers(), false, "", nil)
	_, err := ImportReader(context.Background(), db, bytes.NewReader(cvd), "daily.cvd", ImportOptions{Format: ClamAVCVD})
	if err == nil || !strings.Contains(err.Error(), "not signed with ClamAV's key") || !strings.Contains(err.Error(), "--allow-unsigned") {
		t.Fatalf("unsigned import: %v", err)
	}
	res, err := ImportReader(context.Background(), db, bytes.NewReader(cvd), "daily.cvd", ImportOptions{Format: ClamAVCVD, AllowUnsigned: true, Source: "my-clamav"})
	if err != nil {
		t.Fatal(err)
	}
	if res.CVD.SignatureVerified || !res.CVD.MD5Verified {
		t.Errorf("checks %+v", res.CVD)
	}
	if r := verdictOf(t, db, "malware sample\n"); r.Verdict != reputation.Malicious || r.Sources[0] != "my-clamav" {
		t.Errorf("entry %+v", r)
	}
}

// A .cld keeps the header of the .cvd it was updated from, so ClamAV
// checks neither its MD5 nor its signature, and neither does ksn; its
// archive may be a plain tar.
func TestImportCLD(t *testing.T) {
	db := openTestDB(t)
	cld := buildCVD(t, dailyMembers(), true, strings.Repeat("a", 32), nil)
	res, err := ImportReader(context.Background(), db, bytes.NewReader(cld), "/var/lib/clamav/daily.cld", ImportOptions{Format: ClamAVCVD})
	if err != nil {
		t.Fatal(err)
	}
	if res.CVD.SignatureVerified || res.CVD.MD5Verified || res.Summary.Indicators != 2 {
		t.Errorf("cld: %+v %+v", res.CVD, res.Summary)
	}
}

func TestImportCVDDamaged(t *testing.T) {
	signer := newTestSigner(t)
	useKey(t, signer.public())
	cvd := buildCVD(t, dailyMembers(), false, "", signer.sign)
	slashed := buildCVD(t, []member{{"db/daily.hsb", sha256Hex("x") + ":1:X\n"}}, false, "", signer.sign)
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"cut":           {cvd[:len(cvd)-20], "nothing was imported"},
		"header only":   {cvd[:cvdHeaderSize], "the MD5 of its archive is d41d8cd98f00b204e9800998ecf8427e"},
		"short":         {cvd[:100], "shorter than its 512-byte header"},
		"in a dir":      {slashed, `db/daily.hsb, which is not a plain file at the top`},
		"not gzip body": {append(cvd[:cvdHeaderSize:cvdHeaderSize], "\x1f\x8bgarbage"...), "not readable as gzip"},
	} {
		db := openTestDB(t)
		_, err := ImportReader(context.Background(), db, bytes.NewReader(c.data), "daily.cvd", ImportOptions{Format: ClamAVCVD, AllowUnsigned: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if r := verdictOf(t, db, "malware sample\n"); r.Verdict != reputation.Unknown {
			t.Errorf("%s: imported %+v", name, r)
		}
	}
}

// What the archive yields is bounded, whatever its compressed size.
func TestImportCVDUnpackLimit(t *testing.T) {
	old := maxCVDUnpacked
	maxCVDUnpacked = 1 << 10
	t.Cleanup(func() { maxCVDUnpacked = old })
	big := strings.Repeat(sha256Hex("x")+":1:X\n", 100)
	cvd := buildCVD(t, []member{{"main.hsb", big}}, false, "", nil)
	db := &memDB{}
	_, _, err := ImportCVD(context.Background(), db, bytes.NewReader(cvd), "main.cvd", "clamav", false, true, nil)
	if err == nil || !strings.Contains(err.Error(), "unpacks to more than 1024 bytes") || db.committed {
		t.Fatalf("import: %v, committed %v", err, db.committed)
	}
}

// A container file is recognised by its name or its first bytes, and
// imported by ImportFile like any feed.
func TestImportFileCVD(t *testing.T) {
	signer := newTestSigner(t)
	useKey(t, signer.public())
	dir := t.TempDir()
	path := filepath.Join(dir, "daily")
	if err := os.WriteFile(path, buildCVD(t, dailyMembers(), false, "", signer.sign), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := ImportFile(context.Background(), openTestDB(t), path, ImportOptions{Format: Auto})
	if err != nil || res.Format != ClamAVCVD || res.CVD == nil || !res.CVD.SignatureVerified || res.Stats.Added != 2 {
		t.Fatalf("ImportFile: %+v, %v", res, err)
	}
}
