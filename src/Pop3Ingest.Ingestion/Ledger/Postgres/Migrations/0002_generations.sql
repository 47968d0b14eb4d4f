-- Generations (src/README.md, "Guarantees in the code"): a UIDL names a message only while the message is on the server, so a UIDL
-- listed again with other content after its message was deleted is a new message with a row of its own. The key
-- becomes (account, UIDL, generation); list_size keeps the size LIST announced when the row was written (size is
-- overwritten with the stored size), so that a listing announcing another size is checked by content before DELE.
-- Rows that are still waiting for their download hold the LIST size in size; for the others it is unknown.
ALTER TABLE pop3ingest_messages ADD COLUMN generation integer NOT NULL DEFAULT 0;
ALTER TABLE pop3ingest_messages ADD COLUMN list_size bigint NULL;
UPDATE pop3ingest_messages SET list_size = size WHERE state IN ('Pending', 'Quarantined', 'Oversize');
ALTER TABLE pop3ingest_messages DROP CONSTRAINT pk_pop3ingest_messages;
ALTER TABLE pop3ingest_messages ADD CONSTRAINT pk_pop3ingest_messages PRIMARY KEY (account, uidl, generation);
