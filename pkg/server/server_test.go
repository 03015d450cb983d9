package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/seal"
	"github.com/ksnproject/ksn/pkg/statement"
	"github.com/ksnproject/ksn/pkg/store"
)

const (
	eicarSHA256  = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	emptyBLAKE3  = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
	unknownSHA25 = "1111111111111111111111111111111111111111111111111111111111111111"
	emptySHA256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// clock is a settable clock for rate limits, expiry and the restriction.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a bytes.Buffer the handler's logger and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

type fixture struct {
	t     *testing.T
	db    *store.Server
	srv   *Server
	clock *clock
	key   string
	lic   store.License
	logs  *syncBuffer
}

func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenServer(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.UnlockSubmissions(ctx, seal.Key{42}); err != nil {
		t.Fatal(err)
	}
	key, _, err := db.CreateLicense(ctx, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Seats for the several test installations some tests send from.
	lic, err := db.SetLicenseSeats(ctx, key, 10)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, db: db, key: key, lic: lic, logs: &syncBuffer{},
		clock: &clock{t: time.Now().Add(time.Hour)}}
	cfg := Config{
		Store:  db,
		Logger: slog.New(slog.NewTextHandler(fx.logs, nil)),
		Now:    fx.clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	fx.srv = New(cfg)
	return fx
}

// do sends a request to the handler; body may be a string or a value to
// marshal. key "" sends no Authorization header.
func (fx *fixture) do(method, path, key string, body any) *httptest.ResponseRecorder {
	fx.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			fx.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	fx.srv.ServeHTTP(w, req)
	return w
}

// problemOf checks that w is a problem document of the given status and
// type and returns it.
func problemOf(t *testing.T, w *httptest.ResponseRecorder, status int, typ string) api.Problem {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != api.ProblemContentType {
		t.Errorf("Content-Type %q, want %q", ct, api.ProblemContentType)
	}
	var p api.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", w.Body, err)
	}
	if p.Type != typ || p.Status != status {
		t.Errorf("problem %+v, want type %s status %d", p, typ, status)
	}
	return p
}

func decodeJSON[T any](t *testing.T, w *httptest.ResponseRecorder, status int) T {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return v
}

func lookup(digests ...map[string]string) api.FileLookupRequest {
	var req api.FileLookupRequest
	for _, d := range digests {
		req.Items = append(req.Items, api.FileQuery{Digests: d})
	}
	return req
}

func TestHealthAndStatementNeedNoKey(t *testing.T) {
	fx := newFixture(t, nil)
	if w := fx.do("GET", api.PathHealth, "", nil); w.Code != 200 || w.Body.String() != "ok\n" {
		t.Errorf("healthz: %d %q", w.Code, w.Body)
	}
	st := decodeJSON[api.Statement](t, fx.do("GET", api.PathStatement, "", nil), 200)
	b := statement.Builtin()
	if st.ID != b.ID || st.SHA256 != b.SHA256 || st.Text != b.Text {
		t.Errorf("statement %+v, want the built-in one", st)
	}
}

func TestCustomStatement(t *testing.T) {
	want := statement.New("", "custom\n", "server")
	fx := newFixture(t, func(c *Config) { c.Statement = want })
	st := decodeJSON[api.Statement](t, fx.do("GET", api.PathStatement, "", nil), 200)
	if st.ID != want.ID || st.Text != "custom\n" {
		t.Errorf("statement %+v", st)
	}
	status := decodeJSON[api.Status](t, fx.do("GET", api.PathStatus, fx.key, nil), 200)
	if status.Statement.ID != want.ID || status.Statement.SHA256 != want.SHA256 {
		t.Errorf("status names statement %+v, want %s", status.Statement, want.ID)
	}
}

func TestAuth(t *testing.T) {
	fx := newFixture(t, nil)
	ctx := context.Background()

	w := fx.do("GET", api.PathStatus, "", nil)
	problemOf(t, w, 401, api.ProblemNotActivated)
	if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: Bearer")
	}
	problemOf(t, fx.do("GET", api.PathStatus, "ksn_nosuchkey", nil), 401, api.ProblemNotActivated)
	req := httptest.NewRequest("GET", api.PathStatus, nil)
	req.Header.Set("Authorization", "Basic "+fx.key)
	w = httptest.NewRecorder()
	fx.srv.ServeHTTP(w, req)
	problemOf(t, w, 401, api.ProblemNotActivated)

	st := decodeJSON[api.Status](t, fx.do("GET", api.PathStatus, fx.key, nil), 200)
	if st.License.State != "valid" || st.License.Label != "test" || st.FileReputation != "available" ||
		st.Limits.MaxBatch != api.MaxBatch || st.Limits.Burst != DefaultBurst || st.Limits.ItemsPerSecond != DefaultRate ||
		st.Limits.MaxBodyBytes != DefaultMaxBodyBytes || st.Limits.CacheTTLSeconds != 3600 ||
		st.Limits.SubmitPerSecond != DefaultSubmitRate || st.Limits.SubmitBurst != DefaultSubmitBurst {
		t.Errorf("status %+v", st)
	}

	// Expired: the server's clock passes the expiry.
	exp := fx.clock.Now().Add(time.Hour)
	expKey, _, err := fx.db.CreateLicense(ctx, "short", &exp)
	if err != nil {
		t.Fatal(err)
	}
	decodeJSON[api.Status](t, fx.do("GET", api.PathStatus, expKey, nil), 200)
	fx.clock.Add(2 * time.Hour)
	problemOf(t, fx.do("POST", api.PathLookupFiles, expKey, lookup(map[string]string{"sha256": eicarSHA256})), 403, api.ProblemLicenseExpired)

	// Denylisted, even when also expired. A license is read at most once
	// a second: a revocation takes effect within one.
	if _, err := fx.db.RevokeLicense(ctx, expKey); err != nil {
		t.Fatal(err)
	}
	fx.clock.Add(licenseCheckEvery)
	problemOf(t, fx.do("GET", api.PathStatus, expKey, nil), 403, api.ProblemLicenseDenylisted)
	decodeJSON[api.Status](t, fx.do("GET", api.PathStatus, fx.key, nil), 200)
	if _, err := fx.db.RevokeLicense(ctx, fx.key); err != nil {
		t.Fatal(err)
	}
	decodeJSON[api.Status](t, fx.do("GET", api.PathStatus, fx.key, nil), 200) // read within the second
	fx.clock.Add(licenseCheckEvery)
	problemOf(t, fx.do("POST", api.PathSubmissions, fx.key, api.SubmissionBatch{Participant: testParticipant}), 403, api.ProblemLicenseDenylisted)

	if logs := fx.logs.String(); strings.Contains(logs, fx.key) || strings.Contains(logs, expKey) {
		t.Errorf("a key is in the logs:\n%s", logs)
	}
}

