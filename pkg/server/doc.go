// Package server is ksn's reputation server and its operator's side.
//
// The server (New, Config) is the /v1 HTTP API of DESIGN §6 over a server
// database (pkg/store): it authenticates license keys, limits each
// license's rate, honours the operator's file-reputation switch, checks and
// stores submissions, and logs and counts requests without recording who
// sent what: no keys, no bodies, no client addresses, no license of a
// request it answered. It holds under abuse (limits.go, decode.go): bodies
// are bounded per endpoint and decoded as a stream, cut at the batch
// limit, and charged to the license's rate as they are read; a few are
// read at once, each within a deadline. Retention purges the sealed
// records of ended half-years on a schedule; keys.go places a database's
// data keys and key-encryption key outside its directory (a SQLite file's
// or a PostgreSQL database's; replicas on PostgreSQL share one key
// directory, replicas.go shares the rate limits among them).
//
// The operator's side is Run, all of `ksn serve` (opening the database,
// its key-encryption key, TLS, listening, the purge schedule, a graceful
// stop), and Admin, all of `ksn admin` (licenses, verdict overrides, the
// restriction, purge, verify, stats). They tell the command what happened
// through values and callbacks, and return errors that carry their exit
// code (pkg/exitcode), so that the commands only parse flags and render.
//
// It shares with the client only the wire types (pkg/api) and the
// statement (pkg/statement): it imports neither pkg/participation,
// pkg/client nor pkg/cli, and nothing of the terminal (pkg/term, cobra,
// lipgloss). imports_test.go holds it to that.
package server
