// Package store holds ksn's two reputation databases, as separate types
// behind their own interfaces:
//
//   - Local (OpenLocal), the user's local database: the indicators of the
//     built-in baseline and the imported feeds, and the cache of the
//     network's answers. The client's commands use it as a Store.
//   - Server (OpenServer), the reputation server's database: licenses,
//     sealed submissions and their aggregates, the operator's settings and
//     overrides, and the indicators it answers with. The request handlers
//     use it as a ServerStore, `ksn serve` and `ksn admin` as a ServerAdmin.
//
// Both are SQLite files (modernc.org/sqlite, no cgo, WAL mode) that share
// the indicator tables and the code that imports and looks them up (the
// unexported sqliteDB they embed), and one set of embedded, versioned
// migrations, so that `ksn feed import --db` loads a feed into either. A
// server database on PostgreSQL implements ServerStore and ServerAdmin
// without touching Local.
//
// The files are named by what they hold: the backend-neutral types
// (license.go, submission.go, retention.go, aggregates.go, classes.go)
// and, prefixed sqlite_, their SQLite implementation.
//
// The package knows nothing of HTTP, the command line or the terminal: it
// imports neither pkg/server, pkg/client, pkg/cli nor pkg/term, nor cobra
// or lipgloss.
package store
