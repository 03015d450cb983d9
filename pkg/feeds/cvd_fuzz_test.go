package feeds

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
)

// FuzzParseCVDHeader: no header makes the parser panic, and what it
// accepts holds only printable ASCII, a 32-digit MD5 and counts that are
// not negative.
func FuzzParseCVDHeader(f *testing.F) {
	f.Add([]byte(realDailyHeader))
	f.Add([]byte("ClamAV-VDB:x:1:2:3:c1537143239006af01e814a4dcd58a48:sig:b"))
	f.Add([]byte("ClamAV-VDB:::::::"))
	f.Add([]byte("ClamAV-VDB:x:99999999999999999999:2:3:c1537143239006af01e814a4dcd58a48:sig:b:"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseCVDHeader(append(data, bytes.Repeat([]byte(" "), max(0, cvdHeaderSize-len(data)))...))
		if err != nil {
			return
		}
		for _, s := range []string{h.Built, h.DSig, h.Builder, h.MD5} {
			for _, c := range []byte(s) {
				if c < 0x20 || c > 0x7e {
					t.Fatalf("accepted byte 0x%02x in %+v", c, h)
				}
			}
		}
		if len(h.MD5) != 32 || h.Version < 0 || h.Signatures < 0 || h.Level < 0 {
			t.Fatalf("accepted %+v", h)
		}
		_ = verifyDSig(clamavKey, h.MD5, h.DSig) // must not panic
	})
}

// FuzzImportCVD: whatever follows a valid header, reading the container
// neither panics nor emits an unsound indicator, and an error imports
// nothing.
func FuzzImportCVD(f *testing.F) {
	f.Add(buildCVD(f, dailyMembers(), false, "", nil), false)
	f.Add(buildCVD(f, dailyMembers(), true, "", nil), true)
	f.Add(buildCVD(f, []member{{"main.hdb", hex.EncodeToString(md5Sum("x")) + ":1:PUA.X\n"}}, false, strings.Repeat("0", 32), nil), false)
	f.Add(buildCVD(f, nil, false, "", nil), false)
	// A sparse member can yield gigabytes from a few bytes: the limit
	// stops it, and a lower one keeps each run short.
	old := maxCVDUnpacked
	maxCVDUnpacked = 1 << 20
	f.Cleanup(func() { maxCVDUnpacked = old })
	f.Fuzz(func(t *testing.T, data []byte, cld bool) {
		db := &memDB{}
		res, info, err := ImportCVD(context.Background(), db, bytes.NewReader(data), "fuzz.cvd", "clamav", cld, true, nil)
		if err != nil {
			if db.committed {
				t.Fatalf("committed despite %v", err)
			}
			return
		}
		if !db.committed || len(db.added) != res.Summary.Indicators {
			t.Fatalf("committed %v, %d added, summary %+v", db.committed, len(db.added), res.Summary)
		}
		for _, ind := range db.added {
			checkIndicator(t, ind)
		}
		if !cld && !info.MD5Verified {
			t.Fatal("a .cvd imported without its MD5 checked")
		}
	})
}

// memDB is a Database that keeps one import in memory.
type memDB struct {
	added     []reputation.FileIndicator
	committed bool
}

func (m *memDB) BeginImport(context.Context, string) (store.Importer, error) {
	return memImporter{m}, nil
}

type memImporter struct{ m *memDB }

func (i memImporter) Add(ind reputation.FileIndicator) error {
	i.m.added = append(i.m.added, ind)
	return nil
}
func (i memImporter) AddURL(reputation.URLIndicator) error { return nil }
func (i memImporter) Commit() (store.ImportStats, error) {
	i.m.committed = true
	return store.ImportStats{}, nil
}
func (i memImporter) Rollback() error { return nil }
