package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// configFileName is fixed: users look for it next to the other XDG files.
const configFileName = "config.toml"

// configFile is the path of config.toml in p's config directory.
func configFile(p Paths) (string, error) {
	if p.Config == "" {
		// A relative "config.toml" would quietly read or write the
		// working directory.
		return "", errors.New("settings: the config directory is not known")
	}
	return filepath.Join(p.Config, configFileName), nil
}

// SetSetting validates and normalises value and writes it to the config
// file, keeping every other key. The value is checked before the file is
// touched, so a bad value leaves the file as it was. The file is replaced
// atomically (temporary file, fsync, rename, fsync of the directory), so a
// crash or two `ksn config set` running at once never leave a half-written
// file; of two concurrent writers the last one wins and the other one's
// change is lost. Comments in the file are not kept: the TOML library does
// not preserve them.
func SetSetting(p Paths, name, value string) error {
	k, ok := LookupKey(name)
	if !ok {
		return unknownKeyError(name)
	}
	v, err := k.parse(value)
	if err != nil {
		return sourceError(k, err, "")
	}
	file, err := configFile(p)
	if err != nil {
		return err
	}
	doc, err := readDoc(file)
	if err != nil {
		return err
	}
	if doc == nil {
		doc = map[string]any{}
	}
	var tomlValue any = v.text
	switch k.Kind {
	case KindInt:
		tomlValue = int64(v.n)
	case KindBool:
		tomlValue = v.b
	}
	// A plain-http URL to another machine (the endpoint, a feed) needs
	// insecure_transport set first (in the file: the variable may be gone
	// next time).
	if k.tlsReason != "" {
		allowed := false
		if raw, ok := lookupDoc(doc, "insecure_transport"); ok {
			allowed, _ = raw.(bool)
		}
		if !allowed {
			if err := insecureURL(k, v.text); err != nil {
				return err
			}
		}
	}
	if err := setDoc(doc, k.Name, tomlValue); err != nil {
		return fmt.Errorf("%s: cannot set %s: %w", file, name, err)
	}
	return writeDoc(p.Config, file, doc)
}

// UnsetSetting removes a key from the config file, which puts it back to its
// default (or to its environment variable, when that is set). A key that is
// not in the file, or a file that does not exist, is not an error: the
// result the user asked for already holds. The file is written the way
// SetSetting writes it.
func UnsetSetting(p Paths, name string) error {
	if _, ok := LookupKey(name); !ok {
		return unknownKeyError(name)
	}
	file, err := configFile(p)
	if err != nil {
		return err
	}
	doc, err := readDoc(file)
	if err != nil {
		return err
	}
	if !deleteDoc(doc, strings.Split(name, ".")) {
		return nil
	}
	return writeDoc(p.Config, file, doc)
}

// readDoc decodes the config file into TOML's generic form; a missing file
// is an empty document (nil).
func readDoc(file string) (map[string]any, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	doc := map[string]any{}
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid TOML: %w", file, err)
	}
	return doc, nil
}

// unknownKeys lists every leaf of doc that is not a setting, in TOML's
// spelling so the user can find it in the file. A key whose own name holds
// a dot ("outbox.max_records" = 1, quoted) is unknown too: it is a
// different key from max_records in [outbox].
func unknownKeys(doc map[string]any, prefix toml.Key) []string {
	var out []string
	for name, v := range doc {
		path := append(slices.Clone(prefix), name)
		if sub, ok := v.(map[string]any); ok && isTablePrefix(path) {
			out = append(out, unknownKeys(sub, path)...)
			continue
		}
		if _, ok := LookupKey(strings.Join(path, ".")); ok && !slices.ContainsFunc(path, func(p string) bool { return strings.Contains(p, ".") }) {
			continue
		}
		out = append(out, path.String())
	}
	slices.Sort(out)
	return out
}

// isTablePrefix reports whether some setting lives inside the table at
// path, e.g. ["outbox"], ["feed"] or ["feed", "my-list"].
func isTablePrefix(path []string) bool {
	for _, k := range Keys {
		parts := strings.Split(k.Name, ".")
		if len(parts) > len(path) && slices.Equal(parts[:len(path)], path) {
			return true
		}
	}
	if _, ok := family(path[0]); ok {
		return len(path) == 1 || len(path) == 2 && ValidMemberName(path[1])
	}
	return false
}

// lookupDoc finds a dotted setting name in the decoded file, one table per
// part: "outbox.max_records" is max_records in [outbox].
func lookupDoc(doc map[string]any, name string) (any, bool) {
	var cur any = doc
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setDoc puts value at a dotted name, creating the tables on the way. A part
// of the path that holds a value instead of a table is an error, so that a
// hand-written `outbox = 1` is reported rather than overwritten.
func setDoc(doc map[string]any, name string, value any) error {
	parts := strings.Split(name, ".")
	cur := doc
	for i, part := range parts[:len(parts)-1] {
		next, ok := cur[part]
		if !ok {
			m := map[string]any{}
			cur[part] = m
			cur = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is %s, not a table", strings.Join(parts[:i+1], "."), tomlText(next))
		}
		cur = m
	}
	cur[parts[len(parts)-1]] = value
	return nil
}

// deleteDoc removes the key at path and any table it leaves empty, so that
// unsetting the last key of [outbox] does not leave an empty [outbox].
func deleteDoc(doc map[string]any, path []string) bool {
	if doc == nil {
		return false
	}
	if len(path) == 1 {
		if _, ok := doc[path[0]]; !ok {
			return false
		}
		delete(doc, path[0])
		return true
	}
	sub, ok := doc[path[0]].(map[string]any)
	if !ok || !deleteDoc(sub, path[1:]) {
		return false
	}
	if len(sub) == 0 {
		delete(doc, path[0])
	}
	return true
}

const fileHeader = "# ksn settings. Change them with `ksn config set <key> <value>`;\n" +
	"# `ksn config list` shows every key, its value and where the value comes from.\n"

// writeDoc replaces the config file atomically. When config.toml is a
// symlink (dotfiles kept in a repository), the file it points to is
// replaced, so the link survives.
func writeDoc(dir, file string, doc map[string]any) error {
	var buf bytes.Buffer
	buf.WriteString(fileHeader)
	if len(doc) > 0 {
		buf.WriteString("\n")
	}
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing settings: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing settings: %w", err)
	}
	target := file
	if fi, err := os.Lstat(file); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if target, err = filepath.EvalSymlinks(file); err != nil {
			return fmt.Errorf("writing settings: %w", err)
		}
	}
	targetDir := filepath.Dir(target)
	// CreateTemp makes the file 0600; Chmod keeps it so under an odd umask.
	tmp, err := os.CreateTemp(targetDir, "."+configFileName+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing settings: %w", err)
	}
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(buf.Bytes())
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing settings: %w", err)
	}
	return syncDir(targetDir)
}

// syncDir makes the rename durable: without it a crash can bring back the
// old file, or no file at all, on some file systems.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("writing settings: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("writing settings: %w", err)
	}
	return nil
}
