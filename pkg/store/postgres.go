package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations_pg/*.sql
var pgMigrationFiles embed.FS

// Advisory lock keys of the server's jobs that must run once across every
// replica on one database. goose's own migration lock is another key.
const (
	pgLockPurge int64 = 0x6b736e_0001 // "ksn" 1: Purge
	// pgLockImport is the first of the two keys of an import's lock; the
	// second is a hash of the source's name.
	pgLockImport int32 = 0x6b736e02
)

// PostgresServer is the reputation server's database on PostgreSQL: the
// same tables as a Server on SQLite (migrations_pg/), the same behaviour
// (the conformance suite in storetest holds both to it), for running
// several `ksn serve` replicas on one database. Every replica is
// stateless: what a request needs is in the database, and the jobs that
// must run once (migrations, the purge) take an advisory lock.
//
// It implements ServerStore, ServerAdmin and Store (feed imports). Its
// methods are safe for concurrent use, from several goroutines, processes
// and machines.
type PostgresServer struct {
	pool    *pgxpool.Pool
	name    string           // the DSN without its password, for messages
	now     func() time.Time // injectable clock for tests
	sealing sealing          // the KEK and the current data key (sqlite_sealing.go)
}

var (
	_ ServerStore = (*PostgresServer)(nil)
	_ ServerAdmin = (*PostgresServer)(nil)
	_ Store       = (*PostgresServer)(nil)
)

// IsPostgresURL reports whether a --db value names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// OpenPostgresServer connects to the PostgreSQL database dsn names
// (postgres://user:password@host:port/database?options, as libpq and pgx
// take it; pool_max_conns=N bounds the connections, default the larger of
// 4 and the number of CPUs) and brings its schema up to date. Replicas
// starting at the same moment may all call it: goose's advisory lock lets
// one apply the migrations while the others wait and find them applied.
func OpenPostgresServer(ctx context.Context, dsn string) (*PostgresServer, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the DSN, password and all.
		return nil, fmt.Errorf("open PostgreSQL database: malformed connection URL")
	}
	name := redactDSN(cfg.ConnConfig)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL database %s: %w", name, err)
	}
	s := &PostgresServer{pool: pool, name: name, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open PostgreSQL database %s: %w", name, err)
	}
	return s, nil
}

// redactDSN names a database in messages: user, host and database, never
// the password.
func redactDSN(c *pgx.ConnConfig) string {
	if strings.HasPrefix(c.Host, "/") { // a unix socket's directory
		return fmt.Sprintf("postgres://%s@/%s?host=%s", c.User, c.Database, url.QueryEscape(c.Host))
	}
	return fmt.Sprintf("postgres://%s@%s/%s", c.User, net.JoinHostPort(c.Host, fmt.Sprint(c.Port)), c.Database)
}

// migrate applies migrations_pg under goose's session lock.
func (s *PostgresServer) migrate(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return err
	}
	fsys, err := fs.Sub(pgMigrationFiles, "migrations_pg")
	if err != nil {
		return err
	}
	// Poll for the lock every second, for up to five minutes: a replica
	// that lost the race waits for the winner's migrations, then finds
	// nothing left to do.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(goose.NopLogger()),
		goose.WithSessionLocker(locker),
	)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if pending {
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
	}
	return nil
}

// Path names the database in messages: its URL without the password.
func (s *PostgresServer) Path() string { return s.name }

// Close closes the connections.
func (s *PostgresServer) Close() error {
	s.pool.Close()
	return nil
}

// Pool returns the connection pool, for tests and maintenance that no
// method covers.
func (s *PostgresServer) Pool() *pgxpool.Pool { return s.pool }

// SetClock replaces the clock that license times and imports use; tests
// call it before any other method.
func (s *PostgresServer) SetClock(now func() time.Time) { s.now = now }

// pgRetryable reports whether a transaction failed only because it ran
// into another one (a deadlock broken by PostgreSQL, a serialization
// failure), so that running it again succeeds.
func pgRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// inTx runs fn in a transaction and commits it, running it again (up to
// five times in all) when it collided with another transaction.
func (s *PostgresServer) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil || !pgRetryable(err) || attempt == 5 || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}
