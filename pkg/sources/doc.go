// Package sources holds the implementations of reputation.Source: the
// local reputation database, a ksn reputation server, and the public
// reputation services a user enables one by one (Kaspersky OpenTIP, CIRCL
// hashlookup, MalwareBazaar's API), each in a file of its own. Each turns
// one kind of answer (rows of the local database, a server's or a
// service's JSON) into reputation.Answers; how answers combine is
// reputation.Combine's job, and whether a source may be asked at all
// (participation, remembered waits, keys, quotas) is pkg/network's.
//
// Public services are sent the SHA-256 of files only, never a name, a path,
// contents or a link; their answers are size-limited, and every string in
// them goes through untrusted.Text before it is kept.
//
// It may import store, client, api, checksum, exitcode, reputation,
// untrusted and urlcanon; it must not import cobra, lipgloss, term or cli.
package sources
