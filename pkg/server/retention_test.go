package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/participation"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// clientRecords are records exactly as the client encodes them: a file, a
// link and the system record.
func clientRecords(t *testing.T, now time.Time) []api.Record {
	t.Helper()
	file, err := participation.NewFileRecord(participation.FileObservation{
		Digests: map[string]string{"blake3": emptyBLAKE3, "sha256": eicarSHA256}, Size: 68, Verdict: "malicious", HashMS: 0.042,
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	link, err := participation.NewRecord(participation.KindURL, map[string]any{
		"url": "https://secret-host.example/unique-path-segment-qx/index.html", "verdict": "unknown", "check_ms": 0.3,
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	sys := participation.CurrentSystem("v0.9.0")
	sys.OSVersion = "6.1.77-ksnuniquebuild42"
	system, err := participation.NewRecord(participation.KindSystem, sys, now)
	if err != nil {
		t.Fatal(err)
	}
	var out []api.Record
	for _, r := range []participation.Record{file, link, system} {
		out = append(out, api.Record{ID: r.ID, Kind: string(r.Kind), CreatedAt: r.CreatedAt, Body: r.Body})
	}
	return out
}

func TestStrictIngest(t *testing.T) {
	fx := newFixture(t, nil)
	good := clientRecords(t, time.Now())
	res := decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(good...)), 202)
	if res.Accepted != 3 {
		t.Fatalf("the client's own records: %+v", res)
	}
	file, link, system := string(good[0].Body), string(good[1].Body), string(good[2].Body)
	type tc struct {
		kind, body, field string // field: what the problem must name
	}
	with := func(body, old, new string) string {
		if !strings.Contains(body, old) {
			t.Fatalf("%s has no %s", body, old)
		}
		return strings.Replace(body, old, new, 1)
	}
	cases := map[string]tc{
		"file: unknown field":      {"file", with(file, `{"digests"`, `{"path":"/home/jane/x","digests"`), "body.path"},
		"file: missing verdict":    {"file", with(file, `,"verdict":"malicious"`, ``), "body.verdict"},
		"file: odd verdict":        {"file", with(file, `"malicious"`, `"evil"`), "body.verdict"},
		"file: size as text":       {"file", with(file, `"size":68`, `"size":"68"`), "body.size"},
		"file: fractional size":    {"file", with(file, `"size":68`, `"size":68.5`), "body.size"},
		"file: exponent size":      {"file", with(file, `"size":68`, `"size":6.8e1`), "body.size"},
		"file: negative size":      {"file", with(file, `"size":68`, `"size":-1`), "body.size"},
		"file: negative time":      {"file", with(file, `"hash_ms":0.042`, `"hash_ms":-0.1`), "body.hash_ms"},
		"file: time as text":       {"file", with(file, `"hash_ms":0.042`, `"hash_ms":"fast"`), "body.hash_ms"},
		"file: huge time":          {"file", with(file, `"hash_ms":0.042`, `"hash_ms":1.7e308`), "body.hash_ms"},
		"file: 1e308 ms":           {"file", with(file, `"hash_ms":0.042`, `"hash_ms":1e308`), "body.hash_ms"},
		"file: infinite time":      {"file", with(file, `"hash_ms":0.042`, `"hash_ms":1e999`), "body.hash_ms"},
		"file: minus one ms":       {"file", with(file, `"hash_ms":0.042`, `"hash_ms":-1`), "body.hash_ms"},
		"file: NaN as text":        {"file", with(file, `"hash_ms":0.042`, `"hash_ms":"NaN"`), "body.hash_ms"},
		"file: Infinity as text":   {"file", with(file, `"hash_ms":0.042`, `"hash_ms":"Infinity"`), "body.hash_ms"},
		"file: over a week":        {"file", with(file, `"hash_ms":0.042`, `"hash_ms":604800001`), "body.hash_ms"},
		"url: huge time":           {"url", jsonSet(t, link, "check_ms", 1e308), "body.check_ms"},
		"url: negative time":       {"url", jsonSet(t, link, "check_ms", -1), "body.check_ms"},
		"file: unknown digest":     {"file", with(file, `"blake3"`, `"crc32"`), "body.digests.crc32"},
		"file: short digest":       {"file", with(file, emptyBLAKE3, "abcd"), "body.digests.blake3"},
		"file: upper-case digest":  {"file", with(file, eicarSHA256, strings.ToUpper(eicarSHA256)), "body.digests.sha256"},
		"file: no sha256":          {"file", with(file, `,"sha256":"`+eicarSHA256+`"`, ``), "body.digests.sha256"},
		"file: digests as list":    {"file", with(file, `{"blake3":"`+emptyBLAKE3+`","sha256":"`+eicarSHA256+`"}`, `["x"]`), "body.digests"},
		"file: a key twice":        {"file", with(file, `"size":68`, `"size":68,"size":69`), "body.size"},
		"file: nested extra":       {"file", with(file, `"sha256"`, `"name":"x.exe","sha256"`), "body.digests.name"},
		"url: query":               {"url", with(link, `index.html`, `index.html?token=abc`), "body.url"},
		"url: fragment":            {"url", with(link, `index.html`, `index.html#me`), "body.url"},
		"url: user name":           {"url", with(link, `https://`, `https://jane@`), "body.url"},
		"url: port":                {"url", with(link, `.example/`, `.example:8443/`), "body.url"},
		"url: upper-case host":     {"url", with(link, `secret-host`, `Secret-Host`), "body.url"},
		"url: no path":             {"url", with(link, `/unique-path-segment-qx/index.html`, ``), "body.url"},
		"url: not a URL":           {"url", with(link, `https://`, ``), "body.url"},
		"url: space in path":       {"url", with(link, `index.html`, `my index.html`), "body.url"},
		"url: extra field":         {"url", with(link, `"verdict"`, `"title":"Jane's bank","verdict"`), "body.title"},
		"url: missing check_ms":    {"url", jsonDelete(t, link, "check_ms"), "body.check_ms"},
		"system: host name":        {"system", with(system, `"os"`, `"hostname":"janes-laptop","os"`), "body.hostname"},
		"system: cpus as text":     {"system", jsonSet(t, system, "cpus", "12"), "body.cpus"},
		"system: fractional cpus":  {"system", jsonSet(t, system, "cpus", 2.5), "body.cpus"},
		"system: negative memory":  {"system", jsonSet(t, system, "memory_gib", -4), "body.memory_gib"},
		"system: odd os":           {"system", jsonSet(t, system, "os", "Linux 6"), "body.os"},
		"system: empty arch":       {"system", jsonSet(t, system, "arch", ""), "body.arch"},
		"system: spaced version":   {"system", jsonSet(t, system, "os_version", "6.8 built by jane@host"), "body.os_version"},
		"system: long ksn version": {"system", jsonSet(t, system, "ksn_version", strings.Repeat("1", 65)), "body.ksn_version"},
		"system: missing os":       {"system", jsonDelete(t, system, "os"), "body.os"},
		"file body as system":      {"system", file, "body.os"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			bad := api.Record{ID: strings.Repeat("d", 32), Kind: c.kind, CreatedAt: time.Now(), Body: json.RawMessage(c.body)}
			p := problemOf(t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(rec(strings.Repeat("e", 32)), bad)), 400, api.ProblemBadRequest)
			if !strings.HasPrefix(p.Detail, "records[1]: "+c.field) {
				t.Errorf("detail %q does not name records[1] and %s", p.Detail, c.field)
			}
		})
	}
	var n int
	if err := fx.db.DB().QueryRow(`SELECT count(*) FROM sealed_submissions`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d records stored (%v), want the 3 good ones: a refused batch stores nothing", n, err)
	}
}

