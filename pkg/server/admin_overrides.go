package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/checksum"
	"github.com/ksnproject/ksn/pkg/config"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/reputation"
	"github.com/ksnproject/ksn/pkg/store"
	"github.com/ksnproject/ksn/pkg/urlcanon"
)

// ErrNotHexDigest reports a digest argument that is not hexadecimal. The
// error wrapping it quotes the argument with %+q (ASCII only), so it is
// safe to print on a terminal as it is.
var ErrNotHexDigest = errors.New("not a hex digest")

// Override is an operator's verdict on one file digest or one link, as the
// operator gives it: Digest in hex, or a link (anything with a '.', ':' or
// '/', which no hex digest has); Algorithm ("" decides by length; none for
// a link); Verdict by name (reputation.ParseVerdict).
type Override struct {
	Digest, Algorithm, Verdict string
	ThreatName, Category       string
}

// Pinned is an override as stored.
type Pinned struct {
	Algorithm checksum.Algorithm
	Digest    []byte
	Link      string // a link's listing expression (urlcanon.Canonical.Listing); "" for a digest
	Verdict   reputation.Verdict
}

// Subject names what the override is of: "sha256 <hex>" or "link <expression>".
func (p Pinned) Subject() string {
	if p.Link != "" {
		return "link " + p.Link
	}
	return fmt.Sprintf("%s %x", p.Algorithm, p.Digest)
}

// pinned decodes what an override is of: a link, keyed as a feed's listing
// of it is (so that it covers what that listing would), or a digest. A
// one-label host needs a scheme or a '/' ("http://intranet/"), so that a
// mistyped digest is an error rather than a host. Errors quote the
// argument without any userinfo: a link may carry a password.
func pinned(arg, algorithm string) (Pinned, error) {
	if !strings.ContainsAny(arg, ".:/") {
		alg, b, err := parseDigest(arg, algorithm)
		return Pinned{Algorithm: alg, Digest: b}, err
	}
	shown := config.RedactUserinfo(arg)
	if t := strings.TrimRight(arg, ". \t"); t != arg && isHexDigest(t) {
		return Pinned{}, usage("give the digest in hex only", "%+q is a digest followed by other characters", shown)
	}
	if algorithm != "" {
		return Pinned{}, usage("", "--algorithm is for digests, and %+q is a link", shown)
	}
	c, err := urlcanon.Canonicalize(arg)
	if err != nil {
		return Pinned{}, usage("give a hex digest, or a link such as https://host.example/path", "%+q is neither a hex digest nor a link: %v", shown, err)
	}
	return Pinned{Link: c.Listing()}, nil
}

// isHexDigest reports whether s is hex of an MD5, SHA-1 or SHA-256/BLAKE3
// digest's length.
func isHexDigest(s string) bool {
	if n := len(s); n != 32 && n != 40 && n != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// parseDigest decodes a hex digest and decides its algorithm: the one
// named, else by length (SHA-256 for 64 characters: feeds publish SHA-256
// far more often than BLAKE3).
func parseDigest(s, algorithm string) (checksum.Algorithm, []byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return "", nil, &exitcode.Error{Code: exitcode.Usage, Err: fmt.Errorf("%+q is %w", s, ErrNotHexDigest),
			Hint: "a link needs a scheme or a '/' (http://intranet/), a digest hex only"}
	}
	var alg checksum.Algorithm
	if algorithm != "" {
		if alg, err = checksum.ParseAlgorithm(algorithm); err != nil {
			return "", nil, usage("", "--algorithm: %v", err)
		}
	} else {
		switch len(b) {
		case 32:
			alg = checksum.SHA256
		case 20:
			alg = checksum.SHA1
		case 16:
			alg = checksum.MD5
		default:
			return "", nil, usage("", "a digest of %d hex characters is neither SHA-256 (64), SHA-1 (40) nor MD5 (32)", 2*len(b))
		}
	}
	if len(b) != alg.Size() {
		return "", nil, usage("", "a %s digest has %d hex characters, not %d", alg, 2*alg.Size(), 2*len(b))
	}
	return alg, b, nil
}

// SetOverride pins a verdict on a digest or a link, replacing an earlier
// override of it. It wins over every feed, also in the answers of running
// servers; a link's covers the links a listing of it would.
func (a *Admin) SetOverride(ctx context.Context, o Override) (Pinned, error) {
	p, err := pinned(o.Digest, o.Algorithm)
	if err != nil {
		return Pinned{}, err
	}
	if p.Verdict, err = reputation.ParseVerdict(o.Verdict); err != nil {
		return Pinned{}, usage("", "%v", err)
	}
	db, err := a.open(ctx)
	if err != nil {
		return Pinned{}, err
	}
	defer db.Close()
	if p.Link != "" {
		err = db.SetURLOverride(ctx, reputation.URLIndicator{Hash: urlcanon.Hash(p.Link), Expression: p.Link,
			Verdict: p.Verdict, ThreatName: o.ThreatName, Category: o.Category})
	} else {
		err = db.SetOverride(ctx, reputation.FileIndicator{Algorithm: p.Algorithm, Digest: p.Digest, Size: -1,
			Verdict: p.Verdict, ThreatName: o.ThreatName, Category: o.Category})
	}
	if err != nil {
		return Pinned{}, err
	}
	return p, nil
}

// UnsetOverride removes the override of a digest or link (as for
// Override), so that the feeds' verdicts apply again. One without an
// override is a usage error.
func (a *Admin) UnsetOverride(ctx context.Context, arg, algorithm string) (Pinned, error) {
	p, err := pinned(arg, algorithm)
	if err != nil {
		return Pinned{}, err
	}
	db, err := a.open(ctx)
	if err != nil {
		return Pinned{}, err
	}
	defer db.Close()
	if p.Link != "" {
		err = db.UnsetURLOverride(ctx, urlcanon.Hash(p.Link))
	} else {
		err = db.UnsetOverride(ctx, p.Algorithm, p.Digest)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("no override for %s: %w", p.Subject(), store.ErrNotFound)
		}
		return Pinned{}, notFound(err, "nothing to remove: the feeds' verdicts apply to it already")
	}
	return p, nil
}

// Restrict switches file reputation off service-wide for d from now and
// returns until when: servers answer file lookups with 503 restricted and
// a Retry-After meanwhile, and clients keep their local verdicts.
func (a *Admin) Restrict(ctx context.Context, d time.Duration) (time.Time, error) {
	if d <= 0 {
		return time.Time{}, usage("to lift a restriction: ksn admin restrict off", "--for must be more than 0")
	}
	db, err := a.open(ctx)
	if err != nil {
		return time.Time{}, err
	}
	defer db.Close()
	until := a.now().Add(d)
	if err := db.SetRestriction(ctx, until); err != nil {
		return time.Time{}, err
	}
	return until, nil
}

// LiftRestriction switches file reputation back on.
func (a *Admin) LiftRestriction(ctx context.Context) error {
	db, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.SetRestriction(ctx, time.Time{})
}
