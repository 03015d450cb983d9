-- Schema of participation.db, ksn's consent record and outbox, SQLite
-- dialect. Times are BIGINT: Unix seconds (UTC) for decisions, Unix
-- nanoseconds (UTC) for outbox records, so that records created within one
-- second keep their order.
--
-- Every migration must run in a transaction (never mark one with goose's
-- no-transaction annotation): the unique index on goose_db_version below
-- then makes a migration that two processes race to apply fail and roll
-- back in the loser, which retries and finds it applied.

-- +goose Up

-- Marks the file as ksn's participation database ("ksnp"), so that ksn
-- refuses to write its tables into another application's SQLite file.
PRAGMA application_id = 1802727024;

-- At most one row per applied version: a second, concurrent application of
-- the same migration fails at its version insert and rolls back as a whole.
CREATE UNIQUE INDEX goose_db_version_once ON goose_db_version (version_id);

-- Every consent decision ever made, oldest first. Append-only: the
-- triggers below make UPDATE, DELETE and REPLACE fail, so that no version
-- of ksn, and no bug in one, can rewrite the history of what the user
-- accepted and when. (They guard against mistakes, not against someone
-- who can write the file: DROP TRIGGER is one statement away.)
CREATE TABLE decisions (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
    at               BIGINT  NOT NULL,                   -- Unix seconds, UTC
    accepted         INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    level            TEXT    NOT NULL CHECK (level IN ('', 'basic', 'extended')),
    statement_id     TEXT    NOT NULL,
    statement_sha256 TEXT    NOT NULL,
    via              TEXT    NOT NULL,                   -- terminal, flag
    version          TEXT    NOT NULL,                   -- ksn version that recorded it
    CHECK (accepted = 0 OR (level <> '' AND statement_id <> '' AND length(statement_sha256) = 64))
);

-- +goose StatementBegin
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only');
END;
-- +goose StatementEnd

-- INSERT OR REPLACE (and REPLACE) would delete the row it replaces without
-- firing the DELETE trigger (recursive_triggers is off by default).
-- +goose StatementBegin
CREATE TRIGGER decisions_no_replace BEFORE INSERT ON decisions
WHEN EXISTS (SELECT 1 FROM decisions WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only');
END;
-- +goose StatementEnd

-- Records that would be sent to the network, kept until they are sent,
-- cleared, dropped as too old, or evicted because the outbox is full.
-- seq is the arrival order (the rowid): it breaks ties between records
-- created in the same nanosecond, so "oldest first" is one fixed order.
-- The columns have no CHECK constraints: Go validates every record before
-- it is inserted, and CHECKs made appending 20,000 records a third slower.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    id         BLOB    NOT NULL UNIQUE,  -- the record's random 128-bit id, 16 bytes
    kind       TEXT    NOT NULL,         -- file, url, system
    created_at BIGINT  NOT NULL,         -- Unix nanoseconds, UTC
    body       BLOB    NOT NULL          -- compact JSON object, exactly what would be sent
);

-- Oldest first (created_at, then seq: an index entry carries the rowid).
CREATE INDEX outbox_created ON outbox (created_at);

-- Counters and small facts, one row each.
--   dropped_full          records evicted because the outbox was full, ever
--   dropped_age           records dropped because they were too old, ever
--   last_system_record_at Unix nanoseconds of the last system record appended; 0: never
CREATE TABLE meta (
    key   TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
) WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES
    ('dropped_full', 0),
    ('dropped_age', 0),
    ('last_system_record_at', 0);

-- +goose Down
DROP TABLE meta;
DROP INDEX outbox_created;
DROP TABLE outbox;
DROP TRIGGER decisions_no_replace;
DROP TRIGGER decisions_no_delete;
DROP TRIGGER decisions_no_update;
DROP TABLE decisions;
DROP INDEX goose_db_version_once;
PRAGMA application_id = 0;
