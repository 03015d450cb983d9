package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/store"
)

func spamRecord(body string) api.Record {
	return api.Record{ID: strings.Repeat("ab", 16), Kind: "spam", CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Body: json.RawMessage(body)}
}

// TestParseSpam: a spam record is read as strictly as the others; its
// sender addresses are counted by network, each network once.
func TestParseSpam(t *testing.T) {
	const digest = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	good := `{"body_sha256":"` + digest + `","attachment_sha256":[],"picture_sha256":[],"sender_ips":["8.8.4.4","8.8.4.200","2a00:1450:4001:81c::200e"],"judgement":"spam"}`
	sub, err := parseSubmission(spamRecord(good))
	if err != nil || sub.Spam == nil {
		t.Fatalf("%+v, %v", sub, err)
	}
	if f := sub.Spam; f.Body == nil || f.Judgement != store.JudgementSpam || len(f.Nets) != 2 ||
		f.Nets[0].String() != "8.8.4.0/24" || f.Nets[1].String() != "2a00:1450:4001::/48" {
		t.Errorf("facts %+v", f)
	}
	noBody := `{"body_sha256":"","attachment_sha256":[],"picture_sha256":[],"sender_ips":[],"judgement":"none"}`
	if sub, err := parseSubmission(spamRecord(noBody)); err != nil || sub.Spam.Body != nil || len(sub.Spam.Nets) != 0 {
		t.Errorf("no body text: %+v, %v", sub.Spam, err)
	}
	for name, tc := range map[string]struct{ body, want string }{
		"extra field":   {strings.Replace(good, `"judgement"`, `"subject":"Cheap","judgement"`, 1), "body: unknown field"},
		"twice":         {strings.Replace(good, `"judgement":"spam"`, `"judgement":"spam","judgement":"ham"`, 1), "body.judgement: given twice"},
		"missing":       {strings.Replace(good, `"picture_sha256":[],`, ``, 1), "body.picture_sha256: missing"},
		"private":       {strings.Replace(good, `"8.8.4.4"`, `"10.0.0.1"`, 1), "body.sender_ips[0]: not a public address"},
		"not canonical": {strings.Replace(good, `"8.8.4.4"`, `"008.8.4.4"`, 1), "body.sender_ips[0]"},
		"upper case":    {strings.Replace(good, digest, strings.ToUpper(digest), 1), "body.body_sha256"},
		"judgement":     {strings.Replace(good, `"spam"}`, `"maybe"}`, 1), "body.judgement"},
		"null list":     {strings.Replace(good, `"attachment_sha256":[]`, `"attachment_sha256":null`, 1), "body.attachment_sha256"},
	} {
		_, err := parseSubmission(spamRecord(tc.body))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "Cheap") {
			t.Errorf("%s: the error quotes the body: %v", name, err)
		}
	}
}

// FuzzParseSpam: whatever the body, parseSubmission refuses it or returns
// facts the store accepts (a known judgement, networks cut to /24 or /48,
// each once).
func FuzzParseSpam(f *testing.F) {
	f.Add(`{"body_sha256":"","attachment_sha256":[],"picture_sha256":[],"sender_ips":["8.8.4.4","8.8.4.5"],"judgement":"none"}`)
	f.Add(`{"body_sha256":"","attachment_sha256":[],"picture_sha256":[],"sender_ips":["::ffff:8.8.4.4"],"judgement":"ham"}`)
	f.Add(`{"body_sha256":"","attachment_sha256":[],"picture_sha256":[],"sender_ips":[],"judgement":"none","x":1}`)
	f.Fuzz(func(t *testing.T, body string) {
		sub, err := parseSubmission(spamRecord(body))
		if err != nil {
			return
		}
		f := sub.Spam
		if f == nil || len(f.Nets) > store.MaxSpamNets {
			t.Fatalf("accepted %q as %+v", body, f)
		}
		for i, n := range f.Nets {
			if store.SpamNet(n.Addr()) != n {
				t.Errorf("network %v is not a /24 or /48", n)
			}
			for _, m := range f.Nets[:i] {
				if m == n {
					t.Errorf("network %v twice", n)
				}
			}
		}
		switch f.Judgement {
		case store.JudgementNone, store.JudgementSpam, store.JudgementHam:
		default:
			t.Errorf("judgement %q", f.Judgement)
		}
	})
}
