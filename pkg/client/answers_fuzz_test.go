package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/ksnproject/ksn/pkg/api"
)

// answerTransport answers every request with one canned response.
type answerTransport struct {
	status      int
	ctype, wait string
	body        []byte
}

func (a answerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h := http.Header{}
	h.Set("Content-Type", a.ctype)
	if a.wait != "" {
		h.Set("Retry-After", a.wait)
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(bytes.NewReader(a.body)), Request: r}, nil
}

// FuzzAnswers: whatever a server (or what stands in its place) answers to
// each call, the client neither panics nor takes it for more than it is:
// a success keeps the API's promises (one file result per item, sums that
// add up), and a failure is an *Error with an exit code of the network's
// (4 to 7) and a wait within bounds.
func FuzzAnswers(f *testing.F) {
	f.Add(uint8(0), 200, "application/json", "", []byte(`{"license":{"state":"valid"},"limits":{"max_batch":10}}`))
	f.Add(uint8(1), 200, "application/json", "", []byte(`{"id":"s1","sha256":"x","text":"t"}`))
	f.Add(uint8(2), 200, "application/json", "", []byte(`{"results":[{"verdict":"unknown"},{"verdict":"malicious"}]}`))
	f.Add(uint8(3), 200, "application/json", "", []byte(`{"matches":[{"hash":"00000000`+"00000000000000000000000000000000000000000000000000000000"+`","verdict":"malicious"}]}`))
	f.Add(uint8(4), 202, "application/json", "", []byte(`{"accepted":1,"duplicates":1}`))
	f.Add(uint8(2), 429, api.ProblemContentType, "Wed, 21 Oct 2015 07:28:00 GMT", []byte(`{"type":"rate-limited","retry_after":99999999}`))
	f.Add(uint8(4), 403, api.ProblemContentType, "", []byte(`{"type":"license-denylisted"}`))
	f.Add(uint8(0), 503, "text/html", "-1", []byte(`<html>`))
	f.Fuzz(func(t *testing.T, call uint8, status int, ctype, wait string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		c, err := New(Options{Endpoint: "http://ksn.test", LicenseKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		c.http.Transport = answerTransport{status, ctype, wait, body}
		ctx := context.Background()
		switch call % 5 {
		case 0:
			_, err = c.Status(ctx)
		case 1:
			_, err = c.Statement(ctx)
		case 2:
			items := []api.FileQuery{{}, {}}
			var res []api.FileResult
			res, err = c.LookupFiles(ctx, items)
			if err == nil && len(res) != len(items) {
				t.Fatalf("%d results for %d items", len(res), len(items))
			}
		case 3:
			_, err = c.LookupURLs(ctx, [][4]byte{{0, 0, 0, 0}})
		case 4:
			var sum api.SubmissionResult
			sum, err = c.Submit(ctx, "p", []api.Record{{ID: "a"}, {ID: "b"}})
			if err == nil && sum.Accepted+sum.Duplicates != 2 {
				t.Fatalf("sums %+v for 2 records", sum)
			}
		}
		if err == nil {
			return
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if code := ce.ExitCode(); code < 4 || code > 7 {
			t.Fatalf("exit code %d for %v", code, err)
		}
		if ce.RetryAfter < 0 || ce.RetryAfter > MaxRetryAfter {
			t.Fatalf("wait %s", ce.RetryAfter)
		}
		_ = ce.Error() + ce.Hint()
	})
}
