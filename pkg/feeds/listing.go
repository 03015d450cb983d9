package feeds

import (
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
)

// Listing is the configured feeds with what their state file remembers,
// as `ksn feed list`, `ksn feed add` and `remove`, `ksn status` and the
// notice after a check read them.
type Listing struct {
	Paths  config.Paths
	Feeds  []Feed
	State  State
	MaxAge time.Duration // feed.max_age: older feeds are stale (0: none is)
}

// LoadListing reads the feeds in the settings and their state, which is
// kept beside the reputation database in the data directory.
func LoadListing(p config.Paths, s *config.Settings) (Listing, error) {
	l := Listing{Paths: p, Feeds: Configured(s), MaxAge: s.Duration("feed.max_age")}
	var err error
	l.State, err = LoadState(l.statePath())
	return l, err
}

func (l *Listing) statePath() string { return filepath.Join(l.Paths.Data, StateFile) }

// Entries describes every feed at now.
func (l *Listing) Entries(now time.Time) []Entry { return List(l.Feeds, l.State, now, l.MaxAge) }

// Status is the feeds at a glance, as `ksn status` shows them: how many
// are enabled, how many were ever updated, the age of the oldest, and the
// notice a check would give. Its JSON form is the "feeds" of `ksn status
// --json` (README).
type Status struct {
	Enabled          int    `json:"enabled"`
	Updated          int    `json:"updated"`
	OldestAgeSeconds *int64 `json:"oldest_age_seconds"` // nil: none was ever updated
	MaxAgeSeconds    int64  `json:"max_age_seconds"`
	Notice
}

// Status sums up the enabled feeds at now.
func (l *Listing) Status(now time.Time) Status {
	s := Status{MaxAgeSeconds: int64(l.MaxAge / time.Second)}
	for _, e := range l.Entries(now) {
		if !e.Enabled {
			continue
		}
		s.Enabled++
		if e.AgeSeconds == nil {
			continue
		}
		s.Updated++
		if s.OldestAgeSeconds == nil || *e.AgeSeconds > *s.OldestAgeSeconds {
			s.OldestAgeSeconds = e.AgeSeconds
		}
	}
	s.Notice = Freshness(l.Feeds, l.State, now, l.MaxAge)
	return s
}

// AfterRun is what a check or link run says about the feeds' age when it
// ends: a Warning every time once feeds were updated and grew old; the
// Hint that none ever was only once, since a user who checks against a
// server only should not read it on every run. That it was given is
// remembered in the state file, written here.
func (l *Listing) AfterRun(now time.Time) Notice {
	n := Freshness(l.Feeds, l.State, now, l.MaxAge)
	if n.Kind != Hint {
		return n
	}
	if !l.State.HintShown.IsZero() {
		return Notice{}
	}
	l.State.HintShown = now.UTC()
	// Failing to remember costs the user the hint once more, nothing else.
	_ = SaveState(l.statePath(), l.State)
	return n
}

// Select picks the feeds an update fetches: the enabled ones, or the
// named ones (a disabled one named is tried and reported as disabled, not
// skipped in silence). A name no feed has is a usage error.
func Select(all []Feed, names []string) ([]Feed, error) {
	var out []Feed
	if len(names) == 0 {
		for _, f := range all {
			if f.Enabled {
				out = append(out, f)
			}
		}
		return out, nil
	}
	for _, n := range names {
		i := slices.IndexFunc(all, func(f Feed) bool { return f.Name == n })
		if i < 0 {
			return nil, unknownFeed(all, n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

func unknownFeed(all []Feed, name string) error {
	names := make([]string, len(all))
	for i, f := range all {
		names[i] = f.Name
	}
	return usage("'ksn feed list' shows every feed", "no feed is named %q (known: %s)", name, strings.Join(names, ", "))
}

// usage is a mistake of the user's, with the command that does it right:
// the commands exit 2 with the hint.
func usage(hint, format string, args ...any) error {
	return exitcode.New(exitcode.Usage, format, args...).WithHint(hint)
}