func jsonSet(t *testing.T, body, key string, v any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	m[key] = v
	b, _ := json.Marshal(m)
	return string(b)
}

func jsonDelete(t *testing.T, body, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, key)
	b, _ := json.Marshal(m)
	return string(b)
}

// TestSubmissionsSealedAtRest: after the server stored the client's
// records, the database file and its WAL, read as raw bytes before and
// after a checkpoint, hold no host, path or system field of them.
func TestSubmissionsSealedAtRest(t *testing.T) {
	fx := newFixture(t, nil)
	recs := clientRecords(t, time.Now())
	decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, batchOf(recs...)), 202)
	sys := participation.CurrentSystem("v0.9.0")
	secrets := []string{"secret-host.example", "secret-host", "unique-path-segment-qx", "index.html",
		"6.1.77-ksnuniquebuild42", "ksnuniquebuild42", "6.1.77", `"os_version"`, `"memory_gib"`, `"hash_ms"`, `"url"`,
		fmt.Sprintf(`"cpus":%d`, sys.CPUs), testParticipant}
	path := fx.db.Path()
	scan := func(when string) {
		t.Helper()
		read := 0
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			read += len(b)
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s: %s holds %q in clear", when, filepath.Base(f), s)
				}
			}
		}
		if read == 0 {
			t.Fatalf("%s: nothing read", when)
		}
	}
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
		t.Fatalf("no WAL (%v)", err)
	}
	scan("before the checkpoint")
	if _, err := fx.db.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	scan("after the checkpoint")
	// With the KEK, the records are there as sent.
	n := 0
	if err := fx.db.ReadSubmissions(context.Background(), func(_ string, r api.Record) error {
		for _, want := range recs {
			if r.ID == want.ID && bytes.Equal(r.Body, want.Body) && r.Kind == want.Kind {
				n++
			}
		}
		return nil
	}); err != nil || n != 3 {
		t.Errorf("%d records read back as sent (%v), want 3", n, err)
	}
}

