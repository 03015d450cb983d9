-- Schema of the reputation database, SQLite dialect.
--
-- The schema is meant to be shared with a PostgreSQL implementation, so it
-- uses plain types only. Mapping to PostgreSQL:
--   TEXT -> TEXT, BIGINT -> BIGINT, BLOB -> BYTEA,
--   INTEGER PRIMARY KEY AUTOINCREMENT -> BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
--   WITHOUT ROWID -> (nothing; PostgreSQL tables are heaps).
-- Times are BIGINT Unix seconds, UTC. Digests are raw bytes.
--
-- Every migration must run in a transaction (never mark one with goose's
-- no-transaction annotation): the unique index on goose_db_version below
-- then makes a migration that two processes race to apply fail and roll
-- back in the loser, which retries and finds it applied.

-- +goose Up

-- Marks the file as a ksn reputation database ("ksn1"), so that ksn refuses
-- to write its tables into another application's SQLite file.
PRAGMA application_id = 1802726961;

-- At most one row per applied version: a second, concurrent application of
-- the same migration fails at its version insert and rolls back as a whole.
CREATE UNIQUE INDEX goose_db_version_once ON goose_db_version (version_id);

-- One row per committed feed import.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: file_indicators.import_id refers to it
    source      TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    added       BIGINT  NOT NULL DEFAULT 0,
    updated     BIGINT  NOT NULL DEFAULT 0,
    unchanged   BIGINT  NOT NULL DEFAULT 0
);

-- What each source says about a file digest. The key leads with
-- (algorithm, digest) so that a lookup is a search of the primary key.
CREATE TABLE file_indicators (
    algorithm   TEXT    NOT NULL,               -- checksum.Algorithm: blake3, sha256, sha1, md5
    digest      BLOB    NOT NULL,               -- raw digest bytes
    source      TEXT    NOT NULL,               -- feed name, "baseline" or "override"
    size        BIGINT  NOT NULL DEFAULT -1,    -- file size in bytes, -1 when unknown
    verdict     TEXT    NOT NULL CHECK (verdict IN ('malicious', 'suspicious', 'clean', 'unknown')),
    threat_name TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL DEFAULT '',
    first_seen  BIGINT,                         -- as the source states it; NULL when it does not
    added_at    BIGINT  NOT NULL,               -- when this database first recorded the row
    last_seen   BIGINT  NOT NULL,               -- the last import (or override) that stated it
    import_id   BIGINT,                         -- imports.id of that import; NULL for baseline and override
    PRIMARY KEY (algorithm, digest, source)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE file_indicators;
DROP TABLE imports;
DROP INDEX goose_db_version_once;
PRAGMA application_id = 0;
