-- The client's cache of network verdicts, keyed by the file's SHA-256
-- (which every check computes). Rows past expires_at are ignored and
-- replaced; the cache is never a source of truth, so losing it is harmless.

-- +goose Up
CREATE TABLE network_cache (
    sha256      BLOB    PRIMARY KEY,
    result      TEXT    NOT NULL,   -- the server's api.FileResult as JSON
    expires_at  BIGINT  NOT NULL    -- Unix seconds
) WITHOUT ROWID;

-- +goose Down
DROP TABLE network_cache;
