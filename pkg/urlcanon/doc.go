// Package urlcanon turns a URL into the canonical form that Google Safe
// Browsing (Update API v4, "URLs and Hashing") defines, derives the
// host-suffix × path-prefix expressions from it, hashes them with SHA-256 and
// redacts it for submissions.
//
// ksn checks links without revealing them: only 4-byte hash prefixes of the
// expressions leave the machine, and the server's full hashes are matched
// locally. That only works if ksn and the list maintainer canonicalise the
// same way, which is why this package follows the Safe Browsing rules rather
// than a browser's URL parser, and why its tests are the documentation's own
// examples.
//
// The package has no dependency on the rest of ksn.
//
// It imports only the standard library and golang.org/x/net/idna: no other
// ksn package.
package urlcanon
