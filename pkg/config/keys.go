package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	KindBool
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
	case KindBool:
		return "bool"
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
	// exactURL keeps a URL as given (a trailing slash, a query): it names
	// a file to download, not a base that paths are appended to.
	exactURL bool
	// tlsReason, when set, refuses a plain http:// URL to another machine
	// unless insecure_transport is set, and says what could happen.
	tlsReason string
	// choices, when set, lists the values a string setting accepts
	// (comma-separated; a string keeps Key comparable).
	choices string
}

// Keys are every setting ksn knows, in the order `ksn config list` shows
// them. Nothing outside this list is accepted in the file, so a typo is
// reported instead of silently ignored.
var Keys = []Key{
	{Name: "endpoint", Kind: KindURL, Default: "", tlsReason: "a server's answers could be changed on the way and the license key read",
		Help: "reputation server, e.g. https://ksn.example.org (empty: none; nothing is ever sent without one)"},
	{Name: "timeout", Kind: KindDuration, Default: "10s", positive: true,
		Help: "how long a request to the endpoint may take"},
	{Name: "proxy", Kind: KindURL, Default: "",
		Help: "HTTP(S) proxy for the endpoint (empty: use HTTPS_PROXY/HTTP_PROXY)"},
	{Name: "insecure_transport", Kind: KindBool, Default: "false",
		Help: "allow a plain http:// endpoint that is not on this machine (its answers and your license key travel unprotected)"},
	{Name: "tls.ca_file", Kind: KindString, Default: "",
		Help: "PEM file of a private CA trusted for the endpoint, besides the system's (SSL_CERT_FILE replaces those)"},
	{Name: "mail.own_relays", Kind: KindString, Default: "",
		Help: "your own mail relays (addresses, CIDR prefixes; comma-separated), left out of the sender addresses of spam statistics"},
	{Name: "cache.ttl", Kind: KindDuration, Default: "24h",
		Help: "how long network verdicts are cached"},
	{Name: "outbox.max_records", Kind: KindInt, Default: "100000", positive: true,
		Help: "records kept while not participating; the oldest go first"},
	{Name: "outbox.max_age", Kind: KindDuration, Default: "90d",
		Help: "records older than this are not sent on opt-in"},
	{Name: "feed.max_age", Kind: KindDuration, Default: "7d",
		Help: "check and status warn when feeds were updated longer ago than this (0s: never)"},
}

// LookupKey finds a setting by its dotted name: a key of the fixed table,
// or a field of a family member ("feed.my-list.url"), whether or not that
// member exists yet.
func LookupKey(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return familyKey(name)
}

// EnvName is the environment variable that overrides a setting, derived
// from the name so that users can guess it: "outbox.max_records" ->
// "KSN_OUTBOX_MAX_RECORDS", "feed.urlhaus-recent.url" ->
// "KSN_FEED_URLHAUS_RECENT_URL" (a shell cannot set a name with a dash).
func EnvName(name string) string {
	return "KSN_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
}

// unknownKeyError names the key a typo most likely meant and every known
// one, so the user can fix the name without opening the documentation.
func unknownKeyError(name string) error {
	msg := fmt.Sprintf("unknown setting %q", name)
	if s := suggest(name); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return errors.New(msg + "; known settings: " + knownNames())
}

// knownNames lists the keys in Keys order, then the families' patterns,
// for error messages.
func knownNames() string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	return strings.Join(append(names, familyNames()...), ", ")
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

// editDistance is the Levenshtein distance between a and b, counted in bytes
// (every key is ASCII).
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
