package feeds

import (
	"github.com/ksnproject/ksn/pkg/config"
)

// Feed is one feed `ksn feed update` can fetch, as the settings describe
// it (feed.NAME.url, .format, .enabled). The JSON names are those of
// Entry, which embeds it.
type Feed struct {
	Name    string `json:"name"`
	Builtin bool   `json:"builtin"` // ksn defines it; it can be disabled, not removed
	Enabled bool   `json:"enabled"`
	Format  Format `json:"format"` // Auto: detected from the download
	URL     string `json:"url"`    // "" when the user has not set one
}

// Configured lists the feeds in the settings: the built-in ones, then the
// user's own.
func Configured(s *config.Settings) []Feed {
	var out []Feed
	for _, name := range s.Members("feed") {
		key := "feed." + name + "."
		out = append(out, Feed{
			Name:    name,
			URL:     s.String(key + "url"),
			Format:  Format(s.String(key + "format")),
			Enabled: s.Bool(key + "enabled"),
			Builtin: config.IsBuiltin("feed", name),
		})
	}
	return out
}

// Fetchable lists the formats a feed can have: every concrete format, and
// auto (detected from the download).
func Fetchable() []Format { return append([]Format{Auto}, Formats...) }