func TestLookupFiles(t *testing.T) {
	fx := newFixture(t, nil)
	req := lookup(
		map[string]string{"sha256": unknownSHA25},
		map[string]string{"sha256": eicarSHA256},
		map[string]string{"blake3": emptyBLAKE3, "sha256": emptySHA256},
		map[string]string{"sha256": eicarSHA256},
	)
	resp := decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, req), 200)
	var got []string
	for _, r := range resp.Results {
		got = append(got, r.Verdict)
	}
	if want := "unknown malicious clean malicious"; strings.Join(got, " ") != want {
		t.Fatalf("verdicts %v, want %s", got, want)
	}
	m := resp.Results[1]
	if m.Threat != "EICAR-Test-File" || m.Category != "test" || len(m.Sources) != 1 || m.Sources[0] != "baseline" || m.FirstSeen == nil {
		t.Errorf("EICAR result %+v", m)
	}

	// An override wins, and the server sees it at once.
	if err := fx.db.SetOverride(context.Background(), reputation.FileIndicator{
		Algorithm: "sha256", Digest: mustHex(t, unknownSHA25), Size: -1, Verdict: reputation.Suspicious, ThreatName: "Local.PUA",
	}); err != nil {
		t.Fatal(err)
	}
	resp = decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, req), 200)
	if r := resp.Results[0]; r.Verdict != "suspicious" || r.Threat != "Local.PUA" {
		t.Errorf("overridden result %+v", r)
	}

	empty := decodeJSON[api.FileLookupResponse](t, fx.do("POST", api.PathLookupFiles, fx.key, api.FileLookupRequest{}), 200)
	if len(empty.Results) != 0 {
		t.Errorf("empty batch: %+v", empty)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	var b []byte
	if _, err := fmt.Sscanf(s, "%x", &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLookupFilesBadInput(t *testing.T) {
	fx := newFixture(t, func(c *Config) { c.MaxBodyBytes = 64 << 10 })
	for name, body := range map[string]any{
		"malformed JSON": `{"items": [`,
		"empty body":     ``,
		"trailing data":  `{"items": []} {}`,
		"wrong type":     `{"items": {}}`,
		"no digests":     lookup(map[string]string{}),
		"short digest":   lookup(map[string]string{"sha256": "abcd"}),
		"not hex":        lookup(map[string]string{"sha256": strings.Repeat("z", 64)}),
		"unknown alg":    lookup(map[string]string{"sha3": eicarSHA256}),
	} {
		t.Run(name, func(t *testing.T) {
			p := problemOf(t, fx.do("POST", api.PathLookupFiles, fx.key, body), 400, api.ProblemBadRequest)
			if p.Detail == "" {
				t.Error("400 without a message")
			}
		})
	}
	t.Run("too many items", func(t *testing.T) {
		items := make([]map[string]string, api.MaxBatch+1)
		for i := range items {
			items[i] = map[string]string{"md5": "00000000000000000000000000000000"}
		}
		fx := newFixture(t, nil)
		problemOf(t, fx.do("POST", api.PathLookupFiles, fx.key, lookup(items...)), 413, api.ProblemTooLarge)
	})
	t.Run("body too large", func(t *testing.T) {
		big := `{"items": [` + strings.Repeat(" ", 64<<10) + `]}`
		problemOf(t, fx.do("POST", api.PathLookupFiles, fx.key, big), 413, api.ProblemTooLarge)
	})
}

// testParticipant is a participant code as participation.ParticipantCode
// makes them.
const testParticipant = "0123456789abcdef0123456789abcdef"

// fileBody is a file record's body as pkg/participation encodes it.
const fileBody = `{"digests":{"blake3":"` + emptyBLAKE3 + `","sha256":"` + eicarSHA256 + `"},"size":68,"verdict":"malicious","hash_ms":0.25}`

func rec(id string) api.Record {
	return api.Record{ID: id, Kind: "file", CreatedAt: time.Unix(1700000000, 0).UTC(), Body: json.RawMessage(fileBody)}
}

func batchOf(recs ...api.Record) api.SubmissionBatch {
	return api.SubmissionBatch{Participant: testParticipant, Records: recs}
}

// failingStore fails or panics on demand.
type failingStore struct {
	store.ServerStore
	lookupErr error
	panics    bool
}

func (f *failingStore) LookupFiles(ctx context.Context, files []store.FileDigests) ([]reputation.Result, error) {
	if f.panics {
		panic("boom")
	}
	if f.lookupErr != nil {
		return nil, f.lookupErr
	}
	return f.ServerStore.LookupFiles(ctx, files)
}

func TestInternalErrors(t *testing.T) {
	fs := &failingStore{}
	fx := newFixture(t, func(c *Config) { fs.ServerStore = c.Store; c.Store = fs })
	req := lookup(map[string]string{"sha256": eicarSHA256})

	fs.panics = true
	p := problemOf(t, fx.do("POST", api.PathLookupFiles, fx.key, req), 500, api.ProblemInternal)
	if strings.Contains(p.Detail, "boom") {
		t.Errorf("panic value sent to the client: %+v", p)
	}
	if !strings.Contains(fx.logs.String(), "boom") {
		t.Errorf("panic not logged:\n%s", fx.logs)
	}

	fs.panics = false
	fs.lookupErr = errors.New("disk on fire at /srv/secret/path")
	p = problemOf(t, fx.do("POST", api.PathLookupFiles, fx.key, req), 500, api.ProblemInternal)
	if strings.Contains(p.Detail, "secret") {
		t.Errorf("store error sent to the client: %+v", p)
	}

	fs.lookupErr = fmt.Errorf("lookup: %w", context.DeadlineExceeded)
	w := fx.do("POST", api.PathLookupFiles, fx.key, req)
	problemOf(t, w, 503, api.ProblemInternal)
	if w.Header().Get("Retry-After") == "" {
		t.Error("timeout without Retry-After")
	}
}

func TestNotFoundAndMethod(t *testing.T) {
	fx := newFixture(t, nil)
	problemOf(t, fx.do("GET", "/v1/nothing", fx.key, nil), 404, problemNotFound)
	w := fx.do("GET", api.PathLookupFiles, fx.key, nil)
	problemOf(t, w, 405, problemMethodNotAllowed)
	if w.Header().Get("Allow") != "POST" {
		t.Errorf("Allow %q, want POST", w.Header().Get("Allow"))
	}
}
