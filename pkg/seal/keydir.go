package seal

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DataKeyPrefix starts the line of a data key file that holds the wrapped
// key: "ksn-datakey-v1:" and the bytes of Wrap in standard base64. Other
// lines are blank or '#' comments.
const DataKeyPrefix = "ksn-datakey-v1:"

// dataKeySuffix ends the name of every data key file: <label>.key.
const dataKeySuffix = ".key"

// KeyDir is a directory of wrapped data keys, one file per half-year,
// named <label>.key (mode 0600, in a directory of mode 0700). Keeping
// them here rather than in the database is what makes a purge final for
// copies too: a backup of the database, even with the KEK, holds no key
// of a half-year whose file was deleted.
//
// Its methods are safe for concurrent use by several processes: a key is
// created whole or not at all, and never replaced.
type KeyDir struct {
	Path string
}

// checkLabel refuses a label that could name a file outside the
// directory: labels are letters and digits ("2026H1").
func checkLabel(label string) error {
	if label == "" || len(label) > 32 {
		return fmt.Errorf("data key label %q: not 1 to 32 letters and digits", label)
	}
	for i := 0; i < len(label); i++ {
		if c := label[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("data key label %q: not 1 to 32 letters and digits", label)
		}
	}
	return nil
}

func (d KeyDir) file(label string) string { return filepath.Join(d.Path, label+dataKeySuffix) }

// Load returns the wrapped key of label; an error wrapping fs.ErrNotExist
// when there is none.
func (d KeyDir) Load(label string) ([]byte, error) {
	if err := checkLabel(label); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(d.file(label))
	if err != nil {
		return nil, err
	}
	w, err := parseDataKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.file(label), err)
	}
	return w, nil
}

// Create stores wrapped as the key of label unless the directory has one
// already, and returns the key stored: wrapped, or the one another
// process created first (which every process must then use). The file is
// written and synced under a temporary name, then hard-linked into place,
// and the directory synced, so that it is durable before any record is
// sealed under it.
func (d KeyDir) Create(label string, wrapped []byte) ([]byte, error) {
	if err := checkLabel(label); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return nil, err
	}
	text := formatDataKey(label, wrapped)
	tmp, err := os.CreateTemp(d.Path, ".ksn-key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(text)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	err = os.Link(tmp.Name(), d.file(label))
	if err != nil && !errors.Is(err, fs.ErrExist) {
		err = writeExclusive(d.file(label), text) // no hard links here
	}
	if errors.Is(err, fs.ErrExist) {
		return d.Load(label)
	}
	if err != nil {
		return nil, err
	}
	return wrapped, syncDir(d.Path)
}

// Destroy deletes the key of label and syncs the directory, so that the
// deletion survives a crash; a key that is not there is no error.
func (d KeyDir) Destroy(label string) error {
	if err := checkLabel(label); err != nil {
		return err
	}
	err := os.Remove(d.file(label))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(d.Path)
}

// Labels lists the labels the directory holds a key of, in name order; a
// directory that does not exist holds none.
func (d KeyDir) Labels() ([]string, error) {
	entries, err := os.ReadDir(d.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		label, ok := strings.CutSuffix(e.Name(), dataKeySuffix)
		if ok && e.Type().IsRegular() && checkLabel(label) == nil {
			out = append(out, label)
		}
	}
	return out, nil
}

func formatDataKey(label string, wrapped []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# ksn data key of the half-year %s, wrapped by the key-encryption key.\n", label)
	b.WriteString("# Deleting this file destroys that half-year's sealed submissions for good,\n")
	b.WriteString("# in every copy of the database: never back it up.\n")
	b.WriteString(DataKeyPrefix)
	b.WriteString(base64.StdEncoding.EncodeToString(wrapped))
	b.WriteByte('\n')
	return b.Bytes()
}

func parseDataKey(text []byte) ([]byte, error) {
	var found [][]byte
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, DataKeyPrefix):
			b, err := base64.StdEncoding.Strict().DecodeString(strings.TrimPrefix(line, DataKeyPrefix))
			if err != nil {
				return nil, fmt.Errorf("the %s line is not base64", DataKeyPrefix)
			}
			found = append(found, b)
		default:
			return nil, errors.New("not a ksn data key file")
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("a data key file holds exactly one %s line, this one %d", DataKeyPrefix, len(found))
	}
	return found[0], sc.Err()
}

// syncDir makes the directory's entries (a file linked or removed)
// durable.
func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
