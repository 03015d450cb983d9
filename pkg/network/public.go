package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/sources"
)

// PublicSource is a public reputation service a user may enable: a third
// party that, while the user participates, is sent the SHA-256 of each
// file checked, with the user's own key. The built-in statement names
// each of them.
type PublicSource struct {
	Name     string `json:"name"`  // as commands and verdicts name it
	Title    string `json:"title"` // the service and who runs it
	URL      string `json:"-"`     // where it answers; --url points it elsewhere
	NeedsKey bool   `json:"-"`
	KeyHelp  string `json:"-"` // where a user gets a key
	open     func(sources.PublicOptions) publicSource
}

// publicSource is what a session needs of a public source besides its
// answers: how many requests it sent, and whether its quota ran out.
type publicSource interface {
	reputation.Source
	Requests() int64
	QuotaSpent() bool
}

// PublicSources are the services ksn can use, in the order lists show
// them.
var PublicSources = []PublicSource{
	{Name: sources.OpenTIPName, Title: "Kaspersky OpenTIP (AO Kaspersky Lab)", URL: sources.OpenTIPURL, NeedsKey: true,
		KeyHelp: "an API token from https://opentip.kaspersky.com (your account, Request token)",
		open:    func(o sources.PublicOptions) publicSource { return sources.NewOpenTIP(o) }},
	{Name: sources.HashlookupName, Title: "CIRCL hashlookup (CIRCL, Luxembourg)", URL: sources.HashlookupURL,
		open: func(o sources.PublicOptions) publicSource { return sources.NewHashlookup(o) }},
	{Name: sources.MalwareBazaarName, Title: "MalwareBazaar (abuse.ch)", URL: sources.MalwareBazaarURL, NeedsKey: true,
		KeyHelp: "an Auth-Key from https://auth.abuse.ch",
		open:    func(o sources.PublicOptions) publicSource { return sources.NewMalwareBazaar(o) }},
}

// LookupPublic finds a public source by name.
func LookupPublic(name string) (PublicSource, bool) {
	for _, p := range PublicSources {
		if p.Name == name {
			return p, true
		}
	}
	return PublicSource{}, false
}

// PublicNames lists the public sources' names, for messages.
func PublicNames() string {
	names := make([]string, len(PublicSources))
	for i, p := range PublicSources {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// The user's choices live in the state directory, beside the decisions,
// and nowhere the environment reaches: enabling a service that is sent
// something is consent, which the environment can only narrow (DESIGN §3).
const (
	enabledFile = "sources.json"
	keysDir     = "sources"
)

// enabledSource is one enabled service.
type enabledSource struct {
	EnabledAt  time.Time `json:"enabled_at"`
	URL        string    `json:"url,omitempty"`         // "" is the service's own
	DailyQuota int       `json:"daily_quota,omitempty"` // requests a day, when the user knows it
}

// SourceConfig is a public source as the user configured it. The JSON
// names are those of SourceStatus, which embeds it.
type SourceConfig struct {
	PublicSource
	Enabled    bool      `json:"enabled"`
	EnabledAt  time.Time `json:"-"`
	BaseURL    string    `json:"url"` // where it is asked
	Mirror     bool      `json:"-"`   // BaseURL is not the service's own
	KeyStored  bool      `json:"key_stored"`
	DailyQuota int       `json:"daily_quota,omitempty"` // 0: unknown
}

func keyPath(p config.Paths, name string) string {
	return filepath.Join(p.State, keysDir, name+".key")
}

func loadEnabled(p config.Paths) (map[string]enabledSource, error) {
	out := map[string]enabledSource{}
	b, err := os.ReadFile(filepath.Join(p.State, enabledFile))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the enabled sources: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v); re-enable the sources with ksn source enable", filepath.Join(p.State, enabledFile), err)
	}
	return out, nil
}

func saveEnabled(p config.Paths, m map[string]enabledSource) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeSecret(filepath.Join(p.State, enabledFile), append(b, '\n'))
}

// Sources lists every public source with the user's configuration.
func Sources(p config.Paths) ([]SourceConfig, error) {
	en, err := loadEnabled(p)
	if err != nil {
		return nil, err
	}
	var out []SourceConfig
	for _, def := range PublicSources {
		c := SourceConfig{PublicSource: def, BaseURL: def.URL}
		if e, ok := en[def.Name]; ok {
			c.Enabled, c.EnabledAt, c.DailyQuota = true, e.EnabledAt, e.DailyQuota
			if e.URL != "" {
				c.BaseURL, c.Mirror = e.URL, true
			}
		}
		if _, err := os.Stat(keyPath(p, def.Name)); err == nil {
			c.KeyStored = true
		}
		out = append(out, c)
	}
	return out, nil
}

// EnableSource enables a public source: its key (if it takes one) kept
// readable by its owner only, its base URL ("" for its own) and its daily
// quota (0 when unknown). What was remembered of it (a rejected key, a
// wait) is forgotten: the next run asks it afresh.
func EnableSource(p config.Paths, name, key, baseURL string, dailyQuota int) (SourceConfig, error) {
	def, ok := LookupPublic(name)
	if !ok {
		return SourceConfig{}, fmt.Errorf("no public source is named %q (known: %s)", name, PublicNames())
	}
	key = strings.TrimSpace(key)
	switch {
	case def.NeedsKey && key == "":
		return SourceConfig{}, fmt.Errorf("%s needs a key (%s): pass it with --key-file", name, def.KeyHelp)
	case key != "" && !ValidLicenseKey(key):
		return SourceConfig{}, errors.New("the key must be printable ASCII without spaces, at most 256 characters")
	case dailyQuota < 0:
		return SourceConfig{}, errors.New("the daily quota must be 0 (unknown) or more")
	}
	if baseURL != "" {
		u, err := config.NormalizeBaseURL(baseURL)
		if err != nil {
			return SourceConfig{}, fmt.Errorf("--url: %v", err)
		}
		baseURL = u
	}
	en, err := loadEnabled(p)
	if err != nil {
		return SourceConfig{}, err
	}
	if key != "" {
		if err := writeSecret(keyPath(p, name), []byte(key+"\n")); err != nil {
			return SourceConfig{}, fmt.Errorf("storing the key: %w", err)
		}
	} else {
		os.Remove(keyPath(p, name))
	}
	en[name] = enabledSource{EnabledAt: time.Now().UTC(), URL: baseURL, DailyQuota: dailyQuota}
	if err := saveEnabled(p, en); err != nil {
		return SourceConfig{}, err
	}
	forgetMemory(p, name)
	all, err := Sources(p)
	if err != nil {
		return SourceConfig{}, err
	}
	for _, c := range all {
		if c.Name == name {
			return c, nil
		}
	}
	return SourceConfig{}, nil
}

// DisableSource disables a public source and deletes its key; false when
// it was not enabled.
func DisableSource(p config.Paths, name string) (bool, error) {
	if _, ok := LookupPublic(name); !ok {
		return false, fmt.Errorf("no public source is named %q (known: %s)", name, PublicNames())
	}
	en, err := loadEnabled(p)
	if err != nil {
		return false, err
	}
	_, was := en[name]
	delete(en, name)
	if err := os.Remove(keyPath(p, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return was, fmt.Errorf("deleting the key: %w", err)
	}
	forgetMemory(p, name)
	if !was {
		return false, nil
	}
	return true, saveEnabled(p, en)
}

// readKey is a source's stored key, "" when there is none.
func readKey(p config.Paths, name string) (string, error) {
	b, err := os.ReadFile(keyPath(p, name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
