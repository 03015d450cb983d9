package sources

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/untrusted"
)

// recorded reads an answer from testdata/sources.
func recorded(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sources", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fake is a service over real HTTP that answers with handle and keeps
// every request it got.
type fake struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body string)) *fake {
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		f.body = append(f.body, string(b))
		f.mu.Unlock()
		handle(w, r, string(b))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.reqs) }

// serve answers status with a recorded body (none when file is "").
func serve(t *testing.T, status int, file string) func(http.ResponseWriter, *http.Request, string) {
	var b []byte
	if file != "" {
		b = recorded(t, file)
	}
	return func(w http.ResponseWriter, _ *http.Request, _ string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(b)
	}
}

func fileOf(content string) reputation.FileQuery {
	s := sha256.Sum256([]byte(content))
	return reputation.FileQuery{Digests: checksum.Digests{checksum.SHA256: s[:]}, Size: int64(len(content))}
}

func hexOf(content string) string {
	s := sha256.Sum256([]byte(content))
	return hex.EncodeToString(s[:])
}

var fixedNow = time.Date(2026, 3, 1, 15, 30, 0, 0, time.UTC)

func opts(f *fake, key string) PublicOptions {
	return PublicOptions{BaseURL: f.URL, Key: key, UserAgent: "ksn-test", Now: func() time.Time { return fixedNow }}
}

// checkPublicError asserts a batch failed with reason and exit code.
func checkPublicError(t *testing.T, err error, reason string, code exitcode.Code) *Error {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) || pe.Reason != reason || pe.ExitCode() != code || pe.Hint() == "" {
		t.Fatalf("error %v, want %s (exit %d)", err, reason, code)
	}
	return pe
}

// checkClean holds for every string a public source hands on: escaped.
func checkClean(t testing.TB, r reputation.Result) {
	t.Helper()
	for _, s := range append([]string{r.ThreatName, r.Category}, r.Sources...) {
		if untrusted.Text(s, 0) != s {
			t.Fatalf("unescaped text %q in %+v", s, r)
		}
	}
	switch r.Verdict {
	case reputation.Malicious, reputation.Suspicious, reputation.Clean, reputation.Unknown:
	default:
		t.Fatalf("verdict %q", r.Verdict)
	}
}

// A network source never lowers a local detection: Combine keeps the
// local verdict and shows the source's as a disagreement.
func checkCannotLower(t *testing.T, a reputation.Answer) {
	t.Helper()
	local := reputation.Answer{Source: LocalName, Trust: reputation.TrustLocal,
		Result: reputation.Result{Verdict: reputation.Malicious, ThreatName: "Local.Detection", Sources: []string{"malwarebazaar-recent"}}}
	res := reputation.Combine([]reputation.Answer{local, a})
	if res.Verdict != reputation.Malicious || res.ThreatName != "Local.Detection" {
		t.Fatalf("%s's %s answer changed a local detection: %+v", a.Source, a.Verdict, res)
	}
	if a.Verdict != reputation.Unknown && a.Verdict != reputation.Malicious &&
		(len(res.Disagreements) != 1 || res.Disagreements[0].Source != a.Source) {
		t.Fatalf("the lower answer is not shown as a disagreement: %+v", res)
	}
}

func TestPublicErrorText(t *testing.T) {
	e := &Error{Source: "opentip", Reason: ReasonRateLimited, Err: errors.New("its request quota is spent (HTTP 403)"), Until: NextUTCDay(fixedNow)}
	if got := e.Error(); got != "opentip: rate-limited: its request quota is spent (HTTP 403); not asking it before 2026-03-02 00:00:00 UTC" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&Error{Source: "x", Reason: ReasonKeyRejected}).Hint(); !strings.Contains(got, "ksn source enable x --key-file") {
		t.Errorf("Hint() = %q", got)
	}
}

// decodeJSON is for fakes that read a request body.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("request body %q: %v", s, err)
	}
}
