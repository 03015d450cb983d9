package check

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// fakeSource answers files from a table keyed by hex SHA-256, or fails.
type fakeSource struct {
	name    string
	trust   reputation.Trust
	results map[string]reputation.Result
	err     error         // returned by every lookup
	delay   time.Duration // before answering, unless the context ends first
	asked   int           // files asked about
	calls   int
}

func (s *fakeSource) Name() string            { return s.name }
func (s *fakeSource) Trust() reputation.Trust { return s.trust }

func (s *fakeSource) LookupFiles(ctx context.Context, files []reputation.FileQuery) ([]reputation.Answer, error) {
	s.calls++
	s.asked += len(files)
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	out := make([]reputation.Answer, len(files))
	for i, f := range files {
		r, ok := s.results[f.Digests.Hex(checksum.SHA256)]
		if !ok {
			r = reputation.Result{Verdict: reputation.Unknown}
		}
		trust := s.trust
		if slices.Contains(r.Sources, reputation.OverrideSource) {
			trust = reputation.TrustOverride // as the local database marks an override's answer
		}
		out[i] = reputation.Answer{Source: s.name, Trust: trust, Result: r}
	}
	return out, nil
}

func (s *fakeSource) LookupLinks(_ context.Context, links []reputation.LinkQuery) ([]reputation.Answer, error) {
	return make([]reputation.Answer, len(links)), nil
}

// memSink keeps what a run delivered.
type memSink struct {
	items   []Item
	batches int
}

func (m *memSink) Batch(items []Item) error {
	m.batches++
	m.items = append(m.items, items...)
	return nil
}

// memCollector keeps what a run collected.
type memCollector struct{ items, flushes int }

