package feeds

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// StateFile is the name of the feeds' state beside the reputation
// database: it describes what that database holds, so it lives with it.
const StateFile = "feeds.json"

// FeedState is what ksn remembers of one feed between updates.
type FeedState struct {
	// URL is where the state was fetched from: the validators of one URL
	// mean nothing to another (a mirror set since), which starts afresh.
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// SHA256 is the digest of the last download imported: a server that
	// ignores conditional requests and sends the same file again costs a
	// download, not an import.
	SHA256 string `json:"sha256,omitempty"`
	// CheckedAt is when the feed was last known current: imported, or
	// answered 304 Not Modified. Its age is measured from it.
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// UpdatedAt is when a download of it was last imported.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Indicators is how many entries the last import read; Held how many
	// this feed has added to the database over all its imports (imports
	// never remove entries, so that is what the database holds of it).
	Indicators int `json:"indicators"`
	Held       int `json:"held"`
	// LastError says why the last update failed, until one succeeds.
	LastError string    `json:"last_error,omitempty"`
	FailedAt  time.Time `json:"failed_at,omitzero"`
}

// State is every feed's state, and whether the one-time hint about feeds
// that were never updated has been given.
type State struct {
	Feeds     map[string]FeedState `json:"feeds"`
	HintShown time.Time            `json:"hint_shown,omitzero"`
}

// maxStateFile bounds what LoadState reads: the file is ours, but a
// damaged one must not cost memory.
const maxStateFile = 1 << 20

// LoadState reads the state at path; a missing file is an empty state
// (no feed ever updated), a damaged one an error.
func LoadState(path string) (State, error) {
	st := State{Feeds: map[string]FeedState{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading the feeds' state: %w", err)
	}
	if len(b) > maxStateFile {
		return st, fmt.Errorf("%s is larger than %d bytes; delete it to start afresh", path, maxStateFile)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return State{Feeds: map[string]FeedState{}}, fmt.Errorf("%s is damaged (%v); delete it to start afresh", path, err)
	}
	if st.Feeds == nil {
		st.Feeds = map[string]FeedState{}
	}
	return st, nil
}

// SaveState replaces the state at path atomically: a crash leaves the old
// state or the new one.
func SaveState(path string, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".feeds-*.json")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing the feeds' state: %w", werr)
	}
	return nil
}
