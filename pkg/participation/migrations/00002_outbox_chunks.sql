-- The outbox stored many records per row: one row per record cost about
-- 3 µs a record to append, a fifth of a `ksn check` of 20,000 files. The
-- rows of the old table move into chunks, oldest first, and it goes.
--
-- Like every migration, this one runs in a transaction (see 00001).

-- +goose Up

-- A chunk holds up to a few thousand records, oldest first; its seq orders
-- the chunks, oldest first: every record of a chunk comes, in the order
-- (created_at, arrival), at or after every record of the chunks with a
-- smaller seq. data frames each record as
--
--     id          16 bytes, the random 128-bit id
--     kind         1 byte:  1 file, 2 url, 3 system
--     created_at   8 bytes: Unix nanoseconds (UTC), big-endian two's complement
--     body length  4 bytes, big-endian
--     body         the compact JSON object, exactly what would be sent
--
-- and the other columns summarise data (records: how many, bytes: the sum
-- of the bodies' sizes, created_min/max: the extreme creation times), so
-- that Stats, eviction and dropping old records read no data they keep.
CREATE TABLE outbox_chunks (
    seq         INTEGER PRIMARY KEY,
    created_min BIGINT  NOT NULL,
    created_max BIGINT  NOT NULL,
    records     INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    data        BLOB    NOT NULL
);

-- The existing records, 4096 a chunk. (Rows the Go code could not have
-- written, with a malformed id or an unknown kind, could not be sent
-- either: they are left behind.)
INSERT INTO outbox_chunks (seq, created_min, created_max, records, bytes, data)
SELECT (rn - 1) / 4096 + 1, min(created_at), max(created_at), count(*), sum(length(body)),
       unhex(group_concat(rec, '' ORDER BY rn))
FROM (
    SELECT row_number() OVER (ORDER BY created_at, seq) AS rn,
           created_at, CAST(body AS BLOB) AS body,
           hex(id)
           || CASE kind WHEN 'file' THEN '01' WHEN 'url' THEN '02' ELSE '03' END
           || printf('%016X', created_at)
           || printf('%08X', length(CAST(body AS BLOB)))
           || hex(body) AS rec
    FROM outbox
    WHERE length(id) = 16 AND kind IN ('file', 'url', 'system') AND typeof(body) IN ('blob', 'text')
)
GROUP BY (rn - 1) / 4096;

DROP INDEX outbox_created;
DROP TABLE outbox;

-- +goose Down
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    id         BLOB    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    body       BLOB    NOT NULL
);
CREATE INDEX outbox_created ON outbox (created_at);
DROP TABLE outbox_chunks;
