package feeds

import (
	"fmt"
	"strings"
	"time"
)

// Entry is one feed as `ksn feed list` shows it: its settings and what
// its state says.
type Entry struct {
	Feed
	State FeedState
	// Age is how long ago the feed was last known current (CheckedAt);
	// zero when it never was.
	Age   time.Duration
	Stale bool // enabled, and never updated or older than the limit
}

// List describes every configured feed at now; maxAge (feed.max_age)
// decides which are stale (0: none).
func List(feeds []Feed, st State, now time.Time, maxAge time.Duration) []Entry {
	out := make([]Entry, 0, len(feeds))
	for _, f := range feeds {
		e := Entry{Feed: f, State: st.Feeds[f.Name]}
		if e.State.URL != f.URL {
			// The state of another URL says nothing of this one's age.
			e.State = FeedState{Held: e.State.Held}
		}
		if !e.State.CheckedAt.IsZero() {
			e.Age = max(now.Sub(e.State.CheckedAt), 0)
		}
		e.Stale = f.Enabled && maxAge > 0 && (e.State.CheckedAt.IsZero() || e.Age > maxAge)
		out = append(out, e)
	}
	return out
}

// NoticeKind says how loudly a run should speak about the feeds' age.
type NoticeKind int

// The kinds of notice.
const (
	NoNotice NoticeKind = iota
	// Hint: no feed was ever updated. Said once to a new user, then only
	// by `ksn status`: someone who checks against a server only, or on a
	// machine that must not download, should not read it on every run.
	Hint
	// Warning: feeds were updated before, and some are now older than
	// the limit (or never updated since): whoever relies on them should
	// know on every run that their verdicts are getting old.
	Warning
)

// Notice is what a check or `ksn status` says about the feeds' age.
type Notice struct {
	Kind NoticeKind
	Text string
}

// Freshness decides the notice for the enabled feeds at now.
func Freshness(feeds []Feed, st State, now time.Time, maxAge time.Duration) Notice {
	entries := List(feeds, st, now, maxAge)
	enabled, updated := 0, 0
	var stale []string
	for _, e := range entries {
		if !e.Enabled {
			continue
		}
		enabled++
		if !e.State.CheckedAt.IsZero() {
			updated++
		}
		if e.Stale {
			if e.State.CheckedAt.IsZero() {
				stale = append(stale, e.Name+" (never updated)")
			} else {
				stale = append(stale, fmt.Sprintf("%s (%s old)", e.Name, Ago(e.Age)))
			}
		}
	}
	switch {
	case enabled == 0:
		return Notice{}
	case updated == 0:
		return Notice{Kind: Hint, Text: "no threat feed was ever downloaded, so most verdicts are UNKNOWN; 'ksn feed update' fetches them (it sends nothing about your files)"}
	case len(stale) > 0:
		return Notice{Kind: Warning, Text: fmt.Sprintf("feeds older than %s: %s; verdicts may miss recent threats: run 'ksn feed update'",
			Ago(maxAge), strings.Join(stale, ", "))}
	}
	return Notice{}
}

// Ago writes a duration the way people say ages, in its largest whole
// unit: "3d", "5h", "12m", "40s".
func Ago(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}
