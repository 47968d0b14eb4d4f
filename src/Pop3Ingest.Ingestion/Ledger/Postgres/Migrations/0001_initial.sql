-- The ledger on PostgreSQL: one row per (account, UIDL), the same states and rules as the SQLite ledger.
-- The UIDL is bytea (its bytes, each a Latin-1 code point in LedgerRow.Uidl): text cannot hold a NUL byte,
-- and RFC 1939 §7 allows any printable octet, so nothing from a server is ever turned away.
-- Times are Unix milliseconds (UTC), as in SQLite, so an export moves between providers unchanged.
CREATE TABLE pop3ingest_messages (
    account     text     NOT NULL,
    uidl        bytea    NOT NULL,
    blob_name   text     NOT NULL,
    state       text     NOT NULL,
    first_seen  bigint   NOT NULL,
    size        bigint   NULL,
    sha256      text     NULL,
    attempts    integer  NOT NULL DEFAULT 0,
    last_error  text     NULL,
    stored_at   bigint   NULL,
    notified_at bigint   NULL,
    deleted_at  bigint   NULL,
    updated_at  bigint   NOT NULL,
    CONSTRAINT pk_pop3ingest_messages PRIMARY KEY (account, uidl),
    CONSTRAINT ck_pop3ingest_messages_state CHECK (state IN ('Pending','Stored','Notified','Deleted','Quarantined','Seeded','Oversize'))
);

CREATE INDEX ix_pop3ingest_messages_state ON pop3ingest_messages (state, deleted_at);
CREATE UNIQUE INDEX ux_pop3ingest_messages_blob ON pop3ingest_messages (blob_name);
