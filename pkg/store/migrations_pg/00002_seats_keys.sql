-- Issue 14 on PostgreSQL, as the SQLite migration 00008 has it: license
-- seats, keyed digests of sealed records, and data keys outside the
-- database.
--
-- Seats: per half-year, a license's first `seats` distinct participant
-- codes count as participants; further codes' records are stored and
-- counted as reports only. license_seats and seated_codes hold keyed
-- hashes under a key derived from the half-year's data key, are deleted
-- with the half-year, and name neither a license, a code nor an object.

-- +goose Up

CREATE TABLE license_seats (
    half_year   TEXT    NOT NULL,
    license     BYTEA   NOT NULL,                   -- 16 bytes: HMAC(seat key, license id)
    used        INTEGER NOT NULL,                   -- codes admitted so far
    PRIMARY KEY (half_year, license)
);

CREATE TABLE seated_codes (
    half_year   TEXT    NOT NULL,
    code        BYTEA   NOT NULL,                   -- 16 bytes: HMAC(seat key, license id, participant code)
    PRIMARY KEY (half_year, code)
);

ALTER TABLE licenses ADD COLUMN seats INTEGER NOT NULL DEFAULT 1 CHECK (seats >= 1);

-- A record id sent again with another body is refused: each sealed record
-- keeps a keyed digest of what was received (16 bytes of HMAC-SHA256 under
-- a key derived from its half-year's data key). NULL for records stored
-- before, which count as duplicates, as they always did.
ALTER TABLE sealed_submissions ADD COLUMN digest BYTEA;

-- The data keys live in a key directory outside the database
-- (store.DataKeys; submission_keys is emptied into it on start). Replicas
-- must all use the same one: each half-year's row here holds the SHA-256
-- of its wrapped key as the key directory holds it, so that a replica
-- given another directory (which lacks the key, or holds another) refuses
-- to seal records the others could not open, instead of making a second
-- key. A hash of a wrapped key opens nothing; the row goes with the
-- half-year.
CREATE TABLE data_key_hashes (
    half_year       TEXT    NOT NULL PRIMARY KEY,
    wrapped_sha256  BYTEA   NOT NULL
);

-- +goose Down
DROP TABLE data_key_hashes;
ALTER TABLE sealed_submissions DROP COLUMN digest;
ALTER TABLE licenses DROP COLUMN seats;
DROP TABLE seated_codes;
DROP TABLE license_seats;
