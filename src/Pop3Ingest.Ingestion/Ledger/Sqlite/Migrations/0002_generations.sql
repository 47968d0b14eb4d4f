-- Generations (src/README.md, "Guarantees in the code"): a UIDL names a message only while the message is on the server, so a UIDL
-- listed again with other content after its message was deleted is a new message with a row of its own. The key
-- becomes (account, UIDL, generation); list_size keeps the size LIST announced when the row was written (size is
-- overwritten with the stored size), so that a listing announcing another size is checked by content before DELE.
-- Rows that are still waiting for their download hold the LIST size in size; for the others it is unknown.
CREATE TABLE messages_v2 (
    account     TEXT    NOT NULL,
    uidl        TEXT    NOT NULL,
    generation  INTEGER NOT NULL DEFAULT 0,
    blob_name   TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    size        INTEGER NULL,
    list_size   INTEGER NULL,
    sha256      TEXT    NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NULL,
    stored_at   INTEGER NULL,
    notified_at INTEGER NULL,
    deleted_at  INTEGER NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account, uidl, generation)
) WITHOUT ROWID;

INSERT INTO messages_v2 (account, uidl, generation, blob_name, state, first_seen, size, list_size, sha256, attempts, last_error,
                         stored_at, notified_at, deleted_at, updated_at)
SELECT account, uidl, 0, blob_name, state, first_seen, size,
       CASE WHEN state IN ('Pending', 'Quarantined', 'Oversize') THEN size END,
       sha256, attempts, last_error, stored_at, notified_at, deleted_at, updated_at
FROM messages;

DROP TABLE messages;
ALTER TABLE messages_v2 RENAME TO messages;
CREATE INDEX ix_messages_state ON messages (state, deleted_at);
CREATE UNIQUE INDEX ux_messages_blob ON messages (blob_name);
