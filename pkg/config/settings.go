package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Kind is the type of a setting's value; it decides how text from the file,
// the environment or the command line is checked and normalised.
type Kind int

// The kinds of settings. URLs are their own kind, not strings, because an
// endpoint or proxy must be checked before anything is sent to it.
const (
	KindString Kind = iota
	KindURL
	KindDuration
	KindInt
)

// String names the kind the way help text and JSON output spell it.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindURL:
		return "url"
	case KindDuration:
		return "duration"
	case KindInt:
		return "int"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Key describes one setting.
type Key struct {
	Name    string // dotted, e.g. "outbox.max_records"
	Kind    Kind   // KindString, KindURL, KindDuration, KindInt
	Default string // as a user would type it
	Help    string // one line, for `ksn config list` and the man page

	// positive rejects zero: a zero timeout would mean "wait forever" to
	// net/http, which is never what someone typing 0s wants.
	positive bool
}

// Keys are every setting ksn knows, in the order `ksn config list` shows
// them. Nothing outside this list is accepted in the file, so a typo is
// reported instead of silently ignored.
var Keys = []Key{
	{Name: "endpoint", Kind: KindURL, Default: "",
		Help: "reputation server, e.g. https://ksn.example.org (empty: none; nothing is ever sent without one)"},
	{Name: "timeout", Kind: KindDuration, Default: "10s", positive: true,
		Help: "how long a request to the endpoint may take"},
	{Name: "proxy", Kind: KindURL, Default: "",
		Help: "HTTP(S) proxy for the endpoint (empty: use HTTPS_PROXY/HTTP_PROXY)"},
	{Name: "cache.ttl", Kind: KindDuration, Default: "24h",
		Help: "how long network verdicts are cached"},
	{Name: "outbox.max_records", Kind: KindInt, Default: "100000",
		Help: "records kept while not participating; the oldest go first"},
	{Name: "outbox.max_age", Kind: KindDuration, Default: "90d",
		Help: "records older than this are not sent on opt-in"},
}

