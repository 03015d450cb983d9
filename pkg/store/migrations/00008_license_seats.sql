-- Issue 14, what a participant cannot do to the network.
--
-- Seats: one license sending under many made-up participant
-- codes must not raise prevalence. A license has a number of seats; in
-- each half-year, its first `seats` distinct participant codes are
-- counted as participants, and any further code's records are stored and
-- counted as reports but not as participants.
--
-- Both tables are keyed hashes under a key derived from the half-year's
-- data key, and are deleted with the half-year (like
-- submission_participants): without that key a row names neither a license
-- nor a code, and the two tables cannot be joined. seated_codes holds one
-- HMAC of (license, code) per admitted code, so that a code seen before is
-- recognised; license_seats counts the codes admitted per license, under
-- an HMAC of the license id. Neither holds a license id, a code, or an
-- object: which license reported what stays unrecorded.

-- +goose Up

-- CREATE TABLE first: a process that lost the race to apply this
-- migration fails here, which sqlitedb recognises, and not on the ALTER.
CREATE TABLE license_seats (
    half_year   TEXT    NOT NULL,
    license     BLOB    NOT NULL,                   -- 16 bytes: HMAC(seat key, license id)
    used        INTEGER NOT NULL,                   -- codes admitted so far
    PRIMARY KEY (half_year, license)
) WITHOUT ROWID;

CREATE TABLE seated_codes (
    half_year   TEXT    NOT NULL,
    code        BLOB    NOT NULL,                   -- 16 bytes: HMAC(seat key, license id, participant code)
    PRIMARY KEY (half_year, code)
) WITHOUT ROWID;

-- Existing licenses get one seat, the default: an operator gives a team's
-- license more with `ksn admin license seats`.
ALTER TABLE licenses ADD COLUMN seats INTEGER NOT NULL DEFAULT 1 CHECK (seats >= 1);

-- A record id sent again with another body is refused, not counted as a
-- duplicate (the Idempotency-Key draft's rule): each sealed record keeps a
-- keyed digest of what was received (16 bytes of HMAC-SHA256 under a key
-- derived from its half-year's data key, so it is shredded with it), to
-- compare without opening the record. NULL for records stored before:
-- those are taken as duplicates, as they always were.
ALTER TABLE sealed_submissions ADD COLUMN digest BLOB;

-- +goose Down
ALTER TABLE sealed_submissions DROP COLUMN digest;
ALTER TABLE licenses DROP COLUMN seats;
DROP TABLE seated_codes;
DROP TABLE license_seats;
