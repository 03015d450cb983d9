-- The built-in baseline: the industry test objects, so that a fresh install
-- detects them offline. Keyed by BLAKE3 and SHA-256 only, the digests ksn
-- computes by default (Algorithms() decides what a check hashes).
--
-- EICAR anti-malware test file (68 bytes), and the empty file, which is
-- known good (it is in every known-good set, NSRL included) and lets a fresh
-- install show all three kinds of answer.

-- +goose Up
INSERT INTO file_indicators
    (algorithm, digest, source, size, verdict, threat_name, category, first_seen, added_at, last_seen, import_id)
VALUES
    ('blake3', X'460c1ec9a3e1b5536927aac78cee9c39782626d30f0ae0917ce95dda77068e09',
     'baseline', 68, 'malicious', 'EICAR-Test-File', 'test', NULL, unixepoch(), unixepoch(), NULL),
    ('sha256', X'275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
     'baseline', 68, 'malicious', 'EICAR-Test-File', 'test', NULL, unixepoch(), unixepoch(), NULL),
    ('blake3', X'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
     'baseline', 0, 'clean', '', 'known-good', NULL, unixepoch(), unixepoch(), NULL),
    ('sha256', X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
     'baseline', 0, 'clean', '', 'known-good', NULL, unixepoch(), unixepoch(), NULL);

-- +goose Down
DELETE FROM file_indicators WHERE source = 'baseline';
