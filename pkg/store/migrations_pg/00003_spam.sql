-- Issue 16 on PostgreSQL, as the SQLite migration 00009 has it: spam
-- records aggregate into object_stats (kinds spam_body and spam_net, under
-- the same k-participant rule as files and links), and the participants'
-- judgements of each such object are counted here, deleted with its
-- object_stats row by the foreign key.

-- +goose Up
CREATE TABLE spam_judgements (
    kind        TEXT    NOT NULL,
    object      BYTEA   NOT NULL,
    spam        BIGINT  NOT NULL,
    ham         BIGINT  NOT NULL,
    PRIMARY KEY (kind, object),
    FOREIGN KEY (kind, object) REFERENCES object_stats (kind, object) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE spam_judgements;
