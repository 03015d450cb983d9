package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parsed is a checked value in the forms callers need.
type parsed struct {
	text string        // normalised, as shown and as written to the file
	dur  time.Duration // KindDuration
	n    int           // KindInt
	b    bool          // KindBool
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
		if n == 0 && k.positive {
			return parsed{}, &badValue{strconv.Quote(raw), "must be more than 0 (0 would mean no bound at all)"}
		}
		return parsed{text: strconv.Itoa(n), n: n}, nil
	case KindBool:
		switch strings.ToLower(s) {
		case "true", "1", "yes", "on":
			return parsed{text: "true", b: true}, nil
		case "false", "0", "no", "off":
			return parsed{text: "false"}, nil
		}
		return parsed{}, &badValue{strconv.Quote(raw), "is not true or false"}
	default:
		if k.choices != "" {
			v := strings.ToLower(s)
			if !slices.Contains(strings.Split(k.choices, ","), v) {
				return parsed{}, &badValue{strconv.Quote(raw), "is not one of " + strings.ReplaceAll(k.choices, ",", ", ")}
			}
			return parsed{text: v}, nil
		}
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
		if n == 0 && k.positive {
			return parsed{}, &badValue{tomlText(raw), "must be more than 0 (0 would mean no bound at all)"}
		}
		return parsed{text: strconv.FormatInt(n, 10), n: int(n)}, nil
	case KindBool:
		b, ok := raw.(bool)
		if !ok {
			return parsed{}, &badValue{tomlText(raw), "must be true or false without quotes (e.g. " + k.Name + " = true)"}
		}
		return parsed{text: strconv.FormatBool(b), b: b}, nil
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
	if !k.exactURL {
		s = strings.TrimRight(s, "/")
	}
	if s == "" {
		return parsed{}, nil
	}
	shown := strconv.Quote(RedactUserinfo(s))
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
		return bad("has no scheme (e.g. https://" + strings.TrimPrefix(RedactUserinfo(s), "//") + ")")
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
	if (u.RawQuery != "" || u.ForceQuery) && !k.exactURL {
		return bad("has a query (?...); give the server's base URL only")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return bad("has a fragment (#...); give the server's base URL only")
	}
	return parsed{text: s}, nil
}

// redactURL cuts anything that looks like userinfo out of a URL before it is
// printed in an error, even when the URL does not parse.
func RedactUserinfo(s string) string {
	scheme, rest := "", s
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, rest = s[:i+3], s[i+3:]
	} else if strings.HasPrefix(s, "//") {
		// Scheme-relative ("//user:pw@host"): url.Parse reads userinfo there too.
		scheme, rest = "//", s[2:]
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

// PlainRemote reports whether rawURL is a plain http:// URL to another
// machine. Loopback (localhost, 127.0.0.0/8, ::1) is not: a server on the
// same machine, or a tunnel, is as safe as the machine.
func PlainRemote(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return false
	}
	return true
}

// insecureURL returns the problem with a plain http:// URL to another
// machine in a setting that needs TLS (its tlsReason says why); nil when
// there is none.
func insecureURL(k Key, value string) error {
	if k.tlsReason == "" || !PlainRemote(value) {
		return nil
	}
	if k.Name == "endpoint" {
		return InsecureEndpoint(value)
	}
	return fmt.Errorf("%s: %s is plain http to another machine: %s; use https://, or allow it with 'ksn config set insecure_transport true'",
		k.Name, strconv.Quote(RedactUserinfo(value)), k.tlsReason)
}

// NormalizeBaseURL checks a service's base URL as the endpoint setting is
// checked (http or https, a host, no credentials, query or fragment) and
// drops trailing slashes, so that callers can append a path.
func NormalizeBaseURL(s string) (string, error) {
	v, err := parseURL(Key{Name: "url"}, strings.TrimSpace(s))
	if err != nil {
		var bv *badValue
		if errors.As(err, &bv) {
			return "", fmt.Errorf("%s %s", bv.shown, bv.problem)
		}
		return "", err
	}
	return v.text, nil
}

// InsecureEndpoint returns a problem when endpoint is a plain http:// URL
// to another machine: its answers could be changed on the way and the
// license key read. Loopback (localhost, 127.0.0.0/8, ::1) is allowed,
// for a server on the same machine or a tunnel.
func InsecureEndpoint(endpoint string) error {
	if !PlainRemote(endpoint) {
		return nil
	}
	return fmt.Errorf("endpoint: %s is plain http to another machine: a server's answers could be changed on the way and the license key read; use https://, or allow it with 'ksn config set insecure_transport true'", strconv.Quote(RedactUserinfo(endpoint)))
}
