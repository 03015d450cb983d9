-- Retention of what participants submit (DESIGN §6): the original records
-- are kept only sealed (AES-256-GCM) under a data key of the UTC half-year
-- they were received in; data keys are stored only wrapped by the server's
-- key-encryption key (KEK), which lives in a file and never here. When a
-- half-year is over (plus a grace period) its data key and its rows are
-- deleted ("cleared twice a year"). Aggregate statistics are updated at
-- ingest and kept: they hold no record, no participant code, no license.
--
-- Like every migration, this one runs in a transaction (see 00001).

-- +goose Up

-- The plaintext submissions of earlier versions go, overwritten on disk
-- (secure_delete zeroes the pages DROP TABLE frees): the statement
-- promises that originals are kept only encrypted, and without the KEK
-- they cannot be sealed here. (They were never counted in aggregates,
-- which did not exist.) IF EXISTS: a process that lost the race to apply
-- this migration must fail on the CREATE TABLE below, which sqlitedb
-- recognises, not here.
PRAGMA secure_delete = ON;
DROP TABLE IF EXISTS submissions;

-- One data key per half-year ("2026H1": January to June, UTC), created
-- with the first record received in it, wrapped by the KEK with the
-- half-year as additional data. Deleting the row destroys the key.
CREATE TABLE submission_keys (
    half_year   TEXT    NOT NULL PRIMARY KEY,
    wrapped     BLOB    NOT NULL,                   -- nonce || AES-GCM(KEK, data key)
    created_at  BIGINT  NOT NULL
) WITHOUT ROWID;

-- The original records, sealed. Keyed by the client's random 128-bit id,
-- so that a batch sent again stores nothing twice (for as long as the
-- half-year's rows exist). Kind, times and body are all inside the sealed
-- value: nothing of a record is in clear but its id.
CREATE TABLE sealed_submissions (
    id          BLOB    NOT NULL PRIMARY KEY,       -- 16 bytes
    half_year   TEXT    NOT NULL,                   -- of its receipt: the key that sealed it
    sealed      BLOB    NOT NULL                    -- nonce || AES-GCM(data key, record JSON), AAD id || half_year
) WITHOUT ROWID;
CREATE INDEX sealed_submissions_half_year ON sealed_submissions (half_year);

-- Which participant reported which object in a half-year, for counting
-- distinct participants, as one keyed hash per (participant, object):
-- HMAC-SHA256 under a key derived from the half-year's data key, of the
-- participant code and the object. Rows cannot be grouped by participant,
-- and without the KEK not even a known code can be looked for. Deleted
-- with the half-year.
CREATE TABLE submission_participants (
    half_year   TEXT    NOT NULL,
    seen        BLOB    NOT NULL,                   -- 16 bytes
    PRIMARY KEY (half_year, seen)
) WITHOUT ROWID;

-- The half-years whose key and rows were destroyed, and how many.
CREATE TABLE purged_half_years (
    half_year        TEXT    NOT NULL PRIMARY KEY,
    purged_at        BIGINT  NOT NULL,
    records          BIGINT  NOT NULL,
    participant_rows BIGINT  NOT NULL
) WITHOUT ROWID;

-- Aggregates, kept forever.

-- Per reported object: kind 'file' (object: the SHA-256 digest) or 'url'
-- (object: SHA-256 of the redacted URL's host and path, "host/path", the
-- form of a Safe Browsing expression). participants counts distinct
-- participants per half-year, summed over half-years: one installation
-- reporting a file in two half-years counts twice. Days, not seconds: a
-- time to the second could be matched with request logs.
CREATE TABLE object_stats (
    kind          TEXT    NOT NULL,
    object        BLOB    NOT NULL,                 -- 32 bytes
    participants  BIGINT  NOT NULL,
    reports       BIGINT  NOT NULL,                 -- records received
    first_day     BIGINT  NOT NULL,                 -- Unix seconds of 00:00 UTC of the day first received
    last_day      BIGINT  NOT NULL,
    PRIMARY KEY (kind, object)
) WITHOUT ROWID;

-- Records received per UTC day and kind.
CREATE TABLE daily_counts (
    day         TEXT    NOT NULL,                   -- YYYY-MM-DD
    kind        TEXT    NOT NULL,
    records     BIGINT  NOT NULL,
    PRIMARY KEY (day, kind)
) WITHOUT ROWID;

-- Time spent hashing and checking, per size class of file ('<64KiB',
-- '<1MiB', '<16MiB', '<256MiB', '>=256MiB') or 'url' for links: the count
-- and the sum (for the mean) here, and a fixed log-scale histogram below
-- (bucket 0: under 1 µs; bucket b > 0: from 0.001 ms × 2^((b-1)/4) up to
-- the next bucket's start), from which percentiles are estimated within
-- about 10%.
CREATE TABLE scan_time_classes (
    size_class  TEXT    NOT NULL PRIMARY KEY,
    records     BIGINT  NOT NULL,
    total_ms    REAL    NOT NULL
) WITHOUT ROWID;
CREATE TABLE scan_time_buckets (
    size_class  TEXT    NOT NULL,
    bucket      INTEGER NOT NULL,
    records     BIGINT  NOT NULL,
    PRIMARY KEY (size_class, bucket)
) WITHOUT ROWID;

-- System records per configuration: the OS version cut to its first two
-- numbers ("6.8"), CPUs and memory in classes, so that no build string
-- or exact machine size is kept.
CREATE TABLE system_counts (
    os          TEXT    NOT NULL,
    arch        TEXT    NOT NULL,
    os_version  TEXT    NOT NULL,
    ksn_version TEXT    NOT NULL,
    cpus        TEXT    NOT NULL,
    memory      TEXT    NOT NULL,
    records     BIGINT  NOT NULL,
    PRIMARY KEY (os, arch, os_version, ksn_version, cpus, memory)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE system_counts;
DROP TABLE scan_time_buckets;
DROP TABLE scan_time_classes;
DROP TABLE daily_counts;
DROP TABLE object_stats;
DROP TABLE purged_half_years;
DROP TABLE submission_participants;
DROP INDEX sealed_submissions_half_year;
DROP TABLE sealed_submissions;
DROP TABLE submission_keys;
CREATE TABLE submissions (
    id          BLOB    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    received_at BIGINT  NOT NULL,
    body        BLOB    NOT NULL
) WITHOUT ROWID;