// LookupKey finds a setting by its dotted name.
func LookupKey(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// EnvName is the environment variable that overrides a setting, derived
// from the name so that users can guess it: "outbox.max_records" ->
// "KSN_OUTBOX_MAX_RECORDS".
func EnvName(name string) string {
	return "KSN_" + strings.ToUpper(strings.ReplaceAll(name, ".", "_"))
}

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

// configFileName is fixed: users look for it next to the other XDG files.
const configFileName = "config.toml"

func configFile(p Paths) (string, error) {
	if p.Config == "" {
		// A relative "config.toml" would quietly read or write the
		// working directory.
		return "", errors.New("settings: the config directory is not known")
	}
	return filepath.Join(p.Config, configFileName), nil
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

// File is the config file's path, whether or not it exists, so that
// messages can tell the user what to edit.
func (s *Settings) File() string { return s.file }

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
	if k.Kind == KindInt {
		tomlValue = int64(v.n)
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

// ParseDuration reads Go durations ("1h30m", "1.5h", "250ms") plus a "d"
// unit of 24 hours ("90d", "1d12h"), because retention periods are thought
// of in days. A negative duration is an error: every duration setting is a
// length of time.
func ParseDuration(s string) (time.Duration, error) {
	d, problem := parseDuration(s)
	if problem != "" {
		return 0, fmt.Errorf("%q %s", s, problem)
	}
	return d, nil
}

const durationExamples = "(e.g. 30s, 5m, 2h, 90d)"

var durationUnits = map[string]uint64{
	"ns": uint64(time.Nanosecond),
	"us": uint64(time.Microsecond),
	"µs": uint64(time.Microsecond), // U+00B5 micro sign
	"μs": uint64(time.Microsecond), // U+03BC Greek mu
	"ms": uint64(time.Millisecond),
	"s":  uint64(time.Second),
	"m":  uint64(time.Minute),
	"h":  uint64(time.Hour),
	"d":  uint64(24 * time.Hour),
}

// parseDuration follows time.ParseDuration (same grammar, same overflow
// checks) with the "d" unit added. Its problem text is a predicate, so that
// the caller can put the value and its source in front of it.
func parseDuration(s string) (time.Duration, string) {
	notDuration := "is not a duration " + durationExamples
	if strings.HasPrefix(s, "-") {
		return 0, "is negative; a duration must be 0 or more " + durationExamples
	}
	s = strings.TrimPrefix(s, "+")
	if s == "0" {
		// Go's special case: zero needs no unit.
		return 0, ""
	}
	if s == "" {
		return 0, notDuration
	}
	if allDigits(s) {
		return 0, "has no unit (e.g. " + s + "s, " + s + "m, " + s + "h or " + s + "d)"
	}
	var total uint64
	for s != "" {
		var v, f uint64
		scale := 1.0
		if !(s[0] == '.' || '0' <= s[0] && s[0] <= '9') {
			return 0, notDuration
		}
		pl := len(s)
		var ok bool
		v, s, ok = leadingInt(s)
		if !ok {
			return 0, tooLong
		}
		pre := pl != len(s)
		post := false
		if s != "" && s[0] == '.' {
			s = s[1:]
			pl := len(s)
			f, scale, s = leadingFraction(s)
			post = pl != len(s)
		}
		if !pre && !post {
			return 0, notDuration
		}
		i := 0
		for ; i < len(s); i++ {
			if c := s[i]; c == '.' || '0' <= c && c <= '9' {
				break
			}
		}
		if i == 0 {
			return 0, notDuration
		}
		u := s[:i]
		s = s[i:]
		unit, ok := durationUnits[u]
		if !ok {
			return 0, fmt.Sprintf("has an unknown unit %q (use ns, us, ms, s, m, h or d)", u)
		}
		if v > math.MaxInt64/unit {
			return 0, tooLong
		}
		v *= unit
		if f > 0 {
			// float64 is needed to avoid overflow; the result is exact for
			// the text formatDuration writes, which the fuzz test checks.
			v += uint64(float64(f) * (float64(unit) / scale))
			if v > math.MaxInt64 {
				return 0, tooLong
			}
		}
		total += v
		if total > math.MaxInt64 {
			return 0, tooLong
		}
	}
	return time.Duration(total), ""
}

const tooLong = "is too long (at most about 292 years)"

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// leadingInt consumes the leading digits; ok is false on overflow.
func leadingInt(s string) (x uint64, rest string, ok bool) {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		if x > math.MaxInt64/10 {
			return 0, "", false
		}
		x = x*10 + uint64(c) - '0'
		if x > math.MaxInt64 {
			return 0, "", false
		}
	}
	return x, s[i:], true
}

// leadingFraction consumes the digits after a decimal point, ignoring those
// beyond what an int64 can hold (they are below a nanosecond anyway).
func leadingFraction(s string) (x uint64, scale float64, rest string) {
	i := 0
	scale = 1
	overflow := false
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		if overflow {
			continue
		}
		if x > (math.MaxInt64-1)/10 {
			overflow = true
			continue
		}
		y := x*10 + uint64(c) - '0'
		if y > math.MaxInt64 {
			overflow = true
			continue
		}
		x = y
		scale *= 10
	}
	return x, scale, s[i:]
}

// formatDuration is the normal form of a duration setting: days once the
// duration reaches two days ("90d", "2d12h"), hours below that ("24h",
// "36h", "1h30m"), zero parts left out, seconds with the fraction they need,
// and time.Duration's own text below a second ("250ms"). ParseDuration reads
// every string it writes back to the same duration.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		// Covers 0 ("0s") and negatives, which settings never hold.
		return d.String()
	}
	var b strings.Builder
	if d >= 48*time.Hour {
		days := d / (24 * time.Hour)
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		d -= m * time.Minute
	}
	if d > 0 {
		sec := d / time.Second
		ns := d - sec*time.Second
		b.WriteString(strconv.FormatInt(int64(sec), 10))
		if ns > 0 {
			b.WriteString(strings.TrimRight(fmt.Sprintf(".%09d", ns), "0"))
		}
		b.WriteString("s")
	}
	return b.String()
}

// parsed is a checked value in the forms callers need.
type parsed struct {
	text string        // normalised, as shown and as written to the file
	dur  time.Duration // KindDuration
	n    int           // KindInt
}

// badValue is a value that failed its check. shown is safe to print (a URL
// has its credentials cut out); problem is a predicate such as "is not a
// duration".
type badValue struct {
	shown   string
	problem string
}

func (e *badValue) Error() string { return e.shown + " " + e.problem }

// sourceError puts the key and the value's origin in front of the problem:
// `timeout: "ten" from env KSN_TIMEOUT is not a duration (...)`.
func sourceError(k Key, err error, source string) error {
	var bv *badValue
	if !errors.As(err, &bv) {
		return fmt.Errorf("%s: %w", k.Name, err)
	}
	if source != "" {
		return fmt.Errorf("%s: %s %s %s", k.Name, bv.shown, source, bv.problem)
	}
	return fmt.Errorf("%s: %s %s", k.Name, bv.shown, bv.problem)
}

