-- The participant secret: 32 random bytes, created when a first batch is
-- sent, that never leave this installation. Each submission batch carries
-- the installation's code for the UTC half-year of sending, the first 16
-- bytes of HMAC-SHA256(secret, "ksn-participant:" || "2026H2"), so that the
-- network can count distinct participants within a half-year while codes
-- of different half-years cannot be linked.
--
-- Like every migration, this one runs in a transaction (see 00001).

-- +goose Up
CREATE TABLE participant_secret (
    id          INTEGER PRIMARY KEY CHECK (id = 1),   -- one row at most
    secret      BLOB    NOT NULL CHECK (length(secret) = 32),
    created_at  BIGINT  NOT NULL                      -- Unix seconds, UTC
);

-- +goose Down
DROP TABLE participant_secret;
