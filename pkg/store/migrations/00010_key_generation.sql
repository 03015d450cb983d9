-- Issue 19: a server answers most file lookups from memory. It keeps the
-- keys of file_indicators in a filter (keyfilter.go) and asks SQLite only
-- about digests the filter may hold. Every writer that adds indicators (an
-- import, an override) raises this number in the same transaction, so that
-- a server sees, before each lookup, whether its filter still covers the
-- table: another process's import is seen by the next lookup, not later.

-- +goose Up
CREATE TABLE key_generation (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT  NOT NULL
);
INSERT INTO key_generation (id, n) VALUES (1, 0);

-- +goose Down
DROP TABLE key_generation;
