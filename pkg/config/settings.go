package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Value is a setting's effective value and where it came from.
type Value struct {
	Key    Key
	Value  string // normalised text
	Source string // "default", "file", or "env KSN_TIMEOUT" (the variable's name)
}

// Settings are the effective settings: defaults, overridden by the config
// file, overridden by the environment. They are read once and never change,
// so every command in one run sees the same values.
type Settings struct {
	file   string
	values map[string]setting
}

// setting keeps the parsed form next to the text so accessors never re-parse
// (and so never fail after LoadSettings succeeded).
type setting struct {
	Value
	parsed
}

// LoadSettings reads <p.Config>/config.toml when it exists (a missing file
// means all defaults) and lets environment variables (EnvName) override
// every key; a variable that is set but empty counts as unset, so
// `KSN_ENDPOINT= ksn ...` falls back to the file. Every problem is reported,
// not just the first, each naming the key, where the value came from and
// what is wrong with it: a bad value is never replaced by the default
// behind the user's back. Unknown keys in the file are errors too, because
// a misspelt key would otherwise be ignored without a word.
func LoadSettings(p Paths, env Env) (*Settings, error) {
	file, err := configFile(p)
	if err != nil {
		return nil, err
	}
	s := &Settings{file: file, values: make(map[string]setting, len(Keys))}
	for _, k := range Keys {
		v, err := k.parse(k.Default)
		if err != nil {
			// Keys is ours; a default that does not parse is a bug.
			panic(fmt.Sprintf("config: default of %s: %v", k.Name, err))
		}
		s.values[k.Name] = setting{Value{Key: k, Value: v.text, Source: "default"}, v}
	}

	doc, err := readDoc(file)
	if err != nil {
		return nil, err
	}
	var errs []error
	if unknown := unknownKeys(doc, nil); len(unknown) > 0 {
		errs = append(errs, fmt.Errorf("%s: unknown %s %s (known: %s)",
			file, plural(len(unknown), "key", "keys"), strings.Join(unknown, ", "), knownNames()))
	}
	for _, k := range Keys {
		raw, ok := lookupDoc(doc, k.Name)
		if !ok {
			continue
		}
		v, err := k.fromTOML(raw)
		if err != nil {
			errs = append(errs, sourceError(k, err, "in "+file))
			continue
		}
		s.values[k.Name] = setting{Value{Key: k, Value: v.text, Source: "file"}, v}
	}
	if env != nil {
		for _, k := range Keys {
			name := EnvName(k.Name)
			raw := env(name)
			if strings.TrimSpace(raw) == "" {
				continue
			}
			v, err := k.parse(raw)
			if err != nil {
				errs = append(errs, sourceError(k, err, "from env "+name))
				continue
			}
			s.values[k.Name] = setting{Value{Key: k, Value: v.text, Source: "env " + name}, v}
		}
	}
	if len(errs) == 0 && !s.Bool("insecure_transport") {
		if err := InsecureEndpoint(s.String("endpoint")); err != nil {
			errs = append(errs, fmt.Errorf("%w (the endpoint comes from %s)", err, s.values["endpoint"].Source))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Get returns a setting by name, for `ksn config get`.
func (s *Settings) Get(name string) (Value, error) {
	v, ok := s.values[name]
	if !ok {
		return Value{}, unknownKeyError(name)
	}
	return v.Value, nil
}

// List returns every setting in Keys order, so output is stable.
func (s *Settings) List() []Value {
	out := make([]Value, 0, len(Keys))
	for _, k := range Keys {
		out = append(out, s.values[k.Name].Value)
	}
	return out
}

// must is for the typed accessors: their names are constants in ksn's own
// code, so an unknown name or a wrong kind is a bug to find in the first
// test run, not a condition for callers to handle.
func (s *Settings) must(name string, kinds ...Kind) setting {
	v, ok := s.values[name]
	if !ok {
		panic("config: unknown setting " + strconv.Quote(name))
	}
	if len(kinds) > 0 && !slices.Contains(kinds, v.Key.Kind) {
		panic(fmt.Sprintf("config: setting %s is a %s", name, v.Key.Kind))
	}
	return v
}

// String returns the normalised text of any setting; for a URL, "" means
// none is configured. It panics on an unknown name.
func (s *Settings) String(name string) string { return s.must(name).Value.Value }

// Duration returns a duration setting. It panics on an unknown name or a
// setting of another kind.
func (s *Settings) Duration(name string) time.Duration {
	return s.must(name, KindDuration).dur
}

// Int returns an integer setting. It panics on an unknown name or a setting
// of another kind.
func (s *Settings) Int(name string) int { return s.must(name, KindInt).n }

// Bool returns a boolean setting. It panics on an unknown name or a
// setting of another kind.
func (s *Settings) Bool(name string) bool { return s.must(name, KindBool).b }

// File is the config file's path, whether or not it exists, so that
// messages can tell the user what to edit.
func (s *Settings) File() string { return s.file }

// plural picks the word for a count of n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
