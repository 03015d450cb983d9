package network

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
)

// The report, the outbox summary and the outcome of an opt-out are the
// documented JSON schemas of `ksn status --json`, `ksn queue --json` and
// `ksn optout --json`: names, order and what is left out when empty.
func TestReportJSON(t *testing.T) {
	ctx := context.Background()
	paths := testPaths(t)
	if _, err := EnableSource(paths, "hashlookup", "", "", 0); err != nil {
		t.Fatal(err)
	}
	c := testConsent(t, paths, false)
	r, err := c.Diagnose(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	want := regexp.MustCompile(`^\{"participation":\{"state":"declined","participating":false,"reason":"declined","decided_by":"decision","state_file":"[^"]+","decision":\{"seq":1,"at":"[0-9T:-]+Z","accepted":false,"level":"extended","statement_id":"ksn-[0-9a-f]+","statement_sha256":"[0-9a-f]{64}","via":"flag","ksn_version":"test"\}\},` +
		`"statement":\{"id":"ksn-[0-9a-f]+","sha256":"[0-9a-f]{64}","source":"built-in","accepted":false,"accepted_at":null\},` +
		`"outbox":\{"records":0,"bytes":0,"oldest":null,"newest":null,"dropped_full":0,"dropped_age":0,"max_records":\d+,"max_age":"90d","file":"[^"]+"\},` +
		`"feeds":\{"enabled":3,"updated":0,"oldest_age_seconds":null,"max_age_seconds":\d+,"notice":"hint","text":"[^"]+"\},"endpoint":"",` +
		`"sources":\[\{"name":"opentip","title":"[^"]+","enabled":false,"url":"https://opentip.kaspersky.com","key_stored":false,"state":"not-configured","hint":"[^"]+","requests_today":0\},` +
		`\{"name":"hashlookup","title":"[^"]+","enabled":true,"url":"https://hashlookup.circl.lu","key_stored":false,"state":"not-used","detail":"used only while you participate","hint":"[^"]+","requests_today":0\},\{[^]]+\}\],` +
		`"connection":\{"connected":false,"reason":"not-participating","detail":"declined","hint":"read the statement and choose: ksn optin","exit_code":3\}\}$`)
	if !want.Match(b) {
		t.Errorf("status --json:\n%s", b)
	}
	o, err := c.Optout(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(o)
	if !regexp.MustCompile(`^\{"decision":\{"seq":2,[^}]+\},"participating":false,"outbox":0\}$`).Match(b) {
		t.Errorf("optout --json: %s", b)
	}
}
