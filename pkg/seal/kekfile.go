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

// KEKPrefix starts the line of a KEK file that holds the key: the format
// is "ksn-kek-v1:" and the key's 32 bytes in standard base64 (with
// padding). Other lines are blank or comments starting with '#'.
const KEKPrefix = "ksn-kek-v1:"

// FormatKEK returns the text of a KEK file holding kek.
func FormatKEK(kek Key) []byte {
	var b bytes.Buffer
	b.WriteString("# ksn key-encryption key: it wraps the half-year data keys of a\n")
	b.WriteString("# ksn serve database. Without it the sealed submissions cannot be read.\n")
	b.WriteString("# Keep it secret (mode 0600), and keep it out of the database's backups.\n")
	b.WriteString(KEKPrefix)
	b.WriteString(base64.StdEncoding.EncodeToString(kek[:]))
	b.WriteByte('\n')
	return b.Bytes()
}

// ParseKEK reads the text of a KEK file: exactly one "ksn-kek-v1:" line;
// blank lines and '#' comments are ignored.
func ParseKEK(text []byte) (Key, error) {
	var found []string
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, KEKPrefix):
			found = append(found, strings.TrimPrefix(line, KEKPrefix))
		default:
			return Key{}, errors.New("not a ksn key-encryption key file (want a line ksn-kek-v1:<base64>)")
		}
	}
	if err := sc.Err(); err != nil {
		return Key{}, err
	}
	if len(found) != 1 {
		return Key{}, fmt.Errorf("a key-encryption key file holds exactly one %s line, this one %d", KEKPrefix, len(found))
	}
	b, err := base64.StdEncoding.Strict().DecodeString(found[0])
	if err != nil || len(b) != KeySize {
		return Key{}, fmt.Errorf("the %s line does not hold %d bytes in base64", KEKPrefix, KeySize)
	}
	return Key(b), nil
}

// ReadKEKFile reads a KEK file. insecure reports a file that its group or
// others may read or write, which the caller should warn about.
func ReadKEKFile(path string) (kek Key, insecure bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Key{}, false, err
	}
	kek, err = ParseKEK(b)
	if err != nil {
		return Key{}, false, fmt.Errorf("%s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		insecure = true
	}
	return kek, insecure, nil
}

// WriteKEKFile makes a new random KEK and writes it to path, mode 0600. It
// never replaces an existing file (that would orphan every data key the old
// KEK wraps): an existing path gives an error wrapping fs.ErrExist. Where
// the file system has hard links the file appears whole or not at all, so
// that processes racing to create the same path all end up reading the one
// key that won; elsewhere it is created exclusively and written in place.
func WriteKEKFile(path string) (Key, error) {
	kek, err := NewKey()
	if err != nil {
		return Key{}, err
	}
	return kek, SaveKEKFile(path, kek)
}

// SaveKEKFile writes kek to path as WriteKEKFile writes a new one: whole
// or not at all, never over an existing file (an error wrapping
// fs.ErrExist), and durably. It is for moving a key to another file
// system, where a rename cannot.
func SaveKEKFile(path string, kek Key) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".ksn-kek-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(FormatKEK(kek)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A hard link, unlike a rename, fails when the target exists.
	err = os.Link(tmp.Name(), path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// A file system without hard links: create exclusively instead.
		err = writeExclusive(path, FormatKEK(kek))
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w (a key-encryption key is never overwritten)", path, fs.ErrExist)
	}
	if err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func writeExclusive(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
