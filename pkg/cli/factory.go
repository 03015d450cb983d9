// Package cli holds ksn's commands. Each command parses its flags into an
// Options struct and hands it to a run function that does the work through
// the packages under pkg/; nothing here knows how to hash or look up.
package cli

import (
	"context"

	"github.com/ksnproject/ksn/pkg/config"
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

// DefaultOpenStore opens (creating on first use) a local reputation
// database. `ksn feed import --db` opens a server's database with it too:
// both kinds share the indicator tables that a feed import writes.
func DefaultOpenStore(ctx context.Context, path string) (store.Store, error) {
	db, err := store.OpenLocal(ctx, path)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return db, nil
}
