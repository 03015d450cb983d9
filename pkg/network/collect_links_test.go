package network

import (
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/linkcheck"
	"github.com/ksnproject/ksn/pkg/reputation"
)

// TestLinkRecordsAreRedacted: what a link's record carries is its redacted
// form, whatever the link held.
func TestLinkRecordsAreRedacted(t *testing.T) {
	var links []linkcheck.Link
	err := linkcheck.Read([]string{
		"https://jane:hunter2@Mail.Example.com:8443/u/jane.doe@example.com/inbox/550e8400-e29b-41d4-a716-446655440000?token=s3cr3t#m1",
		"http://[bad",
	}, nil, func(l linkcheck.Link) error { links = append(links, l); return nil })
	if err != nil {
		t.Fatal(err)
	}
	links[0].Result = reputation.Result{Verdict: reputation.Suspicious}
	recs := LinkRecords(links)
	if len(recs) != 1 {
		t.Fatalf("%d records, want one (the malformed link has none)", len(recs))
	}
	body := string(recs[0].Body)
	if want := `{"url":"https://mail.example.com/u/{email}/inbox/{uuid}","verdict":"suspicious","check_ms":0}`; body != want {
		t.Fatalf("record body %s, want %s", body, want)
	}
	for _, secret := range []string{"jane", "hunter2", "8443", "s3cr3t", "token", "m1", "550e8400"} {
		if strings.Contains(body, secret) {
			t.Errorf("record holds %q: %s", secret, body)
		}
	}
}
