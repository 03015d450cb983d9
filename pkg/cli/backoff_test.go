package cli

import (
	"errors"
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/config"
)

func TestBackoff(t *testing.T) {
	p := config.Paths{Cache: t.TempDir() + "/cache"}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	const ep = "https://ksn.example"
	for _, err := range []error{
		errors.New("not a client error"),
		&client.Error{Reason: client.ReasonOffline, Detail: client.DetailTimeout},
		&client.Error{Reason: client.ReasonRateLimited, Detail: client.DetailRateLimited}, // no wait given
	} {
		rememberBackoff(p, ep, err, now)
		if _, ok := loadBackoff(p, ep, now); ok {
			t.Fatalf("%v was remembered as a wait", err)
		}
	}
	rememberBackoff(p, ep, &client.Error{Reason: client.ReasonRateLimited, Detail: client.DetailRestricted, RetryAfter: 90 * time.Second}, now)
	w, ok := loadBackoff(p, ep, now.Add(time.Minute))
	if !ok || w.Detail != client.DetailRestricted || !w.Until.Equal(now.Add(90*time.Second)) {
		t.Fatalf("loadBackoff = %+v, %v", w, ok)
	}
	if e := waitError(w, ep, now.Add(time.Minute)); e.RetryAfter != 30*time.Second || e.ExitCode() != 6 {
		t.Fatalf("waitError = %+v", e)
	}
	if _, ok := loadBackoff(p, "https://other.example", now); ok {
		t.Fatal("a wait of one endpoint applied to another")
	}
	if _, ok := loadBackoff(p, ep, now.Add(90*time.Second)); ok {
		t.Fatal("a wait outlived its end")
	}
	forgetBackoff(p)
	if _, ok := loadBackoff(p, ep, now); ok {
		t.Fatal("forgotten wait still there")
	}
}
