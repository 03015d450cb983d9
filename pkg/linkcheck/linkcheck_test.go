package linkcheck

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/reputation"
)

// fakeSource answers links whose expressions it lists, or fails.
type fakeSource struct {
	name  string
	trust reputation.Trust
	by    map[string]reputation.Result // by expression
	err   error
	delay time.Duration
	asked int
}

func (s *fakeSource) Name() string            { return s.name }
func (s *fakeSource) Trust() reputation.Trust { return s.trust }
func (s *fakeSource) LookupFiles(_ context.Context, f []reputation.FileQuery) ([]reputation.Answer, error) {
	return make([]reputation.Answer, len(f)), nil
}

func (s *fakeSource) LookupLinks(ctx context.Context, links []reputation.LinkQuery) ([]reputation.Answer, error) {
	s.asked += len(links)
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
	out := make([]reputation.Answer, len(links))
	for i, l := range links {
		a := reputation.Answer{Source: s.name, Trust: s.trust, Result: reputation.Result{Verdict: reputation.Unknown}}
		for _, e := range l.Entries {
			if r, ok := s.by[e.Expression]; ok {
				a.Result, a.Matched = r, append(a.Matched, e.Expression)
				if slices.Contains(r.Sources, reputation.OverrideSource) {
					a.Trust = reputation.TrustOverride
				}
			}
		}
		out[i] = a
	}
	return out, nil
}

type memSink struct{ links []Link }

func (m *memSink) Batch(l []Link) error { m.links = append(m.links, l...); return nil }

type memCollector struct{ n int }

func (c *memCollector) CollectLinks(l []Link) { c.n += len(l) }

func TestRun(t *testing.T) {
	phish := reputation.Result{Verdict: reputation.Malicious, ThreatName: "Phish", Sources: []string{"urlhaus"}}
	netBad := reputation.Result{Verdict: reputation.Malicious, ThreatName: "Net", Sources: []string{"network"}}
	pinned := reputation.Result{Verdict: reputation.Clean, Sources: []string{reputation.OverrideSource}}
	local := func(by map[string]reputation.Result) *fakeSource {
		return &fakeSource{name: "local", trust: reputation.TrustLocal, by: by}
	}
	net := func(by map[string]reputation.Result) *fakeSource {
		return &fakeSource{name: "network", trust: reputation.TrustNetwork, by: by}
	}
	tests := []struct {
		name     string
		links    []string
		sources  []reputation.Source
		want     []reputation.Verdict // "" for an input error
		matched  []string             // of the first link
		threats  int
		failed   int
		srcFails int
	}{
		{"local match by host", []string{"http://evil.example/a/b", "http://fine.example/"},
			[]reputation.Source{local(map[string]reputation.Result{"evil.example/": phish})},
			[]reputation.Verdict{reputation.Malicious, reputation.Unknown}, []string{"evil.example/"}, 1, 0, 0},
		{"not a link", []string{"mailto:x@y.z", "http://evil.example/"},
			[]reputation.Source{local(map[string]reputation.Result{"evil.example/": phish})},
			[]reputation.Verdict{"", reputation.Malicious}, nil, 1, 1, 0},
		{"the network fills an unknown and adds its match", []string{"http://new.example/x"},
			[]reputation.Source{local(nil), net(map[string]reputation.Result{"new.example/x": netBad})},
			[]reputation.Verdict{reputation.Malicious}, []string{"new.example/x"}, 1, 0, 0},
		{"two sources disagree: the override is final", []string{"http://evil.example/"},
			[]reputation.Source{local(map[string]reputation.Result{"evil.example/": pinned}), net(map[string]reputation.Result{"evil.example/": netBad})},
			[]reputation.Verdict{reputation.Clean}, []string{"evil.example/"}, 0, 0, 0},
		{"a failing network leaves local verdicts", []string{"http://evil.example/"},
			[]reputation.Source{local(map[string]reputation.Result{"evil.example/": phish}), &fakeSource{name: "network", trust: reputation.TrustNetwork, err: errors.New("refused")}},
			[]reputation.Verdict{reputation.Malicious}, []string{"evil.example/"}, 1, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, col := &memSink{}, &memCollector{}
			sum, err := Run(context.Background(), Options{Links: tt.links, FailOn: reputation.Malicious},
				Config{Sources: tt.sources, Sink: sink, Collector: col})
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range sink.links {
				if l.Result.Verdict != tt.want[i] {
					t.Errorf("link %d %q: verdict %q, want %q", i, l.Input, l.Result.Verdict, tt.want[i])
				}
			}
			if !slices.Equal(sink.links[0].Matched, tt.matched) {
				t.Errorf("matched %v, want %v", sink.links[0].Matched, tt.matched)
			}
			if sum.Threats != tt.threats || sum.Failed != tt.failed || len(sum.SourceErrors) != tt.srcFails || col.n != len(tt.links) {
				t.Errorf("summary %+v, collected %d", sum, col.n)
			}
		})
	}
}

// TestRunOverrideIsNotSentOn: a link an override settled is not given to
// the network at all, not even as prefixes.
func TestRunOverrideIsNotSentOn(t *testing.T) {
	local := &fakeSource{name: "local", trust: reputation.TrustLocal,
		by: map[string]reputation.Result{"pinned.example/": {Verdict: reputation.Clean, Sources: []string{reputation.OverrideSource}}}}
	net := &fakeSource{name: "network", trust: reputation.TrustNetwork}
	_, err := Run(context.Background(), Options{Links: []string{"http://pinned.example/", "http://other.example/"}},
		Config{Sources: []reputation.Source{local, net}, Sink: &memSink{}})
	if err != nil || net.asked != 1 {
		t.Fatalf("err %v; the network was asked about %d links, want 1", err, net.asked)
	}
}

// TestRunSlowSourceCancelled: a source still answering when the context
// ends is a source error; local verdicts are delivered.
func TestRunSlowSourceCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	local := &fakeSource{name: "local", trust: reputation.TrustLocal}
	slow := &fakeSource{name: "network", trust: reputation.TrustNetwork, delay: time.Hour}
	sink := &memSink{}
	sum, err := Run(ctx, Options{Links: []string{"http://a.example/"}}, Config{Sources: []reputation.Source{local, slow}, Sink: sink})
	if err != nil || len(sink.links) != 1 || len(sum.SourceErrors) != 1 || !errors.Is(sum.SourceErrors[0].Err, context.DeadlineExceeded) {
		t.Fatalf("err %v, %d links, source errors %v", err, len(sink.links), sum.SourceErrors)
	}
	if !slices.Equal(sink.links[0].Unanswered, []string{"network"}) {
		t.Fatalf("unanswered %v", sink.links[0].Unanswered)
	}
}

// TestRunLocalFailureEndsRun: without local verdicts there is nothing to
// report.
func TestRunLocalFailureEndsRun(t *testing.T) {
	local := &fakeSource{name: "local", trust: reputation.TrustLocal, err: errors.New("locked")}
	sink := &memSink{}
	if _, err := Run(context.Background(), Options{Links: []string{"http://a.example/"}}, Config{Sources: []reputation.Source{local}, Sink: sink}); err == nil || len(sink.links) != 0 {
		t.Fatalf("err %v, %d links delivered", err, len(sink.links))
	}
}
