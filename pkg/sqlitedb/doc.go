// Package sqlitedb is the mechanism by which ksn opens its SQLite files
// (modernc.org/sqlite, no cgo): the data source name, the check that
// refuses another application's database, the switch to WAL mode and the
// goose migrations.
//
// It exists because every ksn SQLite file (the reputation database of
// pkg/store, the participation database of pkg/participation) must survive
// several processes opening the same fresh file at the same moment, and
// must refuse, untouched, a file that belongs to another application. Each
// package keeps its own pragmas, application_id, migrations and error
// words; the tricky parts live here, once.
//
// It imports nothing of ksn (its callers pass their own sentinel errors
// and migration files in), so that pkg/store and pkg/participation use it
// without knowing of each other.
package sqlitedb
