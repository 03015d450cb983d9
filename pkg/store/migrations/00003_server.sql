-- Tables of the reputation server (`ksn serve`, `ksn admin`). A client's
-- local database gets them too and leaves them empty: one schema for both
-- keeps the migrations linear and lets an operator point `ksn feed import
-- --db` at the server's database.

-- +goose Up

-- License keys. Only the SHA-256 of a key is stored, so a copy of the
-- database does not hand out working keys; the key itself is shown once,
-- when `ksn admin license create` makes it.
CREATE TABLE licenses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: logs name licenses by id
    key_sha256  BLOB    NOT NULL UNIQUE,
    label       TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT,                             -- NULL: never expires
    revoked_at  BIGINT                              -- NULL: not denylisted; a revocation is final
);

-- Submitted records, keyed by the client's random 128-bit id so that a
-- batch sent again after a failure stores nothing twice. No license id and
-- no address: submissions are not linked to who sent them.
CREATE TABLE submissions (
    id          BLOB    NOT NULL PRIMARY KEY,       -- 16 bytes
    kind        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,                   -- when the client collected it
    received_at BIGINT  NOT NULL,
    body        BLOB    NOT NULL                    -- the record's JSON object (plaintext for now)
) WITHOUT ROWID;

-- Operator switches that every replica of the server reads from the
-- database: the statement text, the file-reputation restriction.
CREATE TABLE server_settings (
    name        TEXT    NOT NULL PRIMARY KEY,
    value       TEXT    NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE server_settings;
DROP TABLE submissions;
DROP TABLE licenses;
