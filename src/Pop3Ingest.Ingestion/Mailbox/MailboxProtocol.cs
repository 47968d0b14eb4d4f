namespace Pop3Ingest.Ingestion.Mailbox;

/// <summary>The values of an account's <c>Protocol</c>: which mailbox session the account speaks.</summary>
public enum MailboxProtocol
{
    /// <summary>POP3 (RFC 1939), the default.</summary>
    Pop3,

    /// <summary>The Post Office Protocol of RFC 918 (1984): one transaction over a whole named mailbox.</summary>
    Pop1,
}