func (c *memCollector) CollectFiles(items []Item) { c.items += len(items) }
func (c *memCollector) Flush()                    { c.flushes++ }

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// files writes name → content files and returns their paths in order.
func files(t *testing.T, contents ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, c := range contents {
		p := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func local(results map[string]reputation.Result) *fakeSource {
	return &fakeSource{name: "local", trust: reputation.TrustLocal, results: results}
}

func network(results map[string]reputation.Result) *fakeSource {
	return &fakeSource{name: "network", trust: reputation.TrustNetwork, results: results}
}

func TestRun(t *testing.T) {
	mal := reputation.Result{Verdict: reputation.Malicious, ThreatName: "Trojan.X", Sources: []string{"feed"}}
	pua := reputation.Result{Verdict: reputation.Suspicious, ThreatName: "PUA.Y", Sources: []string{"feed"}}
	netMal := reputation.Result{Verdict: reputation.Malicious, ThreatName: "Net.Only", Sources: []string{"network"}}
	override := reputation.Result{Verdict: reputation.Clean, Sources: []string{"feed", reputation.OverrideSource}}

	tests := []struct {
		name     string
		contents []string
		missing  bool // add a path that does not exist
		failOn   reputation.Verdict
		sources  func() []reputation.Source
		want     []reputation.Verdict // per input; "" for an unreadable one
		threats  int
		failures []string // sources that failed
		unanswer []string // Unanswered of the first hashed item
	}{
		{
			name: "local verdicts", contents: []string{"bad", "adware", "fine"}, failOn: reputation.Malicious,
			sources: func() []reputation.Source {
				return []reputation.Source{local(map[string]reputation.Result{sha("bad"): mal, sha("adware"): pua})}
			},
			want: []reputation.Verdict{reputation.Malicious, reputation.Suspicious, reputation.Unknown}, threats: 1,
		},
		{
			name: "suspicious at the bar", contents: []string{"adware"}, failOn: reputation.Suspicious,
			sources: func() []reputation.Source {
				return []reputation.Source{local(map[string]reputation.Result{sha("adware"): pua})}
			},
			want: []reputation.Verdict{reputation.Suspicious}, threats: 1,
		},
		{
			name: "unreadable input counted, not looked up", contents: []string{"bad"}, missing: true, failOn: reputation.Malicious,
			sources: func() []reputation.Source {
				return []reputation.Source{local(map[string]reputation.Result{sha("bad"): mal})}
			},
			want: []reputation.Verdict{reputation.Malicious, ""}, threats: 1,
		},
		{
			name: "the network fills an unknown", contents: []string{"vendor"}, failOn: reputation.Malicious,
			sources: func() []reputation.Source {
				return []reputation.Source{local(nil), network(map[string]reputation.Result{sha("vendor"): netMal})}
			},
			want: []reputation.Verdict{reputation.Malicious}, threats: 1,
		},
		{
			name: "two sources that disagree: the override is final", contents: []string{"bad"}, failOn: reputation.Malicious,
			sources: func() []reputation.Source {
				return []reputation.Source{local(map[string]reputation.Result{sha("bad"): override}), network(map[string]reputation.Result{sha("bad"): netMal})}
			},
			want: []reputation.Verdict{reputation.Clean},
		},
		{
			name: "a network source that fails leaves the local verdicts", contents: []string{"bad", "fine"}, failOn: reputation.Malicious,
			sources: func() []reputation.Source {
				n := network(nil)
				n.err = errors.New("connection refused")
				return []reputation.Source{local(map[string]reputation.Result{sha("bad"): mal}), n}
			},
			want: []reputation.Verdict{reputation.Malicious, reputation.Unknown}, threats: 1,
			failures: []string{"network"}, unanswer: []string{"network"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paths := files(t, tt.contents...)
			if tt.missing {
				paths = append(paths, filepath.Join(t.TempDir(), "nope"))
			}
			sink := &memSink{}
			sum, err := Run(context.Background(), Options{Inputs: Args(paths), FailOn: tt.failOn}, Config{Sources: tt.sources(), Sink: sink})
			if err != nil {
				t.Fatal(err)
			}
			if len(sink.items) != len(tt.want) {
				t.Fatalf("%d items, want %d", len(sink.items), len(tt.want))
			}
			for i, it := range sink.items {
				if it.Path != paths[i] {
					t.Errorf("item %d is %s, want %s (input order)", i, it.Path, paths[i])
				}
				if got := it.Reputation.Verdict; got != tt.want[i] {
					t.Errorf("item %d verdict %q, want %q", i, got, tt.want[i])
				}
			}
			if sum.Files != len(paths) || sum.Threats != tt.threats {
				t.Errorf("summary %+v, want %d files and %d threats", sum, len(paths), tt.threats)
			}
			var failed []string
			for _, e := range sum.SourceErrors {
				failed = append(failed, e.Source)
			}
			if !slices.Equal(failed, tt.failures) {
				t.Errorf("failed sources %v, want %v", failed, tt.failures)
			}
			if !slices.Equal(sink.items[0].Unanswered, tt.unanswer) {
				t.Errorf("unanswered %v, want %v", sink.items[0].Unanswered, tt.unanswer)
			}
		})
	}
}

// TestRunOverrideIsNotSentOn: once an override settled a file, no later
// source is asked about it.
func TestRunOverrideIsNotSentOn(t *testing.T) {
	paths := files(t, "pinned", "other")
	net := network(nil)
	loc := local(map[string]reputation.Result{sha("pinned"): {Verdict: reputation.Suspicious, Sources: []string{reputation.OverrideSource}}})
	if _, err := Run(context.Background(), Options{Inputs: Args(paths)}, Config{Sources: []reputation.Source{loc, net}, Sink: &memSink{}}); err != nil {
		t.Fatal(err)
	}
	if net.asked != 1 {
		t.Fatalf("the network was asked about %d files, want only the one without an override", net.asked)
	}
}

// TestRunFailedSourceNotAskedAgain: a source that failed is left for the
// rest of the run, and the local source's failure ends the run.
func TestRunFailedSourceNotAskedAgain(t *testing.T) {
	contents := make([]string, 3*lookupBatch)
	for i := range contents {
		contents[i] = fmt.Sprint(i)
	}
	paths := files(t, contents...)
	net := network(nil)
	net.err = errors.New("boom")
	sink := &memSink{}
	sum, err := Run(context.Background(), Options{Inputs: Args(paths)}, Config{Sources: []reputation.Source{local(nil), net}, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if net.calls != 1 || len(sum.SourceErrors) != 1 || sink.batches < 3 {
		t.Fatalf("network asked %d times over %d batches, errors %v: want once", net.calls, sink.batches, sum.SourceErrors)
	}

	loc := local(nil)
	loc.err = errors.New("database is locked")
	_, err = Run(context.Background(), Options{Inputs: Args(paths)}, Config{Sources: []reputation.Source{loc}, Sink: &memSink{}})
	if err == nil || err.Error() != "database is locked" {
		t.Fatalf("err %v: a failing local source must end the run", err)
	}
}

// TestRunSlowSourceCancelled: a source still answering when the context
// ends fails with the context's error; the run returns, and the hashing
// side is not left blocked.
func TestRunSlowSourceCancelled(t *testing.T) {
	paths := files(t, "a", "b")
	slow := network(nil)
	slow.delay = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	var sum Summary
	go func() {
		defer close(done)
		sum, _ = Run(ctx, Options{Inputs: Args(paths)}, Config{Sources: []reputation.Source{local(nil), slow}, Sink: &memSink{}})
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after its context ended")
	}
	if len(sum.SourceErrors) != 1 || !errors.Is(sum.SourceErrors[0].Err, context.DeadlineExceeded) {
		t.Fatalf("source errors %v, want the slow source's deadline", sum.SourceErrors)
	}
}

// TestRunNetworkJoinsLate: the network's sources and collector are opened
// on the lookup side and used for every batch.
func TestRunNetworkJoinsLate(t *testing.T) {
	paths := files(t, "vendor", "x")
	net := network(map[string]reputation.Result{sha("vendor"): {Verdict: reputation.Malicious, Sources: []string{"network"}}})
	col := &memCollector{}
	sink := &memSink{}
	sum, err := Run(context.Background(), Options{Inputs: Args(paths), FailOn: reputation.Malicious}, Config{
		Sources: []reputation.Source{local(nil)}, Sink: sink,
		Network: func(context.Context) ([]reputation.Source, Collector) { return []reputation.Source{net}, col },
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Threats != 1 || col.items != 2 || col.flushes == 0 {
		t.Fatalf("threats %d, collected %d, flushes %d", sum.Threats, col.items, col.flushes)
	}
}

// TestRunAlgorithmsFromSources: a source keyed by MD5 has MD5 computed.
func TestRunAlgorithmsFromSources(t *testing.T) {
	paths := files(t, "x")
	sink := &memSink{}
	src := &md5Source{fakeSource: local(nil)}
	if _, err := Run(context.Background(), Options{Inputs: Args(paths), Algorithms: []Algorithm{checksum.SHA256}}, Config{Sources: []reputation.Source{src}, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	if _, ok := sink.items[0].Digests[checksum.MD5]; !ok {
		t.Fatalf("digests %v lack the MD5 the source is keyed by", sink.items[0].Digests)
	}
}

type md5Source struct{ *fakeSource }

func (md5Source) Algorithms(context.Context) ([]checksum.Algorithm, error) {
	return []checksum.Algorithm{checksum.MD5}, nil
}

// TestRunStatCache: a second run answers unchanged files from the stat
// cache, counts them apart, still looks every one up, and collects records
// of hashed files only; a damaged cache is reported and rebuilt.
func TestRunStatCache(t *testing.T) {
	later := time.Now().Add(time.Hour) // files written now are long unchanged by then
	cacheOptions.Now = func() time.Time { return later }
	defer func() { cacheOptions.Now = nil }()
	paths := files(t, "bad", "x", "y")
	dir := filepath.Dir(paths[0])
	cache := filepath.Join(t.TempDir(), "statcache")
	mal := reputation.Result{Verdict: reputation.Malicious, Sources: []string{"feed"}}
	steps := []struct {
		name               string
		before             func()
		rehash             bool
		hashed, unchanged  int
		collected, warning int
	}{
		{"first run", nil, false, 3, 0, 3, 0},
		{"unchanged", nil, false, 0, 3, 0, 0},
		{"one file touched", func() { later = later.Add(time.Hour); must(t, os.Chtimes(paths[1], later, later)) }, false, 1, 2, 1, 0},
		{"--rehash", nil, true, 3, 0, 3, 0},
		{"damaged cache", func() { must(t, os.WriteFile(cache, []byte("garbage"), 0o600)) }, false, 3, 0, 3, 1},
		{"rebuilt", nil, false, 0, 3, 0, 0},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		later = later.Add(time.Minute)
		src := local(map[string]reputation.Result{sha("bad"): mal})
		col := &memCollector{}
		var warnings []string
		sum, err := Run(context.Background(), Options{Inputs: Args([]string{dir}), Recursive: true, StatCache: NewStatCache(cache), Rehash: s.rehash, FailOn: reputation.Malicious},
			Config{Sources: []reputation.Source{src}, Sink: &memSink{}, Warn: func(m string) { warnings = append(warnings, m) },
				Network: func(context.Context) ([]reputation.Source, Collector) { return nil, col }})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Hashed != s.hashed || sum.Unchanged != s.unchanged || col.items != s.collected || len(warnings) != s.warning {
			t.Errorf("%s: %d hashed, %d unchanged, %d collected, warnings %q; want %d, %d, %d, %d warning(s)",
				s.name, sum.Hashed, sum.Unchanged, col.items, warnings, s.hashed, s.unchanged, s.collected, s.warning)
		}
		if sum.Threats != 1 || src.asked != 3 {
			t.Errorf("%s: %d threats, %d files looked up: every file is looked up every time", s.name, sum.Threats, src.asked)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
