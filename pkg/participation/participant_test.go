package participation

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"
)

func TestParticipantCode(t *testing.T) {
	secret := make([]byte, 32)
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	jun := time.Date(2026, 6, 30, 23, 59, 59, 0, time.UTC)
	jul := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	a, b, c := ParticipantCode(secret, jan), ParticipantCode(secret, jun), ParticipantCode(secret, jul)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(a) {
		t.Fatalf("code %q is not 32 lower-case hex characters", a)
	}
	if a != b {
		t.Error("the code changed within a half-year")
	}
	if a == c {
		t.Error("the code did not change with the half-year")
	}
	other := make([]byte, 32)
	other[0] = 1
	if ParticipantCode(other, jan) == a {
		t.Error("two secrets give one code")
	}
}

func TestStoreParticipant(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	codes := make([]string, 8)
	for i := range codes {
		wg.Go(func() {
			c, err := s.Participant(ctx, now)
			if err != nil {
				t.Error(err)
			}
			codes[i] = c
		})
	}
	wg.Wait()
	for _, c := range codes {
		if c != codes[0] {
			t.Fatalf("concurrent first calls disagree: %v", codes)
		}
	}
	// Reopened, the secret is the same one.
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, err := s.Participant(ctx, now); err != nil || c != codes[0] {
		t.Fatalf("after reopening: %q, %v; want %q", c, err, codes[0])
	}
	if c, _ := s.Participant(ctx, now.AddDate(0, 2, 0)); c == codes[0] {
		t.Error("the next half-year has the same code")
	}
}
