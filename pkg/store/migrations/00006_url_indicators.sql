-- Link reputation (DESIGN §4). A link is never stored: an indicator is
-- keyed by the SHA-256 of one Safe Browsing expression (canonical host and
-- path, no scheme: "evil.example/dl/x.exe"), and a link matches when one
-- of its expressions hashes to it. The expression text is kept beside the
-- hash for `ksn url --explain` and the operator; it is feed data, never a
-- user's link.

-- +goose Up
CREATE TABLE url_indicators (
    hash        BLOB    NOT NULL,               -- SHA-256 of expression, 32 bytes
    source      TEXT    NOT NULL,               -- feed name, "baseline" or "override"
    expression  TEXT    NOT NULL,
    verdict     TEXT    NOT NULL CHECK (verdict IN ('malicious', 'suspicious', 'clean', 'unknown')),
    threat_name TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL DEFAULT '',
    first_seen  BIGINT,                         -- as the source states it; NULL when it does not
    added_at    BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL,
    import_id   BIGINT,                         -- imports.id; NULL for baseline and override
    PRIMARY KEY (hash, source)
) WITHOUT ROWID;

-- The baseline: the test links browsers and Safe Browsing clients use, so
-- that a fresh install detects them offline.
INSERT INTO url_indicators (hash, source, expression, verdict, threat_name, category, first_seen, added_at, last_seen, import_id) VALUES
    (X'518640453f8b2a5f0d43bc225152f49530be2a40bfe2bab60aaaee7a67b10890', 'baseline', 'malware.testing.google.test/testing/malware/',
     'malicious', 'SafeBrowsing-Test-Malware', 'test', NULL, unixepoch(), unixepoch(), NULL),
    (X'5b0b89750c78f233fee25c6be32d928fcd805a8c5455c2110d29353c2f517fee', 'baseline', 'testsafebrowsing.appspot.com/s/malware.html',
     'malicious', 'SafeBrowsing-Test-Malware', 'test', NULL, unixepoch(), unixepoch(), NULL),
    (X'efbd4c3ab44f327eb13ca942ad7c7f0ab47ec260a4d0b8051684a01b2ef35220', 'baseline', 'testsafebrowsing.appspot.com/s/phishing.html',
     'malicious', 'SafeBrowsing-Test-Phishing', 'test', NULL, unixepoch(), unixepoch(), NULL),
    (X'2ff4daef217fd40017d7eabc506029e73e12eb9409c98626d9c6f20af466cc4b', 'baseline', 'testsafebrowsing.appspot.com/s/unwanted.html',
     'suspicious', 'SafeBrowsing-Test-Unwanted', 'test', NULL, unixepoch(), unixepoch(), NULL),
    (X'319e9c37816bbe91a683538be7486ce8c4d9aa6b2d0023d5e09499571fd268d9', 'baseline', 'testsafebrowsing.appspot.com/s/image_small.png',
     'malicious', 'SafeBrowsing-Test-Malware', 'test', NULL, unixepoch(), unixepoch(), NULL),
    (X'138c5ee2b9d1af8aa3a03c8a5f67b799779f0f876940bf4dd51f3c2588e85a91', 'baseline', 'testsafebrowsing.appspot.com/s/bad_css.css',
     'malicious', 'SafeBrowsing-Test-Malware', 'test', NULL, unixepoch(), unixepoch(), NULL),
    (X'cb268d03476fbeada8c23cad815a0e93fec15a891fe456db877baf2de2e9523c', 'baseline', 'testsafebrowsing.appspot.com/s/bad_javascript.js',
     'malicious', 'SafeBrowsing-Test-Malware', 'test', NULL, unixepoch(), unixepoch(), NULL),
    (X'fe97b628d11cef347b257b972ec96fa6933c0c5b2d8d0ba4e38d54ee6b8b122d', 'baseline', 'testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/MALWARE/URL/',
     'malicious', 'SafeBrowsing-Test-Malware', 'test', NULL, unixepoch(), unixepoch(), NULL),
    (X'f72723d2b4926d85142f100e01bb95760b2ba72a09cf2b391a7aced239fe6124', 'baseline', 'testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/SOCIAL_ENGINEERING/URL/',
     'malicious', 'SafeBrowsing-Test-Phishing', 'test', NULL, unixepoch(), unixepoch(), NULL),
    (X'3cb5047cd0a1fd09cbd82914cdb91c71b7cfd4151c085aca098b49bd8aa73cf4', 'baseline', 'testsafebrowsing.appspot.com/apiv4/ANY_PLATFORM/UNWANTED_SOFTWARE/URL/',
     'suspicious', 'SafeBrowsing-Test-Unwanted', 'test', NULL, unixepoch(), unixepoch(), NULL);

-- +goose Down
DROP TABLE url_indicators;
