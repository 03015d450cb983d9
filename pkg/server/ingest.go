package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ksnproject/ksn/pkg/api"
	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// The record kinds the server accepts, and the body each must have: exactly
// what the participation statement describes (pkg/participation builds
// them), nothing more. A field the statement does not name is refused, so
// that a client cannot hand the network data it never promised to keep.
//
//	file:   {"digests": {alg: hex, ...}, "size": int ≥ 0, "verdict": v, "hash_ms": number ≥ 0}
//	        alg one of blake3, sha256 (required), sha1, md5, each in lower-case hex of its length
//	url:    {"url": "scheme://host/path" (redacted: no userinfo, port, query or fragment),
//	         "verdict": v, "check_ms": number ≥ 0}
//	system: {"os", "os_version", "arch", "cpus", "memory_gib", "ksn_version"}
//	        (participation.SystemInfo)
//	spam:   mail.Spam, read by mail.ParseSpam (ingest_spam.go)
//
// v is one of malicious, suspicious, clean, unknown.
const (
	kindFile   = "file"
	kindURL    = "url"
	kindSystem = "system"
	kindSpam   = "spam" // mail.RecordKind
)

// Bounds of the text fields.
const (
	maxVersionLen = 64
	maxNameLen    = 32
	maxCPUs       = 1 << 20
	maxMemoryGiB  = 1 << 30
)

// fieldError is a problem with one field of a record's body.
type fieldError struct {
	field string // e.g. "digests.sha256"; "" for the body itself
	msg   string
}

// Error names the field first, as the problem detail shows it.
func (e *fieldError) Error() string {
	if e.field == "" {
		return "body: " + e.msg
	}
	return "body." + e.field + ": " + e.msg
}

func fieldErr(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// parseSubmission checks one record strictly (see the kinds above) and
// returns it with the facts the aggregates need.
func parseSubmission(rec api.Record) (store.Submission, error) {
	if _, err := store.ParseRecordID(rec.ID); err != nil {
		return store.Submission{}, errors.New("id is not 32 lower-case hex characters")
	}
	if rec.CreatedAt.IsZero() {
		return store.Submission{}, errors.New("created_at is missing")
	}
	body := bytes.TrimSpace(rec.Body)
	if len(body) == 0 || body[0] != '{' {
		return store.Submission{}, errors.New("body must be a JSON object")
	}
	fields, err := objectFields(body, "")
	if err != nil {
		return store.Submission{}, err
	}
	sub := store.Submission{Record: rec}
	switch rec.Kind {
	case kindFile:
		sub.File, err = parseFile(fields)
	case kindURL:
		sub.URL, err = parseURL(fields)
	case kindSystem:
		sub.System, err = parseSystem(fields)
	case kindSpam:
		sub.Spam, err = parseSpam(body)
	default:
		return store.Submission{}, fmt.Errorf("kind %q is not one the statement describes (file, url, system, spam)", truncate(rec.Kind))
	}
	return sub, err
}

// objectFields reads a JSON object into its fields, refusing a key given
// twice (which encoding/json would silently resolve to the last).
//
// The common case, a well-formed object without a repeated key, is one
// json.Unmarshal and a count of the object's members; anything else is
// read again token by token, which names the fault. (The token walk alone
// was a fifth of the server's work on submissions.)
func objectFields(raw []byte, path string) (map[string]json.RawMessage, error) {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		var out map[string]json.RawMessage
		if json.Unmarshal(raw, &out) == nil && len(out) == topLevelMembers(raw) {
			return out, nil
		}
	}
	return objectFieldsSlow(raw, path)
}

// topLevelMembers counts the members of the JSON object raw, which must be
// valid JSON: the colons outside strings at depth one.
func topLevelMembers(raw []byte) int {
	n, depth, inString, escaped := 0, 0, false, false
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ':' && depth == 1:
			n++
		}
	}
	return n
}

