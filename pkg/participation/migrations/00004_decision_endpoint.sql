-- The reputation server an acceptance was given for: the endpoint setting
-- in force when the user accepted ('' when none was set). Consent covers
-- the server whose statement the user read; records go to another only
-- after the user accepts again (participation.Evaluate, reason
-- "endpoint-changed"). NULL for acceptances recorded before this column:
-- they were not bound to a server, and stay as they were.
--
-- Like every migration, this one runs in a transaction (see 00001).

-- +goose Up
ALTER TABLE decisions ADD COLUMN endpoint TEXT;

-- +goose Down
ALTER TABLE decisions DROP COLUMN endpoint;
