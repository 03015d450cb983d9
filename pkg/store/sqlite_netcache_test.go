package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
)

func TestNetworkCache(t *testing.T) {
	ctx := context.Background()
	s, err := OpenLocal(ctx, filepath.Join(t.TempDir(), DefaultFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := make([]byte, 32), make([]byte, 32)
	a[0], b[0] = 1, 2
	now := time.Unix(1_800_000_000, 0)
	if err := s.CacheVerdicts(ctx, map[string]api.FileResult{string(a): {Verdict: "malicious", Threat: "X", Prevalence: 3}}, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		at   time.Time
		want int
	}{
		{"fresh", now.Add(59 * time.Minute), 1},
		{"expired", now.Add(61 * time.Minute), 0},
	}
	for _, c := range cases {
		got, err := s.CachedVerdicts(ctx, [][]byte{a, b}, c.at)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want {
			t.Fatalf("%s: %d hits, want %d", c.name, len(got), c.want)
		}
		if c.want == 1 && (got[string(a)].Threat != "X" || got[string(a)].Prevalence != 3) {
			t.Fatalf("%s: got %+v", c.name, got[string(a)])
		}
	}
	// A newer answer replaces the old one.
	if err := s.CacheVerdicts(ctx, map[string]api.FileResult{string(a): {Verdict: "clean"}}, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, _ := s.CachedVerdicts(ctx, [][]byte{a}, now)
	if got[string(a)].Verdict != "clean" {
		t.Fatalf("after replacing: %+v", got)
	}
}