// objectFieldsSlow is objectFields one token at a time.
func objectFieldsSlow(raw []byte, path string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fieldErr(path, "must be a JSON object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fieldErr(path, "malformed JSON")
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fieldErr(join(path, key), "malformed JSON")
		}
		if _, dup := out[key]; dup {
			return nil, fieldErr(join(path, key), "given twice")
		}
		out[key] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, fieldErr(path, "malformed JSON")
	}
	return out, nil
}

func join(path, key string) string {
	key = truncate(key)
	if path == "" {
		return key
	}
	return path + "." + key
}

// only checks that fields has exactly the named keys.
func only(fields map[string]json.RawMessage, path string, names ...string) error {
	for _, n := range names {
		if _, ok := fields[n]; !ok {
			return fieldErr(join(path, n), "missing")
		}
	}
	if len(fields) != len(names) {
		for k := range fields {
			if !slices.Contains(names, k) {
				return fieldErr(join(path, k), "unknown field (the statement describes only %s)", strings.Join(names, ", "))
			}
		}
	}
	return nil
}

func stringField(raw json.RawMessage, field string) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", fieldErr(field, "must be a string")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fieldErr(field, "must be a string")
	}
	return s, nil
}

// intField reads a JSON integer (no fraction, no exponent) in [0, max].
func intField(raw json.RawMessage, field string, max int64) (int64, error) {
	s := string(raw)
	if s == "" || strings.ContainsAny(s, ".eE") || s[0] == '"' {
		return 0, fieldErr(field, "must be an integer")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fieldErr(field, "must be an integer")
	}
	if n < 0 || n > max {
		return 0, fieldErr(field, "must be between 0 and %d", max)
	}
	return n, nil
}

// msField reads a JSON number from 0 to store.MaxScanMS: anything else
// (1e308, -1, 1e999, a string such as "NaN") would poison the aggregates'
// sums or mean nothing.
func msField(raw json.RawMessage, field string) (float64, error) {
	s := string(raw)
	if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
		return 0, fieldErr(field, "must be a number")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fieldErr(field, "must be a finite number")
	}
	if f < 0 {
		return 0, fieldErr(field, "must not be negative")
	}
	if f > store.MaxScanMS {
		return 0, fieldErr(field, "must be at most %.0f (a week)", store.MaxScanMS)
	}
	return f, nil
}

func verdictField(raw json.RawMessage, field string) error {
	v, err := stringField(raw, field)
	if err != nil {
		return err
	}
	for _, known := range reputation.Verdicts {
		if v == string(known) {
			return nil
		}
	}
	return fieldErr(field, "must be malicious, suspicious, clean or unknown")
}

func parseFile(f map[string]json.RawMessage) (*store.FileFacts, error) {
	if err := only(f, "", "digests", "size", "verdict", "hash_ms"); err != nil {
		return nil, err
	}
	digests, err := objectFields(f["digests"], "digests")
	if err != nil {
		return nil, err
	}
	facts := &store.FileFacts{}
	for name, raw := range digests {
		field := join("digests", name)
		alg := checksum.Algorithm(name)
		if !alg.Valid() {
			return nil, fieldErr(field, "unknown digest algorithm (known: blake3, sha256, sha1, md5)")
		}
		h, err := stringField(raw, field)
		if err != nil {
			return nil, err
		}
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != alg.Size() || strings.ToLower(h) != h {
			return nil, fieldErr(field, "must be %d lower-case hex characters", 2*alg.Size())
		}
		if alg == checksum.SHA256 {
			facts.SHA256 = [32]byte(b)
		}
	}
	if _, ok := digests[string(checksum.SHA256)]; !ok {
		return nil, fieldErr("digests.sha256", "missing (every file record has its SHA-256)")
	}
	if facts.Size, err = intField(f["size"], "size", math.MaxInt64); err != nil {
		return nil, err
	}
	if err := verdictField(f["verdict"], "verdict"); err != nil {
		return nil, err
	}
	if facts.HashMS, err = msField(f["hash_ms"], "hash_ms"); err != nil {
		return nil, err
	}
	return facts, nil
}

