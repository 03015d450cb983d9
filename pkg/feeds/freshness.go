package feeds

import (
	"fmt"
	"strings"
	"time"
)

// Entry is one feed as `ksn feed list` shows it: its settings and what
// its state says. Its JSON form is the documented schema of a feed in
// `ksn feed list --json` (README): fields are only ever added.
type Entry struct {
	Feed
	UpdatedAt *time.Time `json:"updated_at"` // the last import; nil: never
	// CheckedAt is when the feed was last known current (imported, or
	// answered 304); nil: never. Its age is counted from it.
	CheckedAt    *time.Time `json:"checked_at"`
	AgeSeconds   *int64     `json:"age_seconds"`
	Stale        bool       `json:"stale"` // enabled, and never updated or older than the limit
	ETag         string     `json:"etag"`
	LastModified string     `json:"last_modified"`
	Indicators   int        `json:"indicators"`             // what the feed added to the database (FeedState.Held)
	LastImport   int        `json:"last_import_indicators"` // entries in the last download imported
	LastError    string     `json:"last_error,omitempty"`   // why the last update failed, until one succeeds
}

// Age is how long ago the feed was last known current, to the second;
// zero when it never was.
func (e Entry) Age() time.Duration {
	if e.AgeSeconds == nil {
		return 0
	}
	return time.Duration(*e.AgeSeconds) * time.Second
}

// List describes every configured feed at now; maxAge (feed.max_age)
// decides which are stale (0: none).
func List(feeds []Feed, st State, now time.Time, maxAge time.Duration) []Entry {
	out := make([]Entry, 0, len(feeds))
	for _, f := range feeds {
		fs := st.Feeds[f.Name]
		if fs.URL != f.URL {
			// The state of another URL says nothing of this one's age.
			fs = FeedState{Held: fs.Held}
		}
		e := Entry{Feed: f, ETag: fs.ETag, LastModified: fs.LastModified, Indicators: fs.Held, LastImport: fs.Indicators, LastError: fs.LastError}
		if t := fs.UpdatedAt; !t.IsZero() {
			e.UpdatedAt = &t
		}
		var age time.Duration
		if t := fs.CheckedAt; !t.IsZero() {
			age = max(now.Sub(t), 0)
			secs := int64(age / time.Second)
			e.CheckedAt, e.AgeSeconds = &t, &secs
		}
		e.Stale = f.Enabled && maxAge > 0 && (e.CheckedAt == nil || age > maxAge)
		out = append(out, e)
	}
	return out
}

// NoticeKind says how loudly a run should speak about the feeds' age; it
// is the "notice" of `ksn status --json`.
type NoticeKind string

// The kinds of notice.
const (
	NoNotice NoticeKind = ""
	// Hint: no feed was ever updated. Said once to a new user, then only
	// by `ksn status`: someone who checks against a server only, or on a
	// machine that must not download, should not read it on every run.
	Hint NoticeKind = "hint"
	// Warning: feeds were updated before, and some are now older than
	// the limit (or never updated since): whoever relies on them should
	// know on every run that their verdicts are getting old.
	Warning NoticeKind = "warning"
)

// Notice is what a check or `ksn status` says about the feeds' age.
type Notice struct {
	Kind NoticeKind `json:"notice,omitempty"`
	Text string     `json:"text,omitempty"`
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
		if e.CheckedAt != nil {
			updated++
		}
		if e.Stale {
			if e.CheckedAt == nil {
				stale = append(stale, e.Name+" (never updated)")
			} else {
				stale = append(stale, fmt.Sprintf("%s (%s old)", e.Name, Ago(e.Age())))
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