// parse checks text from the environment or the command line.
func (k Key) parse(raw string) (parsed, error) {
	s := strings.TrimSpace(raw)
	switch k.Kind {
	case KindURL:
		return parseURL(k, s)
	case KindDuration:
		d, problem := parseDuration(s)
		if problem != "" {
			return parsed{}, &badValue{strconv.Quote(raw), problem}
		}
		if d == 0 && k.positive {
			return parsed{}, &badValue{strconv.Quote(raw), "must be more than 0 " + durationExamples}
		}
		return parsed{text: formatDuration(d), dur: d}, nil
	case KindInt:
		if !allDigits(strings.TrimPrefix(s, "+")) {
			if strings.HasPrefix(s, "-") && allDigits(s[1:]) {
				return parsed{}, &badValue{strconv.Quote(raw), "is negative; it must be 0 or more"}
			}
			return parsed{}, &badValue{strconv.Quote(raw), "is not a whole number (e.g. " + k.Default + ")"}
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return parsed{}, &badValue{strconv.Quote(raw), "is too large"}
		}
		return parsed{text: strconv.Itoa(n), n: n}, nil
	default:
		return parsed{text: s}, nil
	}
}

// fromTOML checks a value decoded from the file. TOML types are part of the
// format: durations and URLs are strings, counts are integers. A mismatch
// is reported with the fix rather than guessed at (is timeout = 30 seconds
// or minutes?).
func (k Key) fromTOML(raw any) (parsed, error) {
	switch k.Kind {
	case KindInt:
		n, ok := raw.(int64)
		if !ok {
			return parsed{}, &badValue{tomlText(raw), "must be an integer without quotes (e.g. " + k.Name[strings.LastIndex(k.Name, ".")+1:] + " = " + k.Default + ")"}
		}
		if n < 0 {
			return parsed{}, &badValue{tomlText(raw), "is negative; it must be 0 or more"}
		}
		if int64(int(n)) != n {
			return parsed{}, &badValue{tomlText(raw), "is too large"}
		}
		return parsed{text: strconv.FormatInt(n, 10), n: int(n)}, nil
	default:
		s, ok := raw.(string)
		if !ok {
			return parsed{}, &badValue{tomlText(raw), "must be a quoted string (e.g. " + k.example() + ")"}
		}
		return k.parse(s)
	}
}

func (k Key) example() string {
	leaf := k.Name[strings.LastIndex(k.Name, ".")+1:]
	switch k.Kind {
	case KindURL:
		return leaf + ` = "https://ksn.example.org"`
	case KindDuration:
		return leaf + ` = "` + k.Default + `"`
	}
	return leaf + ` = "..."`
}

// tomlText shows a decoded value roughly as it was written in the file.
func tomlText(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	}
	return fmt.Sprint(v)
}

// parseURL accepts an empty value (nothing configured) or an absolute
// http(s) URL without credentials, query or fragment. Trailing slashes are
// dropped so that callers can append "/v1/...".
func parseURL(k Key, s string) (parsed, error) {
	s = strings.TrimRight(s, "/")
	if s == "" {
		return parsed{}, nil
	}
	shown := strconv.Quote(redactURL(s))
	bad := func(problem string) (parsed, error) { return parsed{}, &badValue{shown, problem} }
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL, credentials and all
		}
		return bad("is not a URL: " + err.Error())
	}
	if !strings.Contains(s, "://") {
		// Also catches "host:8080", which url.Parse reads as scheme "host".
		return bad("has no scheme (e.g. https://" + strings.TrimPrefix(redactURL(s), "//") + ")")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("must start with https:// or http://, not " + u.Scheme + "://")
	}
	if u.User != nil {
		problem := "contains credentials (user:password@); they are not allowed because a config file gets copied and shared, and the credential would leak with it"
		if k.Name == "proxy" {
			problem += "; for a proxy that needs a password, set HTTPS_PROXY instead"
		}
		return bad(problem)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return bad("has no host (e.g. https://ksn.example.org)")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("has port " + p + "; a port is a number from 1 to 65535")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("has an empty port after ':'")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return bad("has a query (?...); give the server's base URL only")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return bad("has a fragment (#...); give the server's base URL only")
	}
	return parsed{text: s}, nil
}

// redactURL cuts anything that looks like userinfo out of a URL before it is
// printed in an error, even when the URL does not parse.
func redactURL(s string) string {
	scheme, rest := "", s
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, rest = s[:i+3], s[i+3:]
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	return scheme + "REDACTED" + rest[at:]
}

func unknownKeyError(name string) error {
	msg := fmt.Sprintf("unknown setting %q", name)
	if s := suggest(name); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return errors.New(msg + "; known settings: " + knownNames())
}

func knownNames() string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}

// suggest finds the key a typo most likely meant: a near spelling, or the
// same leaf without its table ("max_records").
func suggest(name string) string {
	best, bestDist := "", 3
	for _, k := range Keys {
		if strings.HasSuffix(k.Name, "."+name) {
			return k.Name
		}
		if d := editDistance(strings.ToLower(name), k.Name); d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
// path, e.g. ["outbox"].
func isTablePrefix(path []string) bool {
	for _, k := range Keys {
		parts := strings.Split(k.Name, ".")
		if len(parts) > len(path) && slices.Equal(parts[:len(path)], path) {
			return true
		}
	}
	return false
}

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
