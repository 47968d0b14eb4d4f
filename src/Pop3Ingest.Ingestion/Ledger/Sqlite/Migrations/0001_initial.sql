-- The ledger: one row per (account, UIDL). Times are Unix milliseconds (UTC).
CREATE TABLE messages (
    account     TEXT    NOT NULL,
    uidl        TEXT    NOT NULL,
    blob_name   TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    size        INTEGER NULL,
    sha256      TEXT    NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NULL,
    stored_at   INTEGER NULL,
    notified_at INTEGER NULL,
    deleted_at  INTEGER NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account, uidl)
) WITHOUT ROWID;

CREATE INDEX ix_messages_state ON messages (state, deleted_at);
CREATE UNIQUE INDEX ux_messages_blob ON messages (blob_name);
