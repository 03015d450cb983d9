package config

import (
	"errors"
	"os"
	"path/filepath"
)

// Paths are the directories ksn writes to.
type Paths struct {
	Config string // settings (config.toml)
	Data   string // the local reputation database
	State  string // participation decisions and the outbox
	Cache  string // results and stat caches; safe to delete
}

// Env reads an environment variable; tests pass a map-backed one.
type Env func(string) string

// ResolvePaths finds the directories: $KSN_HOME/{config,data,state,cache}
// when KSN_HOME is set, otherwise the XDG base directories (with their
// documented defaults under $HOME).
func ResolvePaths(env Env) (Paths, error) {
	if home := env("KSN_HOME"); home != "" {
		home, err := filepath.Abs(home)
		if err != nil {
			return Paths{}, err
		}
		return Paths{
			Config: filepath.Join(home, "config"),
			Data:   filepath.Join(home, "data"),
			State:  filepath.Join(home, "state"),
			Cache:  filepath.Join(home, "cache"),
		}, nil
	}
	userHome := env("HOME")
	if userHome == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return Paths{}, errors.New("cannot locate ksn's files: neither KSN_HOME nor HOME is set")
		}
		userHome = h
	}
	xdg := func(name, fallback string) string {
		// The XDG spec says relative values are invalid and must be ignored.
		if v := env(name); v != "" && filepath.IsAbs(v) {
			return filepath.Join(v, "ksn")
		}
		return filepath.Join(userHome, fallback, "ksn")
	}
	return Paths{
		Config: xdg("XDG_CONFIG_HOME", ".config"),
		Data:   xdg("XDG_DATA_HOME", ".local/share"),
		State:  xdg("XDG_STATE_HOME", ".local/state"),
		Cache:  xdg("XDG_CACHE_HOME", ".cache"),
	}, nil
}

// DatabaseFile is the local reputation database inside the data directory.
func (p Paths) DatabaseFile() string { return filepath.Join(p.Data, "reputation.db") }
