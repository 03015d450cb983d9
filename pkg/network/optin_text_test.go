package network

import (
	"testing"
	"time"

	"github.com/ksnproject/ksn/pkg/participation"
)

func TestBacklogSentence(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	recent := participation.OutboxStats{Records: 3, Oldest: now.Add(-time.Hour)}
	old := participation.OutboxStats{Records: 1, Oldest: now.Add(-100 * 24 * time.Hour)}
	const endpoint = "https://ksn.example"
	tests := []struct {
		stats    participation.OutboxStats
		level    participation.Level
		maxAge   time.Duration
		endpoint string
		want     string
	}{
		{participation.OutboxStats{}, participation.Extended, 0, endpoint,
			"No records were collected on this machine before; nothing is waiting to be sent."},
		{recent, participation.Basic, 0, endpoint,
			"3 records collected on this machine stay local: the basic level sends lookups only."},
		{recent, participation.Extended, 90 * 24 * time.Hour, endpoint,
			"If you accept, the 3 records collected on this machine since 2026-12-02 11:00:00 UTC will be sent."},
		{recent, participation.Extended, 0, "",
			"If you accept, the 3 records collected on this machine since 2026-12-02 11:00:00 UTC will be sent once an endpoint is set."},
		{old, participation.Extended, 90 * 24 * time.Hour, endpoint,
			"If you accept, the 1 record collected on this machine since 2026-08-24 12:00:00 UTC will be sent, except those older than 90d, which are dropped instead."},
		{old, participation.Extended, 36 * time.Hour, endpoint,
			"If you accept, the 1 record collected on this machine since 2026-08-24 12:00:00 UTC will be sent, except those older than 36h, which are dropped instead."},
	}
	for _, tt := range tests {
		if got := BacklogSentence(tt.stats, tt.level, tt.maxAge, tt.endpoint, now); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}
