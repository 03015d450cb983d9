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
	file    string
	values  map[string]setting
	keys    []Key               // every setting of this run, in List order
	members map[string][]string // family prefix -> member names
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
	doc, err := readDoc(file)
	if err != nil {
		return nil, err
	}
	s := &Settings{file: file, values: map[string]setting{}, members: map[string][]string{}}
	s.keys = append(s.keys, Keys...)
	for i := range Families {
		f := &Families[i]
		names := f.members(doc)
		s.members[f.Prefix] = names
		for _, name := range names {
			for _, field := range f.Fields {
				k, _ := f.key(name, field.Name)
				s.keys = append(s.keys, k)
			}
		}
	}
	for _, k := range s.keys {
		v, err := k.parse(k.Default)
		if err != nil {
			// Keys and Families are ours; a default that does not
			// parse is a bug.
			panic(fmt.Sprintf("config: default of %s: %v", k.Name, err))
		}
		s.values[k.Name] = setting{Value{Key: k, Value: v.text, Source: "default"}, v}
	}

	var errs []error
	if unknown := unknownKeys(doc, nil); len(unknown) > 0 {
		errs = append(errs, fmt.Errorf("%s: unknown %s %s (known: %s)",
			file, plural(len(unknown), "key", "keys"), strings.Join(unknown, ", "), knownNames()))
	}
	for _, k := range s.keys {
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
		for _, k := range s.keys {
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
		for _, k := range s.keys {
			v := s.values[k.Name]
			if err := insecureURL(k, v.Value.Value); err != nil {
				errs = append(errs, fmt.Errorf("%w (the %s comes from %s)", err, urlNoun(k), v.Source))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// urlNoun names what a URL setting holds, for messages.
func urlNoun(k Key) string {
	if k.Name == "endpoint" {
		return "endpoint"
	}
	return "URL"
}

// Members lists the members of the family with prefix ("feed") in this
// run: the built-in ones first, then those in the config file.
func (s *Settings) Members(prefix string) []string {
	return slices.Clone(s.members[prefix])
}

// Get returns a setting by name, for `ksn config get`.
// A family member that does not exist (feed.nothing.url) has its
// default, which is what using it would find.
func (s *Settings) Get(name string) (Value, error) {
	if v, ok := s.values[name]; ok {
		return v.Value, nil
	}
	if k, ok := LookupKey(name); ok {
		return Value{Key: k, Value: k.Default, Source: "default"}, nil
	}
	return Value{}, unknownKeyError(name)
}

// List returns every setting: the fixed keys in Keys order, then each
// family's members field by field, so output is stable.
func (s *Settings) List() []Value {
	out := make([]Value, 0, len(s.keys))
	for _, k := range s.keys {
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
