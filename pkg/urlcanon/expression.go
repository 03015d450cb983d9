package urlcanon

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Limits on the expressions of one URL, from the documentation: at most five
// host strings and six path strings, so at most thirty expressions.
const (
	MaxHosts       = 5
	MaxPaths       = 6
	MaxExpressions = MaxHosts * MaxPaths
)

// HostIsIP reports whether the host is an IPv4 or IPv6 address, for which
// only the exact host is tried.
func (c Canonical) HostIsIP() bool { return isIPHost(c.Host) }

// Listing is the expression that a listing of c names (a feed's entry, an
// operator's override): its host and path, and its query when it has one.
// One of c's Expressions, it is matched by every link that has it among
// theirs: a listing without a query matches its path whatever query a
// visit adds, and a path of "/" names the whole host and its subdomains.
func (c Canonical) Listing() string {
	if c.HasQuery {
		return c.Host + c.Path + "?" + c.Query
	}
	return c.Host + c.Path
}

// Expressions returns the Safe Browsing suffix/prefix expressions of c, host
// first then path, in the documentation's order. An expression is host+path
// without scheme, e.g. "b.c/1/2.html?param=1". Each is distinct.
//
// Hosts, at most 5: the exact host, then (unless it is an IP address) the
// hosts formed from its last five components by removing the leading
// component one at a time, never going down to the top-level domain alone.
// For a.b.c.d.e.f.g: a.b.c.d.e.f.g, c.d.e.f.g, d.e.f.g, e.f.g, f.g.
//
// Paths, at most 6: the exact path with "?query" (when the URL has a '?',
// even an empty query, since that is the exact path of the canonical URL),
// the exact path without the query, then "/" and up to three more prefixes
// formed by appending one directory and a '/' at a time ("/1/", "/1/2/",
// "/1/2/3/"), leaving out any that repeat an earlier path.
func (c Canonical) Expressions() []string {
	hosts := hostSuffixes(c.Host, c.HostIsIP())
	paths := pathPrefixes(c.Path, c.Query, c.HasQuery)
	out := make([]string, 0, len(hosts)*len(paths))
	for _, h := range hosts {
		for _, p := range paths {
			out = append(out, h+p)
		}
	}
	return out
}

// hostSuffixes lists the host strings to try for host.
func hostSuffixes(host string, isIP bool) []string {
	out := []string{host}
	if isIP {
		return out
	}
	labels := strings.Split(host, ".")
	// Start with the last five components (or all but the exact host if
	// there are fewer) and stop before the bare top-level domain.
	start := max(len(labels)-5, 1)
	for i := start; i <= len(labels)-2 && len(out) < MaxHosts; i++ {
		out = append(out, strings.Join(labels[i:], "."))
	}
	return out
}

// pathPrefixes lists the path strings to try for a canonical path and query.
func pathPrefixes(path, query string, hasQuery bool) []string {
	out := make([]string, 0, MaxPaths)
	add := func(p string) {
		for _, q := range out {
			if q == p {
				return
			}
		}
		out = append(out, p)
	}
	if hasQuery {
		add(path + "?" + query)
	}
	add(path)
	// Directories are the components followed by a '/': in "/1/2.html"
	// only "1"; in "/1/2/" both "1" and "2".
	dirs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	dirs = dirs[:len(dirs)-1]
	prefix := "/"
	add(prefix)
	for i := 0; i < len(dirs) && i < 3; i++ {
		prefix += dirs[i] + "/"
		add(prefix)
	}
	return out
}

// FullHash is the SHA-256 hash of an expression, as Safe Browsing lists hold
// them.
type FullHash [sha256.Size]byte

// PrefixLen is the length of the hash prefixes ksn sends: 4 bytes, the
// shortest prefix Safe Browsing uses.
const PrefixLen = 4

// Prefix is the first PrefixLen bytes of a FullHash, the only part of a
// link's hashes that leaves the machine.
type Prefix [PrefixLen]byte

// Hash returns the SHA-256 hash of the expression string, exactly as given
// (no canonicalisation: pass an expression from Expressions).
func Hash(expr string) FullHash { return sha256.Sum256([]byte(expr)) }

// Prefix returns the first PrefixLen bytes of h.
func (h FullHash) Prefix() Prefix { return Prefix(h[:PrefixLen]) }

// String returns h in lower-case hex.
func (h FullHash) String() string { return hex.EncodeToString(h[:]) }

// String returns p in lower-case hex, e.g. "ba7816bf".
func (p Prefix) String() string { return hex.EncodeToString(p[:]) }

// Entry is one expression with its full hash and prefix.
type Entry struct {
	Expression string
	Full       FullHash
	Prefix     Prefix
	// Local marks an expression that is matched against local lists only:
	// its prefix is never sent. It holds a query, or a path segment that
	// Redact hides. With the rest of the link known (the expressions
	// without it are sent), 4 bytes of its hash are enough to test every
	// value of a short secret ("?code=482913", "/reset/Ab3dE5gH") offline.
	Local bool
}

// Lookup holds what a client needs to check one URL: every expression with
// its hashes, to match the server's answer locally, and the distinct prefixes
// to send.
type Lookup struct {
	// Entries has one Entry per expression, in Expressions order. Two
	// entries may share a prefix; both are kept so that either full hash
	// can be matched.
	Entries []Entry
	// Prefixes are the distinct prefixes of the Entries that are not
	// Local, in first-seen order, so a request never repeats one.
	Prefixes []Prefix
}

// Lookup hashes every expression of c. Every expression of a Private link
// is Local.
func (c Canonical) Lookup() Lookup {
	l := lookupOf(c.Expressions(), Hash)
	if c.Private() {
		for i := range l.Entries {
			l.Entries[i].Local = true
		}
		l.Prefixes = nil
	}
	return l
}

// lookupOf builds a Lookup with the given hash function; tests pass one that
// collides, which SHA-256 will not do on demand.
func lookupOf(exprs []string, hash func(string) FullHash) Lookup {
	l := Lookup{
		Entries:  make([]Entry, 0, len(exprs)),
		Prefixes: make([]Prefix, 0, len(exprs)),
	}
	seen := make(map[Prefix]bool, len(exprs))
	for _, e := range exprs {
		full := hash(e)
		p := full.Prefix()
		local := localOnly(e)
		l.Entries = append(l.Entries, Entry{Expression: e, Full: full, Prefix: p, Local: local})
		if !local && !seen[p] {
			seen[p] = true
			l.Prefixes = append(l.Prefixes, p)
		}
	}
	return l
}

// localOnly reports whether an expression must not be sent even as a
// prefix: it has a query, or its path is not what a submission would
// carry of it (see Entry.Local).
func localOnly(expr string) bool {
	if strings.Contains(expr, "?") {
		return true
	}
	i := strings.IndexByte(expr, '/')
	if i < 0 {
		return false
	}
	path := expr[i:]
	return redactPath(path) != path
}