// TestRetention runs the server on an injected clock through two
// half-years: the scheduled purge destroys the first half-year, logs it,
// and changes neither prevalence nor any other aggregate.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, nil)
	fx.clock.t = time.Date(2026, 6, 20, 10, 0, 0, 0, time.UTC)
	other := "fedcba9876543210fedcba9876543210"
	h1 := clientRecords(t, fx.clock.Now())
	send := func(participant string, recs ...api.Record) {
		t.Helper()
		b := batchOf(recs...)
		b.Participant = participant
		decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, b), 202)
	}
	send(testParticipant, h1...)
	send(other, rec(strings.Repeat("1", 32)))
	fx.clock.t = time.Date(2026, 7, 3, 10, 0, 0, 0, time.UTC)
	send(testParticipant, rec(strings.Repeat("2", 32)))

	prevalence := func() api.FileResult {
		t.Helper()
		resp := decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, lookup(map[string]string{"sha256": eicarSHA256})), 200)
		return resp.Results[0]
	}
	if p := prevalence(); p.Prevalence != 3 || p.Verdict != "malicious" {
		t.Fatalf("EICAR before the purge: %+v, want 3 participants (2 in 2026H1, 1 in 2026H2)", p)
	}
	beforeAgg, err := fx.db.Aggregates(ctx, store.AggregateOptions{Top: 10})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(beforeAgg)

	var logs syncBuffer
	r := &Retention{Store: fx.db, Grace: DefaultPurgeGrace, Now: fx.clock.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	if res, err := r.PurgeNow(ctx); err != nil || len(res.Purged) != 0 {
		t.Fatalf("purge in the grace period: %+v, %v", res, err)
	}
	fx.clock.t = time.Date(2026, 7, 8, 0, 0, 1, 0, time.UTC)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Run(runCtx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "half_year=2026H1") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if l := logs.String(); !strings.Contains(l, "purged half-year") || !strings.Contains(l, "half_year=2026H1 records=4 participant_rows=3") {
		t.Fatalf("logs:\n%s", l)
	}

	got := map[string]int{}
	if err := fx.db.ReadSubmissions(ctx, func(h string, _ api.Record) error { got[h]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got["2026H1"] != 0 || got["2026H2"] != 1 {
		t.Errorf("after the purge: %v", got)
	}
	afterAgg, err := fx.db.Aggregates(ctx, store.AggregateOptions{Top: 10})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(afterAgg); !bytes.Equal(before, after) {
		t.Errorf("aggregates changed:\n%s\n%s", before, after)
	}
	if p := prevalence(); p.Prevalence != 3 {
		t.Errorf("EICAR after the purge: %+v", p)
	}
}

// TestLookupPrevalence: an unknown file reported by participants is
// answered with how many and since when; a file no one reported has none.
func TestLookupPrevalence(t *testing.T) {
	fx := newFixture(t, nil)
	unknown := `{"digests":{"sha256":"` + unknownSHA25 + `"},"size":1,"verdict":"unknown","hash_ms":0}`
	for i, p := range []string{testParticipant, "fedcba9876543210fedcba9876543210", testParticipant} {
		r := api.Record{ID: fmt.Sprintf("%032x", i+1), Kind: "file", CreatedAt: time.Now(), Body: json.RawMessage(unknown)}
		b := batchOf(r)
		b.Participant = p
		decodeJSON[api.SubmissionResult](t, fx.do("POST", api.PathSubmissions, fx.key, b), 202)
	}
	req := lookup(map[string]string{"sha256": unknownSHA25}, map[string]string{"sha256": strings.Repeat("2", 64)}, map[string]string{"blake3": emptyBLAKE3})
	resp := decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, req), 200)
	day := fx.clock.Now().UTC().Truncate(24 * time.Hour)
	if r := resp.Results[0]; r.Verdict != "unknown" || r.Prevalence != 2 || r.FirstSeen == nil || !r.FirstSeen.Equal(day) || r.LastSeen == nil || !r.LastSeen.Equal(day) {
		t.Errorf("reported file: %+v", r)
	}
	if r := resp.Results[1]; r.Prevalence != 0 || r.FirstSeen != nil {
		t.Errorf("unreported file: %+v", r)
	}
	if r := resp.Results[2]; r.Prevalence != 0 { // prevalence is by SHA-256
		t.Errorf("BLAKE3-only query: %+v", r)
	}

	// Under MinPrevalence, nothing tells that anybody reported the file.
	fx.srv.cfg.MinPrevalence = 3
	resp = decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, req), 200)
	if r := resp.Results[0]; r.Prevalence != 0 || r.FirstSeen != nil || r.LastSeen != nil {
		t.Errorf("a file 2 participants reported, under a threshold of 3: %+v", r)
	}
	fx.srv.cfg.MinPrevalence = 2
	resp = decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, req), 200)
	if r := resp.Results[0]; r.Prevalence != 2 {
		t.Errorf("at the threshold: %+v", r)
	}
}

