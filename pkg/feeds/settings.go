package feeds

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
)

// A feed is settings (feed.NAME.url, .format, .enabled): `ksn feed add`
// and `remove` write them here, `ksn config` can too. Their mistakes are
// usage errors that name the command doing it right.

// CheckName says why name cannot be given to a feed of the user's own
// (nil when it can).
func CheckName(name string) error {
	if !config.ValidMemberName(name) {
		return usage("for example: ksn feed add my-list URL", "feed name %q: use 1 to 32 lower-case letters, digits and dashes, starting with a letter", name)
	}
	if config.IsBuiltin("feed", name) {
		return usage("point it at a mirror: ksn config set feed."+name+".url URL", "%s is a built-in feed", name)
	}
	return nil
}

// Add adds a feed of the user's own, named as CheckName allows, for
// `ksn feed update` to fetch: nothing is downloaded now.
func (l *Listing) Add(name, url, format string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if slices.ContainsFunc(l.Feeds, func(f Feed) bool { return f.Name == name }) {
		return usage("remove it first: ksn feed remove "+name, "a feed named %s exists", name)
	}
	for _, kv := range [][2]string{{"url", url}, {"format", format}} {
		if err := config.SetSetting(l.Paths, "feed."+name+"."+kv[0], kv[1]); err != nil {
			// A URL without its format would be a feed the user did not ask for.
			_ = config.UnsetSetting(l.Paths, "feed."+name+".url")
			return usage("see 'ksn feed add --help'", "%v", err)
		}
	}
	return nil
}

// Disable disables a built-in feed, which cannot be removed.
func Disable(p config.Paths, name string) error {
	if err := config.SetSetting(p, "feed."+name+".enabled", "false"); err != nil {
		return usage("", "%v", err)
	}
	return nil
}

// Remove removes a feed of the user's own: its settings go, then what the
// state file remembers of it; what it imported stays in the database. A
// failure to forget is told to warn: the feed is removed all the same.
func (l *Listing) Remove(name string, warn func(error)) error {
	if !slices.ContainsFunc(l.Feeds, func(f Feed) bool { return f.Name == name }) {
		return unknownFeed(l.Feeds, name)
	}
	for _, field := range []string{"url", "format", "enabled"} {
		if err := config.UnsetSetting(l.Paths, "feed."+name+"."+field); err != nil {
			return usage("", "%v", err)
		}
	}
	if err := l.forget(name); err != nil {
		warn(err)
	}
	return nil
}

// forget drops what the state file remembers of a feed that was removed.
func (l *Listing) forget(name string) error {
	if _, ok := l.State.Feeds[name]; !ok {
		return nil
	}
	delete(l.State.Feeds, name)
	return SaveState(l.statePath(), l.State)
}

// NewUpdater is an updater of the reputation database in p's data
// directory, of the feeds the settings list, as they want it: a redirect to plain http:// allowed
// only with insecure_transport, and a stalled download given the timeout
// setting, at least 30 seconds. The caller sets HTTP (with the proxy) and
// DB once it has opened the database.
//
// It must be called before the database is opened: a database that does
// not exist yet has none of the feeds the state file remembers, so the
// state is dropped and every feed is downloaded.
func NewUpdater(p config.Paths, s *config.Settings, userAgent string) *Updater {
	statePath := filepath.Join(p.Data, StateFile)
	if _, err := os.Stat(p.DatabaseFile()); errors.Is(err, fs.ErrNotExist) {
		_ = os.Remove(statePath)
	}
	return &Updater{StatePath: statePath, UserAgent: userAgent, Feeds: Configured(s),
		AllowPlainHTTP: s.Bool("insecure_transport"), Stall: max(s.Duration("timeout"), 30*time.Second)}
}
