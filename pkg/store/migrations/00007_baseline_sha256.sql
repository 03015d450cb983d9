-- The baseline keys its test files by SHA-256 alone, which every check
-- computes. Its BLAKE3 rows made BLAKE3 an algorithm the database "holds
-- indicators for", so that every lookup also searched every file's BLAKE3
-- digest, half the cost of a lookup, for two entries that SHA-256 already
-- finds. A feed or override keyed by BLAKE3 brings those lookups back.

-- +goose Up
DELETE FROM file_indicators WHERE source = 'baseline' AND algorithm = 'blake3';

-- +goose Down
INSERT INTO file_indicators
    (algorithm, digest, source, size, verdict, threat_name, category, first_seen, added_at, last_seen, import_id)
VALUES
    ('blake3', X'460c1ec9a3e1b5536927aac78cee9c39782626d30f0ae0917ce95dda77068e09',
     'baseline', 68, 'malicious', 'EICAR-Test-File', 'test', NULL, unixepoch(), unixepoch(), NULL),
    ('blake3', X'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
     'baseline', 0, 'clean', '', 'known-good', NULL, unixepoch(), unixepoch(), NULL);
