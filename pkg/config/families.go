package config

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// A Family is a set of settings that share a pattern, one member per
// name: feed.NAME.url, feed.NAME.format and feed.NAME.enabled for every
// feed. The fixed table (Keys) cannot hold them, since users name their
// own feeds; a family keeps them as checked as a fixed key: a member's
// fields have a kind, a default and help, and a field the family does not
// have is an unknown key.
//
// A member exists when ksn defines it (Builtin) or when the config file
// has a table for it ([feed.my-list]). Environment variables override the
// fields of existing members only (KSN_FEED_URLHAUS_RECENT_URL): a
// variable cannot add a member, because a name with dashes cannot be read
// back from the variable's name.
type Family struct {
	Prefix string // the first part of every member's keys, e.g. "feed"
	// Fields are the settings of each member; a field's Name is the last
	// part of the key ("url") and its Default is a member's unless the
	// member overrides it.
	Fields  []Key
	Builtin []Member
}

// Member is a family member that ksn defines itself, with the defaults
// that differ from the family's.
type Member struct {
	Name     string
	Defaults map[string]string
}

// feedFormats are the formats a feed's format setting accepts; pkg/feeds
// holds a test that they are the formats it can update.
const feedFormats = "auto,malwarebazaar,clamav-hdb,clamav-hsb,known-good,urlhaus,url-list,urlhaus-hostfile,clamav-cvd"

// Families are every family of settings, in the order `ksn config list`
// shows them (after Keys).
var Families = []Family{{
	Prefix: "feed",
	Fields: []Key{
		{Name: "url", Kind: KindURL, exactURL: true, tlsReason: "a feed's entries could be changed on the way",
			Help: "where `ksn feed update` downloads the feed (https://; a plain http:// URL on another machine needs insecure_transport)"},
		{Name: "format", Kind: KindString, Default: "auto", choices: feedFormats,
			Help: "the feed's format (auto: detected from the download)"},
		{Name: "enabled", Kind: KindBool, Default: "true",
			Help: "whether `ksn feed update` fetches the feed"},
	},
	// The published URLs of abuse.ch's exports (bazaar.abuse.ch/export,
	// urlhaus.abuse.ch/api). Point one at a mirror with
	// `ksn config set feed.NAME.url URL`.
	Builtin: []Member{
		{Name: "malwarebazaar-recent", Defaults: map[string]string{
			"url": "https://bazaar.abuse.ch/export/csv/recent/", "format": "malwarebazaar"}},
		{Name: "urlhaus-recent", Defaults: map[string]string{
			"url": "https://urlhaus.abuse.ch/downloads/csv_recent/", "format": "urlhaus"}},
		{Name: "urlhaus-hostfile", Defaults: map[string]string{
			"url": "https://urlhaus.abuse.ch/downloads/hostfile/", "format": "urlhaus-hostfile"}},
	},
}}

// memberPattern is what a member's name may be: it is a TOML bare key, a
// part of an environment variable's name once its dashes become
// underscores (so no underscore of its own, which would make two names
// share a variable), and a name users type.
var memberPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// ValidMemberName reports whether name can name a family member (a feed):
// 1 to 32 lower-case letters, digits and dashes, starting with a letter.
func ValidMemberName(name string) bool { return memberPattern.MatchString(name) }

// family finds a family by its prefix.
func family(prefix string) (*Family, bool) {
	for i := range Families {
		if Families[i].Prefix == prefix {
			return &Families[i], true
		}
	}
	return nil, false
}

// IsBuiltin reports whether ksn defines the member name of the family
// prefix.
func IsBuiltin(prefix, name string) bool {
	f, ok := family(prefix)
	return ok && f.builtin(name) != nil
}

func (f *Family) builtin(name string) *Member {
	for i := range f.Builtin {
		if f.Builtin[i].Name == name {
			return &f.Builtin[i]
		}
	}
	return nil
}

// key is the setting of one member's field, with the member's default.
func (f *Family) key(member, field string) (Key, bool) {
	if !ValidMemberName(member) {
		return Key{}, false
	}
	for _, k := range f.Fields {
		if k.Name != field {
			continue
		}
		k.Name = f.Prefix + "." + member + "." + field
		if m := f.builtin(member); m != nil {
			if d, ok := m.Defaults[field]; ok {
				k.Default = d
			}
		}
		return k, true
	}
	return Key{}, false
}

// familyKey resolves "feed.NAME.url" to its setting.
func familyKey(name string) (Key, bool) {
	parts := strings.Split(name, ".")
	if len(parts) != 3 {
		return Key{}, false
	}
	f, ok := family(parts[0])
	if !ok {
		return Key{}, false
	}
	return f.key(parts[1], parts[2])
}

// members lists a family's members: the built-in ones in their order,
// then those the config file has a table for, sorted.
func (f *Family) members(doc map[string]any) []string {
	names := make([]string, 0, len(f.Builtin))
	for _, m := range f.Builtin {
		names = append(names, m.Name)
	}
	tbl, _ := doc[f.Prefix].(map[string]any)
	var extra []string
	for name, v := range tbl {
		if _, isTable := v.(map[string]any); isTable && ValidMemberName(name) && !slices.Contains(names, name) {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	return append(names, extra...)
}

// Choices lists the values a setting accepts when it accepts only some
// (a feed's format); nil when any value of its kind will do.
func (k Key) Choices() []string {
	if k.choices == "" {
		return nil
	}
	return strings.Split(k.choices, ",")
}

// familyNames lists the families' keys with NAME in place of the member,
// for messages that list every setting.
func familyNames() []string {
	var out []string
	for _, f := range Families {
		for _, k := range f.Fields {
			out = append(out, f.Prefix+".NAME."+k.Name)
		}
	}
	return out
}
