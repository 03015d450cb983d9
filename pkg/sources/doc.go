// Package sources holds the implementations of reputation.Source: the
// local reputation database and a ksn reputation server. Each turns one
// kind of answer (rows of the local database, the server's JSON) into
// reputation.Answers; how answers combine is reputation.Combine's job, and
// whether a source may be asked at all (participation, remembered waits)
// is pkg/network's.
//
// It may import store, client, api, checksum, reputation and urlcanon; it
// must not import cobra, lipgloss, term or cli.
package sources
