package network

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksnproject/ksn/pkg/mail"
)

// TestReportMail: each message read is judged and kept; a file that is
// no mail is told about, the others still judged.
func TestReportMail(t *testing.T) {
	paths := testPaths(t)
	c := testConsent(t, paths, true)
	dir := t.TempDir()
	msg := filepath.Join(dir, "spam.eml")
	body := "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nBuy now.\r\n"
	if err := os.WriteFile(msg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var unreadable []string
	n, kept, err := c.ReportMail(context.Background(), []string{msg, filepath.Join(dir, "missing.eml")}, mail.JudgementSpam,
		func(path string, err error) { unreadable = append(unreadable, path) })
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || kept != 1 || len(unreadable) != 1 || !strings.Contains(unreadable[0], "missing.eml") {
		t.Errorf("%d judged, %d kept, unreadable %q", n, kept, unreadable)
	}
	stats, err := c.OutboxStats(context.Background())
	if err != nil || stats.Records != 1 {
		t.Errorf("outbox %+v (%v)", stats, err)
	}
}
