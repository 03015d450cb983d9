package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// benchFiles is how many files a client checks in one run.
const benchFiles = 20_000

func benchDigest(r *rand.ChaCha8, alg checksum.Algorithm) []byte {
	b := make([]byte, alg.Size())
	r.Read(b)
	return b
}

// benchIndicators returns n distinct SHA-256 indicators.
func benchIndicators(seed uint64, n int) []reputation.FileIndicator {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	inds := make([]reputation.FileIndicator, n)
	for i := range inds {
		inds[i] = reputation.FileIndicator{
			Algorithm: checksum.SHA256, Digest: benchDigest(r, checksum.SHA256), Size: int64(i),
			Verdict: reputation.Malicious, ThreatName: fmt.Sprintf("Family%d", i%500), Category: "trojan",
			FirstSeen: time.Unix(1_600_000_000+int64(i), 0),
		}
	}
	return inds
}

func benchImport(b *testing.B, s *Local, source string, inds []reputation.FileIndicator) ImportStats {
	b.Helper()
	im, err := s.BeginImport(context.Background(), source)
	if err != nil {
		b.Fatal(err)
	}
	for _, ind := range inds {
		if err := im.Add(ind); err != nil {
			b.Fatal(err)
		}
	}
	st, err := im.Commit()
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkLookupFiles looks up 20,000 files (BLAKE3 and SHA-256 each)
// per operation, against the baseline alone and against 1,000,000
// indicators, of which 1% of the files are known. ns/file is the figure to
// watch.
func BenchmarkLookupFiles(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()

	baseline, err := OpenLocal(ctx, filepath.Join(dir, "baseline.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer baseline.Close()

	// The large database is built once, and only when its benchmark runs.
	const bigN = 1_000_000
	inds := benchIndicators(1, bigN)
	var big *Local
	openBig := func(b *testing.B) *Local {
		if big != nil {
			return big
		}
		s, err := OpenLocal(ctx, filepath.Join(dir, "big.db"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		st := benchImport(b, s, "feed", inds)
		el := time.Since(start)
		b.Logf("import of %d indicators: %v (%.0f rows/s), %+v", bigN, el.Round(time.Millisecond), bigN/el.Seconds(), st)
		big = s
		return s
	}
	defer func() {
		if big != nil {
			big.Close()
		}
	}()

	r := rand.NewChaCha8([32]byte{9})
	queries := make([]FileDigests, benchFiles)
	for i := range queries {
		queries[i] = FileDigests{checksum.BLAKE3: benchDigest(r, checksum.BLAKE3), checksum.SHA256: benchDigest(r, checksum.SHA256)}
		if i%100 == 0 {
			queries[i][checksum.SHA256] = inds[i*37%bigN].Digest
		}
	}

	for _, bc := range []struct {
		name string
		open func(*testing.B) *Local
	}{
		{"baseline", func(*testing.B) *Local { return baseline }},
		{"1M", openBig},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := bc.open(b)
			b.ResetTimer()
			for b.Loop() {
				res, err := s.LookupFiles(ctx, queries)
				if err != nil {
					b.Fatal(err)
				}
				if len(res) != benchFiles {
					b.Fatal("short result")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFiles), "ns/file")
		})
	}
}

// BenchmarkImport imports 100,000 new indicators per operation into a
// growing database ("new"), and re-imports the same 100,000 ("same",
// every one unchanged).
func BenchmarkImport(b *testing.B) {
	const n = 100_000
	b.Run("new", func(b *testing.B) {
		s, err := OpenLocal(context.Background(), filepath.Join(b.TempDir(), DefaultFileName))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		seed := uint64(100)
		for b.Loop() {
			b.StopTimer()
			seed++
			inds := benchIndicators(seed, n)
			b.StartTimer()
			if st := benchImport(b, s, "feed", inds); st.Added != n {
				b.Fatalf("%+v", st)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("same", func(b *testing.B) {
		s, err := OpenLocal(context.Background(), filepath.Join(b.TempDir(), DefaultFileName))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		inds := benchIndicators(7, n)
		benchImport(b, s, "feed", inds)
		for b.Loop() {
			if st := benchImport(b, s, "feed", inds); st.Unchanged != n {
				b.Fatalf("%+v", st)
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
	})
}
