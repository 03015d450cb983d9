package check

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/reputation"
)

const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

func message(id, attachment string) string {
	return "From: a@example.org\r\nTo: b@example.net\r\nSubject: s\r\nMessage-ID: <" + id + ">\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"x.com\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(attachment)) + "\r\n--B--\r\n"
}

// TestRunMail: parts are items after their message, in order, and raise
// it (and an mbox) to their verdict; a malformed message is an error item
// and the others are still checked; without Mail, mail is a file.
func TestRunMail(t *testing.T) {
	dir := t.TempDir()
	eml := filepath.Join(dir, "m.eml")
	mbox := filepath.Join(dir, "box")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(eml, []byte(message("1@x", eicar)), 0o644))
	must(os.WriteFile(mbox, []byte("From a Mon Dec  1 10:00:00 2026\n"+message("2@x", "harmless")+
		"\nFrom b Mon Dec  1 10:00:00 2026\nFrom: x\nbad header\n\nbody\n"+
		"\nFrom c Mon Dec  1 10:00:00 2026\n"+message("3@x", eicar)), 0o644))
	mal := reputation.Result{Verdict: reputation.Malicious, ThreatName: "EICAR", Sources: []string{"baseline"}}
	src := local(map[string]reputation.Result{sha(eicar): mal})

	sink := &memSink{}
	sum, err := Run(context.Background(), Options{Inputs: Args([]string{eml, mbox}), FailOn: reputation.Malicious, Mail: &MailOptions{}},
		Config{Sources: []reputation.Source{src}, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range sink.items {
		line := strings.TrimPrefix(it.Path, dir+"/") + " " + string(it.Reputation.Verdict)
		if it.Err != nil {
			line = strings.TrimPrefix(it.Path, dir+"/") + " error"
		}
		got = append(got, line)
	}
	want := []string{
		"m.eml malicious", "m.eml › x.com malicious",
		"box malicious",
		"box › #1 <2@x> unknown", "box › #1 <2@x> › x.com unknown",
		"box › #2 error",
		"box › #3 <3@x> malicious", "box › #3 <3@x> › x.com malicious",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if it := sink.items[0]; it.RaisedBy != eml+" › x.com" || it.Spam == nil || it.Parent != "" {
		t.Errorf("message item %+v", it)
	}
	if it := sink.items[1]; it.Parent != eml || it.Spam != nil {
		t.Errorf("part item parent %q", it.Parent)
	}
	if sum.Threats != 5 || sum.Failed != 1 {
		t.Errorf("summary %+v", sum)
	}

	// Without Mail a message is a file like any other.
	sink = &memSink{}
	if _, err := Run(context.Background(), Options{Inputs: Args([]string{eml})}, Config{Sources: []reputation.Source{src}, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	if len(sink.items) != 1 || sink.items[0].Reputation.Verdict != reputation.Unknown {
		t.Fatalf("without Mail: %+v", sink.items)
	}
}
