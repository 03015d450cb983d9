package network

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
		rememberBackoff(p, waitLookups, ep, err, now)
		if _, ok := loadBackoff(p, waitLookups, ep, now); ok {
			t.Fatalf("%v was remembered as a wait", err)
		}
	}
	rememberBackoff(p, waitLookups, ep, &client.Error{Reason: client.ReasonRateLimited, Detail: client.DetailRestricted, RetryAfter: 90 * time.Second}, now)
	w, ok := loadBackoff(p, waitLookups, ep, now.Add(time.Minute))
	if !ok || w.Detail != client.DetailRestricted || !w.Until.Equal(now.Add(90*time.Second)) {
		t.Fatalf("loadBackoff = %+v, %v", w, ok)
	}
	if e := waitError(w, ep, now.Add(time.Minute)); e.RetryAfter != 30*time.Second || e.ExitCode() != 6 {
		t.Fatalf("waitError = %+v", e)
	}
	if _, ok := loadBackoff(p, waitLookups, "https://other.example", now); ok {
		t.Fatal("a wait of one endpoint applied to another")
	}
	if _, ok := loadBackoff(p, waitLookups, ep, now.Add(90*time.Second)); ok {
		t.Fatal("a wait outlived its end")
	}
	// A delivery's wait is kept apart: it does not hold back lookups.
	rememberBackoff(p, waitSubmit, ep, &client.Error{Reason: client.ReasonRateLimited, Detail: client.DetailRateLimited, RetryAfter: time.Hour}, now)
	if w, _ := loadBackoff(p, waitLookups, ep, now.Add(2*time.Minute)); w.Detail != "" {
		t.Fatalf("a delivery's wait shows as the lookups' wait: %+v", w)
	}
	if _, ok := loadBackoff(p, waitSubmit, ep, now.Add(2*time.Minute)); !ok {
		t.Fatal("the delivery's wait was not kept")
	}
	// A status answer ends neither a rate limit's wait (it was for a full
	// batch) nor the deliveries' wait (another bucket)...
	rememberBackoff(p, waitLookups, ep, &client.Error{Reason: client.ReasonRateLimited, Detail: client.DetailRateLimited, RetryAfter: time.Minute}, now)
	if w, ok := settleBackoff(p, ep, now); !ok || w.Detail != client.DetailRateLimited {
		t.Fatalf("a status answer ended the lookups' rate-limit wait: %+v %v", w, ok)
	}
	for _, kind := range []string{waitLookups, waitSubmit} {
		if _, ok := loadBackoff(p, kind, ep, now); !ok {
			t.Fatalf("the %s wait did not survive a status answer", kind)
		}
	}
	// ...but it ends a restriction, which it says is lifted.
	rememberBackoff(p, waitLookups, ep, &client.Error{Reason: client.ReasonRateLimited, Detail: client.DetailRestricted, RetryAfter: time.Minute}, now)
	if _, ok := settleBackoff(p, ep, now); ok {
		t.Fatal("a lifted restriction still waits")
	}
	if _, ok := loadBackoff(p, waitLookups, ep, now); ok {
		t.Fatal("a lifted restriction is still remembered")
	}
}