func parseURL(f map[string]json.RawMessage) (*store.URLFacts, error) {
	if err := only(f, "", "url", "verdict", "check_ms"); err != nil {
		return nil, err
	}
	u, err := stringField(f["url"], "url")
	if err != nil {
		return nil, err
	}
	expr, err := redactedExpression(u)
	if err != nil {
		return nil, fieldErr("url", "%v", err)
	}
	if err := verdictField(f["verdict"], "verdict"); err != nil {
		return nil, err
	}
	facts := &store.URLFacts{Key: sha256.Sum256([]byte(expr))}
	if facts.CheckMS, err = msField(f["check_ms"], "check_ms"); err != nil {
		return nil, err
	}
	return facts, nil
}

// redactedExpression checks that u is a link exactly as a client's
// redaction leaves it (urlcanon.Redact of its canonical form: no userinfo,
// port, query, fragment or token-like path segment), on a public host, and
// returns its "host/path", the Safe Browsing expression of its exact host
// and path. Anything else would be data the statement never promised to
// keep.
func redactedExpression(u string) (string, error) {
	if len(u) > api.MaxRecordURL {
		return "", fmt.Errorf("longer than %d bytes", api.MaxRecordURL)
	}
	c, err := urlcanon.Canonicalize(u)
	if err != nil {
		return "", errors.New("not a link: " + strings.TrimPrefix(err.Error(), "urlcanon: "))
	}
	if urlcanon.Redact(c) != u || c.SchemeAssumed {
		return "", errors.New("not in the redacted form a client submits (scheme://host/path, with no user name, port, query, fragment or token-like segment)")
	}
	if c.Private() {
		return "", errors.New("a link of a private network, which clients never submit")
	}
	return c.Host + c.Path, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func parseSystem(f map[string]json.RawMessage) (*store.SystemFacts, error) {
	if err := only(f, "", "os", "os_version", "arch", "cpus", "memory_gib", "ksn_version"); err != nil {
		return nil, err
	}
	facts := &store.SystemFacts{}
	var err error
	if facts.OS, err = nameField(f["os"], "os"); err != nil {
		return nil, err
	}
	if facts.Arch, err = nameField(f["arch"], "arch"); err != nil {
		return nil, err
	}
	if facts.OSVersion, err = versionField(f["os_version"], "os_version", true); err != nil {
		return nil, err
	}
	if facts.KSNVersion, err = versionField(f["ksn_version"], "ksn_version", false); err != nil {
		return nil, err
	}
	cpus, err := intField(f["cpus"], "cpus", maxCPUs)
	if err != nil {
		return nil, err
	}
	mem, err := intField(f["memory_gib"], "memory_gib", maxMemoryGiB)
	if err != nil {
		return nil, err
	}
	facts.CPUs, facts.MemoryGiB = int(cpus), int(mem)
	return facts, nil
}

// nameField reads an OS or architecture name as Go spells them
// (runtime.GOOS, runtime.GOARCH): lower-case letters and digits.
func nameField(raw json.RawMessage, field string) (string, error) {
	s, err := stringField(raw, field)
	if err != nil {
		return "", err
	}
	if s == "" || len(s) > maxNameLen {
		return "", fieldErr(field, "must be 1 to %d characters", maxNameLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "", fieldErr(field, "may hold only a-z and 0-9")
		}
	}
	return s, nil
}

// versionField reads a version string of letters, digits and . - _ + ~,
// at most maxVersionLen long. This client sends less (participation's
// sanitizeRelease keeps the numeric version only); older clients sent a
// distribution's suffix too, which the aggregates cut anyway.
func versionField(raw json.RawMessage, field string, mayBeEmpty bool) (string, error) {
	s, err := stringField(raw, field)
	if err != nil {
		return "", err
	}
	if len(s) > maxVersionLen || s == "" && !mayBeEmpty {
		return "", fieldErr(field, "must be 1 to %d characters", maxVersionLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_' || c == '+' || c == '~') {
			return "", fieldErr(field, "may hold only letters, digits and . - _ + ~")
		}
	}
	return s, nil
}
