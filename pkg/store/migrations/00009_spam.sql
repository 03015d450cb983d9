-- Issue 16: the spam statistics the statement names ("checksums of
-- scanned messages, pictures and attachments; senders' IP addresses").
-- A "spam" record is sealed like every other; its aggregates are rows of
-- object_stats of two more kinds, so that they follow the k-participant
-- rule of every per-object aggregate (participants counted once per
-- half-year through submission_participants, rows of fewer than
-- --min-prevalence participants purged with their half-year):
--
--   spam_body: object = SHA-256 of the message's normalised body
--   spam_net:  object = the sender network, a /24 (IPv4) or /48 (IPv6):
--              16 bytes of the address (IPv4 mapped into IPv6), one byte
--              of prefix length, zeros to 32 bytes
--
-- Here, per such object, how many of its records carried a participant's
-- judgement (ksn mail report with spam or ham). A foreign key deletes the
-- row with its object_stats row, so the purge needs to know nothing of it.

-- +goose Up
CREATE TABLE spam_judgements (
    kind        TEXT    NOT NULL,
    object      BLOB    NOT NULL,
    spam        BIGINT  NOT NULL,                   -- records judged spam
    ham         BIGINT  NOT NULL,                   -- records judged not spam
    PRIMARY KEY (kind, object),
    FOREIGN KEY (kind, object) REFERENCES object_stats (kind, object) ON DELETE CASCADE
) WITHOUT ROWID;

-- +goose Down
DROP TABLE spam_judgements;