// TestRedactedURLsAccepted: whatever link a client redacts, the strict
// ingest takes, and keys it by the redacted host and path.
func TestRedactedURLsAccepted(t *testing.T) {
	for _, raw := range []string{
		"http://www.google.com/", "HTTP://WWW.Example.COM:8080/a/../b/./c?q=1#frag",
		"https://jane:secret@mail.example.com/inbox/jane.doe@example.com/msg",
		"http://3279880203/blah", "http://0x7f.1/", "http://[2001:db8::1]:8443/x",
		"http://bücher.example/straße", "http://example.com/%25%32%35/a b",
		"http://example.com/550e8400-e29b-41d4-a716-446655440000/download",
		"http://example.com/invoice-1234567.pdf", "http://a.b.c.d.e.f.g/1.html",
		"http://\x01\x80.com/", "http://\xc3\x28\xff.com/a", "http://example.com/~user/{x}|y^z`",
		"ftp://files.example.org/pub/", "http://example.com",
	} {
		c, err := urlcanon.Canonicalize(raw)
		if err != nil {
			t.Errorf("%q does not canonicalise: %v", raw, err)
			continue
		}
		if c.Private() {
			continue // the client keeps no record of it (0x7f.1 is 127.0.0.1)
		}
		red := urlcanon.Redact(c)
		expr, err := redactedExpression(red)
		if err != nil {
			t.Errorf("%q redacts to %q, which ingest refuses: %v", raw, red, err)
			continue
		}
		_, hostPath, _ := strings.Cut(red, "://")
		if expr != hostPath {
			t.Errorf("%q: expression %q, want %q", red, expr, hostPath)
		}
	}
}

// TestUnredactedURLsRefused: ingest takes a link only in the form the
// client's redaction leaves, so that a modified client cannot hand the
// network what the statement says is never collected.
func TestUnredactedURLsRefused(t *testing.T) {
	for _, u := range []string{
		"https://mail.example/u/jane.doe@example.com/inbox",
		"https://bank.example/reset/k9XmQ2pL",
		"https://example.com/a?token=1",
		"https://example.com/a#frag",
		"https://user:pw@example.com/",
		"https://example.com:8443/",
		"https://Example.com/",
		"https://example.com/a;jsessionid=1",
		"http://192.168.1.20/admin",
		"http://intranet/",
		"example.com/",
		"https://example.com/" + strings.Repeat("a/", 1100),
	} {
		if expr, err := redactedExpression(u); err == nil {
			t.Errorf("%q accepted as %q", u, expr)
		}
	}
}
