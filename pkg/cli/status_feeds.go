package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/feeds"
)

// feedsStatusJSON is the feeds' part of `ksn status --json`: how many
// feeds are enabled, how many were ever updated, the age of the oldest,
// and the notice a check would give ("hint": none was ever updated;
// "warning": some are older than feed.max_age).
type feedsStatusJSON struct {
	Enabled          int    `json:"enabled"`
	Updated          int    `json:"updated"`
	OldestAgeSeconds *int64 `json:"oldest_age_seconds"`
	MaxAgeSeconds    int64  `json:"max_age_seconds"`
	Notice           string `json:"notice,omitempty"` // "hint" or "warning"
	Text             string `json:"text,omitempty"`
}

// feedsStatus reads the feeds' settings and state; nil when they cannot
// be read (status reports the rest anyway).
func feedsStatus(f *Factory) *feedsStatusJSON {
	l, err := f.LoadFeedListing()
	if err != nil {
		return nil
	}
	now := time.Now()
	out := &feedsStatusJSON{MaxAgeSeconds: int64(l.MaxAge / time.Second)}
	for _, e := range feeds.List(l.Feeds, l.State, now, l.MaxAge) {
		if !e.Enabled {
			continue
		}
		out.Enabled++
		if e.State.CheckedAt.IsZero() {
			continue
		}
		out.Updated++
		if age := int64(e.Age / time.Second); out.OldestAgeSeconds == nil || age > *out.OldestAgeSeconds {
			out.OldestAgeSeconds = &age
		}
	}
	switch n := feeds.Freshness(l.Feeds, l.State, now, l.MaxAge); n.Kind {
	case feeds.Hint:
		out.Notice, out.Text = "hint", n.Text
	case feeds.Warning:
		out.Notice, out.Text = "warning", n.Text
	}
	return out
}

// describeFeeds is the Feeds line of `ksn status`.
func describeFeeds(f *Factory, s *feedsStatusJSON) string {
	sty := f.IO.Styles()
	line := fmt.Sprintf("%d enabled, %d updated", s.Enabled, s.Updated)
	if s.OldestAgeSeconds != nil {
		line += ", oldest " + feeds.Ago(time.Duration(*s.OldestAgeSeconds)*time.Second)
	}
	switch s.Notice {
	case "warning":
		line += "; " + sty.Bad.Render(s.Text)
	case "hint":
		line += "; " + s.Text
	}
	return line
}

// printSources adds a line per enabled public source to `ksn status`, and
// one naming those that are not.
func printSources(row func(label, value string), srcs []sourceJSON) {
	var off []string
	for _, s := range srcs {
		if !s.Enabled {
			off = append(off, s.Name)
			continue
		}
		row("Source", s.Name+": "+describeSource(s))
	}
	if len(off) > 0 {
		row("Sources", "not configured: "+strings.Join(off, ", ")+" (ksn source enable NAME)")
	}
}
