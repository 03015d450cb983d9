package store

import "context"

// ServerDatabase is a server database of either kind, SQLite (*Server) or
// PostgreSQL (*PostgresServer): what `ksn serve` answers requests from,
// `ksn admin` manages and `ksn feed import --db` loads feeds into.
type ServerDatabase interface {
	ServerStore
	ServerAdmin
	Store
}

var (
	_ ServerDatabase = (*Server)(nil)
	_ ServerDatabase = (*PostgresServer)(nil)
)

// OpenServerDatabase opens the server database a --db value names: a
// postgres:// or postgresql:// URL (IsPostgresURL) is a PostgreSQL
// database, anything else the path of a SQLite file.
func OpenServerDatabase(ctx context.Context, location string) (ServerDatabase, error) {
	if IsPostgresURL(location) {
		db, err := OpenPostgresServer(ctx, location)
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return db, nil
	}
	db, err := OpenServer(ctx, location)
	if err != nil {
		return nil, err
	}
	return db, nil
}

// OpenImportDB opens the database a feed import's --db names: a
// postgres:// or postgresql:// URL is a server database on PostgreSQL,
// anything else a SQLite file, opened (and made when missing) as a local
// database: a server's SQLite file too, since both kinds share the
// indicator tables an import writes.
func OpenImportDB(ctx context.Context, location string) (Store, error) {
	if IsPostgresURL(location) {
		return OpenServerDatabase(ctx, location)
	}
	db, err := OpenLocal(ctx, location)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return db, nil
}
