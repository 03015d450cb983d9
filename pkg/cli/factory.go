// Package cli holds ksn's commands. Each command parses its flags into
// options, calls the applications under pkg/ (check, linkcheck, network,
// server, feeds) and hands what they return to pkg/report, which writes
// it; nothing here knows how to hash, look up, send or store, nor how a
// result looks. This file is the one place that wires the databases and
// clients those applications use.
package cli

import (
	"context"
	"net/http"
	"time"

	"github.com/ksnproject/ksn/pkg/client"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/feeds"
	"github.com/ksnproject/ksn/pkg/network"
	"github.com/ksnproject/ksn/pkg/report"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/sources"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/term"
)

// Factory carries what commands share: streams, environment, paths, and how
// to open the reputation database. Tests build one with fakes.
type Factory struct {
	IO        *term.IOStreams
	Env       config.Env
	OpenStore func(ctx context.Context, path string) (store.Store, error)
	Version   string
}

// Paths resolves ksn's directories from the factory's environment.
func (f *Factory) Paths() (config.Paths, error) { return config.ResolvePaths(f.Env) }

// OpenLocalStore opens the local reputation database in the data directory.
func (f *Factory) OpenLocalStore(ctx context.Context) (store.Store, error) {
	paths, err := f.Paths()
	if err != nil {
		return nil, err
	}
	return f.OpenStore(ctx, paths.DatabaseFile())
}

// Local is the local reputation database opened as a source, with the
// cache of network answers it keeps (nil when it keeps none).
type Local struct {
	Source reputation.Source
	Cache  sources.VerdictCache
	Close  func() error
}

// OpenLocal opens the local reputation database as a source, degraded
// (store.OpenLocalDegraded) when it cannot be written. Closing it says,
// after the run's summary, when the feeds are getting old
// (feeds.Listing.AfterRun; nothing without settings or state): the check
// and link commands close it last.
func (f *Factory) OpenLocal(ctx context.Context) (Local, error) {
	db, err := f.OpenLocalStore(ctx)
	if err != nil {
		path := ""
		if paths, err := f.Paths(); err == nil {
			path = paths.DatabaseFile()
		}
		cause, why := err, ""
		if db, why, err = store.OpenLocalDegraded(ctx, path, cause); err != nil {
			return Local{}, err
		}
		f.IO.Warnf("%v: %s", cause, why)
	}
	l := Local{Source: sources.NewLocal(db), Close: func() error {
		err := db.Close()
		if listing, err := f.LoadFeedListing(); err == nil {
			report.FeedNotice(f.IO, listing.AfterRun(time.Now()))
		}
		return err
	}}
	if c, ok := db.(sources.VerdictCache); ok {
		l.Cache = c
	}
	return l, nil
}

// OpenFeedUpdater opens the local database for `ksn feed update`, with
// downloads through the proxy setting.
func (f *Factory) OpenFeedUpdater(ctx context.Context) (*feeds.Updater, error) {
	paths, settings, err := f.settings()
	if err != nil {
		return nil, err
	}
	u := feeds.NewUpdater(paths, settings, "ksn/"+f.Version)
	db, err := f.OpenLocalStore(ctx)
	if err != nil {
		return nil, err
	}
	t, err := client.NewTransport(settings.String("proxy"), nil)
	if err != nil {
		db.Close()
		return nil, usageError("ksn config set proxy URL", "proxy: %v", err)
	}
	t.ResponseHeaderTimeout = settings.Duration("timeout")
	u.DB, u.HTTP = db, &http.Client{Transport: t}
	return u, nil
}

// LoadFeedListing reads the feeds' settings and state.
func (f *Factory) LoadFeedListing() (feeds.Listing, error) {
	paths, settings, err := f.settings()
	if err != nil {
		return feeds.Listing{}, err
	}
	return feeds.LoadListing(paths, settings)
}

// settings reads the settings in force: the config file and the
// environment. A bad value is a usage error.
func (f *Factory) settings() (config.Paths, *config.Settings, error) {
	paths, err := f.Paths()
	if err != nil {
		return paths, nil, err
	}
	s, err := config.LoadSettings(paths, f.Env)
	if err != nil {
		return paths, nil, usageError("fix the value with 'ksn config set', or unset the variable", "configuration: %v", err)
	}
	return paths, s, nil
}

// FeedDB is a reputation database feeds are imported into.
type FeedDB interface {
	feeds.Database
	Close() error
}

// OpenFeedDB opens the database at path for imports; "" is the local one
// (store.OpenImportDB says what a path or a URL opens).
func (f *Factory) OpenFeedDB(ctx context.Context, path string) (FeedDB, error) {
	if path == "" {
		return f.OpenLocalStore(ctx)
	}
	return store.OpenImportDB(ctx, path)
}

// LoadConsent reads the settings and the participation state.
func (f *Factory) LoadConsent(ctx context.Context) (*network.Consent, error) {
	paths, err := f.Paths()
	if err != nil {
		return nil, err
	}
	return network.LoadConsent(ctx, network.Env{Paths: paths, Getenv: f.Env, Version: f.Version})
}

// withConsent runs fn with the participation state, which it closes after.
func (f *Factory) withConsent(ctx context.Context, fn func(context.Context, *network.Consent) error) error {
	c, err := f.LoadConsent(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

// DefaultOpenStore opens (creating on first use) a local reputation
// database.
func DefaultOpenStore(ctx context.Context, path string) (store.Store, error) {
	db, err := store.OpenLocal(ctx, path)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return db, nil
}
