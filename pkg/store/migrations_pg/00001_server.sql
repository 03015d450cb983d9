-- Schema of the reputation server's database on PostgreSQL: the same
-- tables, columns and keys as the SQLite migrations (../migrations) leave a
-- server database with, in PostgreSQL's types (BLOB -> BYTEA, AUTOINCREMENT
-- -> identity, REAL -> DOUBLE PRECISION; WITHOUT ROWID has no equivalent).
-- Times are BIGINT Unix seconds, UTC; digests are raw bytes. The client's
-- network cache is not here: a server has none.
--
-- Migrations run under goose's session lock (an advisory lock), so that
-- replicas starting at the same moment apply each one exactly once.

-- +goose Up

CREATE TABLE imports (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    added       BIGINT  NOT NULL DEFAULT 0,
    updated     BIGINT  NOT NULL DEFAULT 0,
    unchanged   BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE file_indicators (
    algorithm   TEXT    NOT NULL,
    digest      BYTEA   NOT NULL,
    source      TEXT    NOT NULL,
    size        BIGINT  NOT NULL DEFAULT -1,
    verdict     TEXT    NOT NULL CHECK (verdict IN ('malicious', 'suspicious', 'clean', 'unknown')),
    threat_name TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL DEFAULT '',
    first_seen  BIGINT,
    added_at    BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL,
    import_id   BIGINT,
    PRIMARY KEY (algorithm, digest, source)
);

CREATE TABLE url_indicators (
    hash        BYTEA   NOT NULL,
    source      TEXT    NOT NULL,
    expression  TEXT    NOT NULL,
    verdict     TEXT    NOT NULL CHECK (verdict IN ('malicious', 'suspicious', 'clean', 'unknown')),
    threat_name TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL DEFAULT '',
    first_seen  BIGINT,
    added_at    BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL,
    import_id   BIGINT,
    PRIMARY KEY (hash, source)
);

CREATE TABLE licenses (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_sha256  BYTEA   NOT NULL UNIQUE,
    label       TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);

CREATE TABLE server_settings (
    name        TEXT    NOT NULL PRIMARY KEY,
    value       TEXT    NOT NULL
);

CREATE TABLE submission_keys (
    half_year   TEXT    NOT NULL PRIMARY KEY,
    wrapped     BYTEA   NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE sealed_submissions (
    id          BYTEA   NOT NULL PRIMARY KEY,
    half_year   TEXT    NOT NULL,
    sealed      BYTEA   NOT NULL
);
CREATE INDEX sealed_submissions_half_year ON sealed_submissions (half_year);

CREATE TABLE submission_participants (
    half_year   TEXT    NOT NULL,
    seen        BYTEA   NOT NULL,
    PRIMARY KEY (half_year, seen)
);

CREATE TABLE purged_half_years (
    half_year        TEXT    NOT NULL PRIMARY KEY,
    purged_at        BIGINT  NOT NULL,
    records          BIGINT  NOT NULL,
    participant_rows BIGINT  NOT NULL
);

CREATE TABLE object_stats (
    kind          TEXT    NOT NULL,
    object        BYTEA   NOT NULL,
    participants  BIGINT  NOT NULL,
    reports       BIGINT  NOT NULL,
    first_day     BIGINT  NOT NULL,
    last_day      BIGINT  NOT NULL,
    PRIMARY KEY (kind, object)
);

CREATE TABLE daily_counts (
    day         TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    records     BIGINT  NOT NULL,
    PRIMARY KEY (day, kind)
);

CREATE TABLE scan_time_classes (
    size_class  TEXT    NOT NULL PRIMARY KEY,
    records     BIGINT  NOT NULL,
    total_ms    DOUBLE PRECISION NOT NULL
);
CREATE TABLE scan_time_buckets (
    size_class  TEXT    NOT NULL,
    bucket      INTEGER NOT NULL,
    records     BIGINT  NOT NULL,
    PRIMARY KEY (size_class, bucket)
);

CREATE TABLE system_counts (
    os          TEXT    NOT NULL,
    arch        TEXT    NOT NULL,
    os_version  TEXT    NOT NULL,
    ksn_version TEXT    NOT NULL,
    cpus        TEXT    NOT NULL,
    memory      TEXT    NOT NULL,
    records     BIGINT  NOT NULL,
    PRIMARY KEY (os, arch, os_version, ksn_version, cpus, memory)
);

-- The built-in baseline, as the SQLite migrations leave it (00002, 00006,
-- 00007): the EICAR test file and the empty file by SHA-256, and the Safe
-- Browsing test links.
INSERT INTO file_indicators
    (algorithm, digest, source, size, verdict, threat_name, category, first_seen, added_at, last_seen, import_id)
VALUES
    ('sha256', '\x275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
     'baseline', 68, 'malicious', 'EICAR-Test-File', 'test', NULL, extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint, NULL),
    ('sha256', '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
     'baseline', 0, 'clean', '', 'known-good', NULL, extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint, NULL);

INSERT INTO url_indicators (hash, source, expression, verdict, threat_name, category, first_seen, added_at, last_seen, import_id)
SELECT decode(h, 'hex'), 'baseline', e, v, t, 'test', NULL, extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint, NULL
FROM (VALUES
    ('518640453f8b2a5f0d43bc225152f49530be2a40bfe2bab60aaaee7a67b10890', 'malware.testing.google.test/testing/malware/', 'malicious', 'SafeBrowsing-Test-Malware'),
    ('5b0b89750c78f233fee25c6be32d928fcd805a8c5455c2110d29353c2f517fee', 'testsafebrowsing.appspot.com/s/malware.html', 'malicious', 'SafeBrowsing-Test-Malware'),
    ('efbd4c3ab44f327eb13ca942ad7c7f0ab47ec260a4d0b8051684a01b2ef35220', 'testsafebrowsing.appspot.com/s/phishing.html', 'malicious', 'SafeBrowsing-Test-Phishing'),
    ('2ff4daef217fd40017d7eabc506029e73e12eb9409c98626d9c6f20af466cc4b', 'testsafebrowsing.appspot.com/s/unwanted.html', 'suspicious', 'SafeBrowsing-Test-Unwanted'),
    ('319e9c37816bbe91a683538be7486ce8c4d9aa6b2d0023d5e09499571fd268d9', 'testsafebrowsing.appspot.com/s/image_small.png', 'malicious', 'SafeBrowsing-Test-Malware'),
    ('138c5ee2b9d1af8aa3a03c8a5f67b799779f0f876940bf4dd51f3c2588e85a91', 'testsafebrowsing.appspot.com/s/bad_css.css', 'malicious', 'SafeBrowsing-Test-Malware'),
    ('cb268d03476fbeada8c23cad815a0e93fec15a891fe456db877baf2de2e9523c', 'testsafebrowsing.appspot.com/s/bad_javascript.js', 'malicious', 'SafeBrowsing-Test-Malware'),
    ('fe97b628d11cef347b257b972ec96fa6933c0c5b2d8d0ba4e38d54ee6b8b122d', 'testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/MALWARE/URL/', 'malicious', 'SafeBrowsing-Test-Malware'),
    ('f72723d2b4926d85142f100e01bb95760b2ba72a09cf2b391a7aced239fe6124', 'testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/SOCIAL_ENGINEERING/URL/', 'malicious', 'SafeBrowsing-Test-Phishing'),
    ('3cb5047cd0a1fd09cbd82914cdb91c71b7cfd4151c085aca098b49bd8aa73cf4', 'testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/UNWANTED_SOFTWARE/URL/', 'suspicious', 'SafeBrowsing-Test-Unwanted')
) AS b(h, e, v, t);

-- +goose Down
DROP TABLE system_counts;
DROP TABLE scan_time_buckets;
DROP TABLE scan_time_classes;
DROP TABLE daily_counts;
DROP TABLE object_stats;
DROP TABLE purged_half_years;
DROP TABLE submission_participants;
DROP TABLE sealed_submissions;
DROP TABLE submission_keys;
DROP TABLE server_settings;
DROP TABLE licenses;
DROP TABLE url_indicators;
DROP TABLE file_indicators;
DROP TABLE imports;
